#include "base/digest.h"

#include <array>

namespace cfs {
namespace {

// -1 for anything that is not a hex digit (a table: digests are parsed for every file).
constexpr auto kHexValue = [] {
  std::array<std::int8_t, 256> t{};
  t.fill(-1);
  for (int c = '0'; c <= '9'; ++c) t[c] = static_cast<std::int8_t>(c - '0');
  for (int c = 'a'; c <= 'f'; ++c) t[c] = static_cast<std::int8_t>(c - 'a' + 10);
  for (int c = 'A'; c <= 'F'; ++c) t[c] = static_cast<std::int8_t>(c - 'A' + 10);
  return t;
}();

}  // namespace

std::string_view hash_name(HashAlgorithm a) { return a == HashAlgorithm::kSha512 ? "sha512" : "sha256"; }

int hex_digit(char c) { return kHexValue[static_cast<unsigned char>(c)]; }

std::string to_hex(const Digest& d) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(2 * d.size(), '0');
  for (std::size_t i = 0; i < d.size(); ++i) {
    out[2 * i] = kHex[d[i] >> 4];
    out[2 * i + 1] = kHex[d[i] & 15];
  }
  return out;
}

std::optional<Digest> parse_hex_digest(std::string_view hex, HashAlgorithm algorithm) {
  Digest d(algorithm);
  if (hex.size() != 2 * d.size()) return std::nullopt;
  for (std::size_t i = 0; i < d.size(); ++i) {
    int hi = hex_digit(hex[2 * i]), lo = hex_digit(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    d[i] = static_cast<std::uint8_t>(hi << 4 | lo);
  }
  return d;
}

std::optional<Digest> parse_hex_digest(std::string_view hex) {
  return parse_hex_digest(hex, hex.size() == 128 ? HashAlgorithm::kSha512 : HashAlgorithm::kSha256);
}

std::string object_path(const Digest& d) {
  std::string hex = to_hex(d);
  return hex.substr(0, 2) + "/" + hex.substr(2);
}

}  // namespace cfs
