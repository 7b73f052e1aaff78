#include "fuse/verifier.h"

#include <sys/stat.h>

#include "base/error.h"
#include "verity/measure.h"

namespace cfs::fuse {

bool ObjectVerifier::matches(int fd, const Digest& expected) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) throw_errno(errno);
  Key key{st.st_dev, st.st_ino, st.st_size,
          st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec,
          st.st_ctim.tv_sec * 1000000000LL + st.st_ctim.tv_nsec};
  {
    std::lock_guard lock(mutex_);
    if (auto it = measured_.find(key); it != measured_.end()) return it->second == expected;
  }
  Digest actual = verity::measure_fd(fd);
  std::lock_guard lock(mutex_);
  measured_[key] = actual;
  return actual == expected;
}

}  // namespace cfs::fuse
