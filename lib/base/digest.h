// Digest: an fs-verity file digest, SHA-256 (32 bytes; what upstream composefs and the kernel
// mount use) or SHA-512 (64 bytes; composefs-rs repositories' default), and its lowercase-hex
// spelling. Layer: base.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace cfs {

// fs-verity's numbers for them (FS_VERITY_HASH_ALG_SHA256/512), also stored in metacopy xattrs.
enum class HashAlgorithm : std::uint8_t { kSha256 = 1, kSha512 = 2 };

inline constexpr std::size_t digest_size(HashAlgorithm a) { return a == HashAlgorithm::kSha512 ? 64 : 32; }
// "sha256" / "sha512".
std::string_view hash_name(HashAlgorithm a);

class Digest {
 public:
  static constexpr std::size_t kMaxSize = 64;

  Digest() = default;  // SHA-256, all zero
  explicit Digest(HashAlgorithm algorithm) : algorithm_(algorithm) {}

  HashAlgorithm algorithm() const noexcept { return algorithm_; }
  std::size_t size() const noexcept { return digest_size(algorithm_); }
  std::uint8_t* data() noexcept { return bytes_.data(); }
  const std::uint8_t* data() const noexcept { return bytes_.data(); }
  std::uint8_t& operator[](std::size_t i) noexcept { return bytes_[i]; }
  std::uint8_t operator[](std::size_t i) const noexcept { return bytes_[i]; }
  std::span<const std::uint8_t> bytes() const noexcept { return {bytes_.data(), size()}; }
  auto begin() const noexcept { return bytes_.begin(); }
  auto end() const noexcept { return bytes_.begin() + static_cast<std::ptrdiff_t>(size()); }

  // Only the algorithm's bytes count (the rest stay zero anyway).
  friend bool operator==(const Digest&, const Digest&) = default;
  friend auto operator<=>(const Digest&, const Digest&) = default;

 private:
  std::array<std::uint8_t, kMaxSize> bytes_{};
  HashAlgorithm algorithm_ = HashAlgorithm::kSha256;
};

std::string to_hex(const Digest& d);
// The value of one hex digit (either case), -1 for anything else. The one hex decoder.
int hex_digit(char c);
// Exactly 64 (SHA-256) or 128 (SHA-512) hex digits, either case -> Digest; else nullopt.
std::optional<Digest> parse_hex_digest(std::string_view hex);
// The same for one algorithm only.
std::optional<Digest> parse_hex_digest(std::string_view hex, HashAlgorithm algorithm);
// The object-store path of a digest: "xx/<62 or 126 hex>".
std::string object_path(const Digest& d);

}  // namespace cfs
