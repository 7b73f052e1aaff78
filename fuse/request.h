// Reading a FUSE request's argument bytes without trusting their length: every struct and
// name is taken only from within the bytes the request has. Layer: fuse (pure).
#pragma once

#include <cstddef>
#include <cstring>
#include <string_view>
#include <type_traits>

#include "base/error.h"

namespace cfs::fuse {

class ArgReader {
 public:
  ArgReader(const char* data, std::size_t size) : data_(data), size_(size) {}

  // The next sizeof(T) bytes as a T; Error(EINVAL) when the request is shorter.
  template <class T>
  T take() {
    static_assert(std::is_trivially_copyable_v<T>);
    if (size_ < sizeof(T)) throw Error(EINVAL, "FUSE request too short");
    T value;
    std::memcpy(&value, data_, sizeof(T));
    data_ += sizeof(T);
    size_ -= sizeof(T);
    return value;
  }
  // Like take(), but a shorter request fills what it has and leaves the rest zero (FUSE_INIT
  // grew over protocol versions).
  template <class T>
  T take_prefix() {
    static_assert(std::is_trivially_copyable_v<T>);
    T value{};
    std::size_t n = size_ < sizeof(T) ? size_ : sizeof(T);
    std::memcpy(&value, data_, n);
    data_ += n;
    size_ -= n;
    return value;
  }
  // A NUL-terminated name; Error(EINVAL) when no NUL ends it within the request.
  std::string_view name() {
    const void* nul = std::memchr(data_, '\0', size_);
    if (nul == nullptr) throw Error(EINVAL, "FUSE request name not terminated");
    std::string_view s(data_, static_cast<const char*>(nul) - data_);
    data_ += s.size() + 1;
    size_ -= s.size() + 1;
    return s;
  }

 private:
  const char* data_;
  std::size_t size_;
};

}  // namespace cfs::fuse
