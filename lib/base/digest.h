// Digest: a 32-byte SHA-256 fs-verity file digest, and its lowercase-hex spelling. Layer: base.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cfs {

using Digest = std::array<std::uint8_t, 32>;

std::string to_hex(const Digest& d);
// The value of one hex digit (either case), -1 for anything else. The one hex decoder.
int hex_digit(char c);
// Exactly 64 hex digits (either case) -> Digest; anything else -> nullopt.
std::optional<Digest> parse_hex_digest(std::string_view hex);
// The object-store path of a digest: "xx/<62 hex>".
std::string object_path(const Digest& d);

}  // namespace cfs
