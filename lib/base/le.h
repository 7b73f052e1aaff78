// Le<T>: a little-endian integer stored as bytes (alignof 1, valid at any offset). Layer: base.
// On-disk structs are made of these, so they can be memcpy'd out of an image after a bounds
// check without casts or packing pragmas (STYLE §5).
#pragma once

#include <array>
#include <bit>
#include <concepts>
#include <cstdint>
#include <cstring>
#include <span>

#include "base/error.h"

namespace cfs {

template <std::unsigned_integral T>
constexpr T to_le(T v) noexcept {
  if constexpr (std::endian::native == std::endian::little || sizeof(T) == 1) {
    return v;
  } else if constexpr (sizeof(T) == 2) {
    return __builtin_bswap16(v);
  } else if constexpr (sizeof(T) == 4) {
    return __builtin_bswap32(v);
  } else {
    return __builtin_bswap64(v);
  }
}

template <std::unsigned_integral T>
class Le {
 public:
  constexpr Le(T v = 0) noexcept : b_(std::bit_cast<decltype(b_)>(to_le(v))) {}  // NOLINT
  constexpr operator T() const noexcept { return to_le(std::bit_cast<T>(b_)); }   // NOLINT

 private:
  std::array<std::uint8_t, sizeof(T)> b_;
};

using le16 = Le<std::uint16_t>;
using le32 = Le<std::uint32_t>;
using le64 = Le<std::uint64_t>;
static_assert(sizeof(le64) == 8 && alignof(le64) == 1);

// Copies a T out of `bytes` at `off` after checking bounds; corrupt input otherwise.
template <class T>
T load(std::span<const std::byte> bytes, std::uint64_t off) {
  if (off > bytes.size() || bytes.size() - off < sizeof(T)) throw_corrupt("read past the end");
  T t;
  std::memcpy(&t, bytes.data() + off, sizeof t);
  return t;
}

}  // namespace cfs
