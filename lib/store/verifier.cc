#include "store/verifier.h"

#include <sys/stat.h>

#include "base/error.h"
#include "verity/measure.h"

#include <chrono>
#include <thread>

namespace cfs::store {

ObjectVerifier::Key ObjectVerifier::identity(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) throw_errno(errno);
  return {st.st_dev, st.st_ino, st.st_size, st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec,
          st.st_ctim.tv_sec * 1000000000LL + st.st_ctim.tv_nsec};
}

std::optional<bool> ObjectVerifier::cached(int fd, const Digest& expected) {
  Key key = identity(fd);
  std::lock_guard lock(mutex_);
  auto it = measured_.find(key);
  if (it != measured_.end() && it->second.algorithm() == expected.algorithm()) return it->second == expected;
  return std::nullopt;
}

bool ObjectVerifier::matches(int fd, const Digest& expected) {
  Key key = identity(fd);
  {
    std::lock_guard lock(mutex_);
    auto it = measured_.find(key);
    if (it != measured_.end() && it->second.algorithm() == expected.algorithm()) return it->second == expected;
  }
  if (slow_for_test_ms_ > 0) std::this_thread::sleep_for(std::chrono::milliseconds(slow_for_test_ms_));
  Digest actual = verity::measure_fd(fd, expected.algorithm());
  std::lock_guard lock(mutex_);
  measured_[key] = actual;
  return actual == expected;
}

}  // namespace cfs::store
