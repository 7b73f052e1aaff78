#include "fuse/channel.h"

#include <fcntl.h>
#include <linux/fuse.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>

#include "fuse/protocol.h"

namespace cfs::fuse {

DevFuseChannel::DevFuseChannel(int fd) : fd_(fd) {
  // Non-blocking: read_request() decides when to poll and when to sleep.
  ::fcntl(fd_, F_SETFL, ::fcntl(fd_, F_GETFL) | O_NONBLOCK);
}

// Requests come in bursts (ls -l: one per file); one thread at a time keeps polling for a
// short while after a request instead of sleeping, because waking a sleeping thread (in a
// VM: an idle CPU) costs more than the request itself.
ssize_t DevFuseChannel::read_request(std::vector<char>& buf) {
  constexpr auto kSpin = std::chrono::microseconds(200);
  if (spinning_ && !spinner_.exchange(true)) {
    auto until = std::chrono::steady_clock::now() + kSpin;
    do {
      ssize_t n = ::read(fd_, buf.data(), buf.size());
      if (n >= 0 || errno != EAGAIN) {
        spinner_ = false;
        return n;
      }
    } while (std::chrono::steady_clock::now() < until && !stopping_);
    spinner_ = false;
  }
  for (;;) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, -1) < 0 && errno != EINTR) return -1;
    if (p.revents & (POLLERR | POLLHUP | POLLNVAL)) {
      errno = ENODEV;
      return -1;
    }
    ssize_t n = ::read(fd_, buf.data(), buf.size());
    if (n >= 0 || errno != EAGAIN) return n;
  }
}

void DevFuseChannel::reply(std::uint64_t unique, int error, const void* data, std::size_t size) {
  if (error != 0) size = 0;
  fuse_out_header out{};
  out.len = static_cast<std::uint32_t>(sizeof out + size);
  out.error = -error;
  out.unique = unique;
  iovec iov[2] = {{&out, sizeof out}, {const_cast<void*>(data), size}};
  // ENOENT: the request was interrupted meanwhile; nothing to do.
  ssize_t rc;
  do rc = ::writev(fd_, iov, size > 0 ? 2 : 1);
  while (rc < 0 && errno == EINTR);
}

int DevFuseChannel::open_backing(int fd) {
  BackingMap map{fd, 0, 0};
  int id = ::ioctl(fd_, kIocBackingOpen, &map);
  return id > 0 ? id : -errno;
}

void DevFuseChannel::close_backing(int id) {
  std::uint32_t raw = static_cast<std::uint32_t>(id);
  ::ioctl(fd_, kIocBackingClose, &raw);
}

}  // namespace cfs::fuse
