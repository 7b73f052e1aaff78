#include "format/xattr_name.h"

#include <array>
#include <cstring>

#include "format/erofs.h"

namespace cfs::format {
namespace {

constexpr std::array<std::string_view, 7> kPrefixes = {
    "", "user.", "system.posix_acl_access", "system.posix_acl_default", "trusted.", "lustre.",
    "security."};
// Upstream's writer never chooses lustre. (index 5): such names are stored with index 0.

constexpr std::uint32_t kP1 = 2654435761U, kP2 = 2246822519U, kP3 = 3266489917U,
                        kP4 = 668265263U, kP5 = 374761393U;

std::uint32_t rotl(std::uint32_t v, int r) { return (v << r) | (v >> (32 - r)); }
std::uint32_t read32(const char* p) {
  std::uint32_t v;
  std::memcpy(&v, p, 4);
  return to_le(v);
}
std::uint32_t round(std::uint32_t acc, std::uint32_t in) { return rotl(acc + in * kP2, 13) * kP1; }

}  // namespace

XattrKey split_xattr_name(std::string_view name, bool with_lustre) {
  // The writer's prefixes differ in their first letter but for system. and security.
  auto match = [&](std::uint8_t index) { return name.starts_with(kPrefixes[index]); };
  std::uint8_t index = 0;
  switch (name.empty() ? '\0' : name[0]) {
    case 'u': index = match(1) ? 1 : 0; break;
    case 't': index = match(4) ? 4 : 0; break;
    case 'l': index = with_lustre && match(5) ? 5 : 0; break;
    case 's': index = match(6) ? 6 : match(2) ? 2 : match(3) ? 3 : 0; break;
    default: break;
  }
  return {index, name.substr(kPrefixes[index].size())};
}

std::optional<std::string_view> xattr_prefix(std::uint8_t index) {
  if (index >= kPrefixes.size()) return std::nullopt;
  return kPrefixes[index];
}

unsigned xattr_filter_bit(const XattrKey& key) {
  return xxh32(key.suffix, kXattrFilterSeed + key.index) & 31;
}

std::uint32_t xxh32(std::string_view data, std::uint32_t seed) {
  const char* p = data.data();
  const char* end = p + data.size();
  std::uint32_t h;
  if (data.size() >= 16) {
    std::uint32_t v1 = seed + kP1 + kP2, v2 = seed + kP2, v3 = seed, v4 = seed - kP1;
    for (; end - p >= 16; p += 16) {
      v1 = round(v1, read32(p));
      v2 = round(v2, read32(p + 4));
      v3 = round(v3, read32(p + 8));
      v4 = round(v4, read32(p + 12));
    }
    h = rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18);
  } else {
    h = seed + kP5;
  }
  h += static_cast<std::uint32_t>(data.size());
  for (; end - p >= 4; p += 4) h = rotl(h + read32(p) * kP3, 17) * kP4;
  for (; p < end; ++p) h = rotl(h + static_cast<std::uint8_t>(*p) * kP5, 11) * kP1;
  h ^= h >> 15;
  h *= kP2;
  h ^= h >> 13;
  h *= kP3;
  h ^= h >> 16;
  return h;
}

}  // namespace cfs::format
