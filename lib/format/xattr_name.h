// EROFS xattr name prefixes: full name <-> (index, suffix), and the bloom-filter bit of a name.
// Layer: format (pure).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cfs::format {

struct XattrKey {
  std::uint8_t index;      // EROFS e_name_index (0 = no prefix)
  std::string_view suffix;  // the name without the prefix of `index`
};

// The writer's prefix choice: first matching prefix of user., system.posix_acl_access,
// system.posix_acl_default, trusted., security. (and lustre. when `with_lustre`: format V2,
// FormatRules::lustre_prefix); otherwise index 0 and the full name.
XattrKey split_xattr_name(std::string_view name, bool with_lustre = false);

// The prefix of an e_name_index, or nullopt for an index a composefs image may not use.
std::optional<std::string_view> xattr_prefix(std::uint8_t index);

// Bit number (0..31) that a name sets in h_name_filter.
unsigned xattr_filter_bit(const XattrKey& key);

std::uint32_t xxh32(std::string_view data, std::uint32_t seed);

}  // namespace cfs::format
