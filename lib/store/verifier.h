// ObjectVerifier: does an open backing object match the fs-verity digest an image records?
// Uses the kernel's measurement when the object has fs-verity, else computes the digest in
// user space. Results are cached per object identity (device, inode, size, mtime, ctime), so
// re-opens cost a stat, and a changed object is checked again. Layer: store. Thread-safe.
#pragma once

#include <cstdint>
#include <mutex>
#include <tuple>
#include <map>
#include <optional>

#include "base/digest.h"

namespace cfs::store {

class ObjectVerifier {
 public:
  // True if the object open as `fd` has digest `expected`. Throws Error on I/O failure.
  bool matches(int fd, const Digest& expected);
  // The answer matches() would give from its cache alone; nullopt when it would have to
  // read the object (the slow case a caller may move to another thread).
  std::optional<bool> cached(int fd, const Digest& expected);

  // Tests only: each measurement first waits this long (a huge object, without the disk).
  void set_slow_for_test(unsigned ms) { slow_for_test_ms_ = ms; }

 private:
  unsigned slow_for_test_ms_ = 0;
  using Key = std::tuple<std::uint64_t, std::uint64_t, std::int64_t, std::int64_t, std::int64_t>;
  static Key identity(int fd);  // device, inode, size, mtime, ctime
  std::mutex mutex_;
  std::map<Key, Digest> measured_;
};

}  // namespace cfs::store
