#include "mount/loop.h"

#include <fcntl.h>
#include <linux/loop.h>
#include <sys/ioctl.h>

#include <cerrno>

#include "base/error.h"

namespace cfs::mount {

LoopDevice attach_loop(int backing_fd) {
  UniqueFd ctl(::open("/dev/loop-control", O_RDWR | O_CLOEXEC));
  if (!ctl) throw_errno(errno, "/dev/loop-control");
  // Another process may take the free device between GET_FREE and CONFIGURE: retry.
  for (int attempt = 0; attempt < 64; ++attempt) {
    int n = ::ioctl(ctl.get(), LOOP_CTL_GET_FREE);
    if (n < 0) throw_errno(errno, "LOOP_CTL_GET_FREE");
    LoopDevice dev;
    dev.path = "/dev/loop" + std::to_string(n);
    dev.fd.reset(::open(dev.path.c_str(), O_RDWR | O_CLOEXEC));
    if (!dev.fd) {
      if (errno == ENOENT) continue;
      throw_errno(errno, dev.path);
    }
    loop_config cfg{};
    cfg.fd = static_cast<unsigned>(backing_fd);
    cfg.block_size = 4096;
    cfg.info.lo_flags = LO_FLAGS_READ_ONLY | LO_FLAGS_AUTOCLEAR | LO_FLAGS_DIRECT_IO;
    if (::ioctl(dev.fd.get(), LOOP_CONFIGURE, &cfg) == 0) return dev;
    if (errno == EINVAL) {  // direct I/O is not possible on every backing file (memfd)
      cfg.info.lo_flags &= ~LO_FLAGS_DIRECT_IO;
      if (::ioctl(dev.fd.get(), LOOP_CONFIGURE, &cfg) == 0) return dev;
    }
    if (errno != EBUSY) throw_errno(errno, dev.path);
  }
  throw_errno(EBUSY, "no free loop device");
}

}  // namespace cfs::mount
