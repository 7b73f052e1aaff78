#include "format/xattr_name.h"

#include "format/erofs.h"

#include <gtest/gtest.h>

namespace cfs::format {
namespace {

TEST(Xxh32, SanityVectors) {
  EXPECT_EQ(xxh32("", 0), 0x02CC5D05u);
  EXPECT_EQ(xxh32("abcdefghijklmnopqrstuvwxyz", 0), 0x63A14D5Fu);
}

// docs/format.md §5, checked against filters of real images.
TEST(XattrName, FilterBits) {
  struct Case {
    const char* name;
    std::uint8_t index;
    const char* suffix;
    std::uint32_t hash;
    unsigned bit;
  } cases[] = {
      {"user.a", 1, "a", 0x371a8cd5, 21},
      {"user.foo", 1, "foo", 0x6b6ab58c, 12},
      {"trusted.overlay.opaque", 4, "overlay.opaque", 0x4ce0a7f4, 20},
      {"trusted.overlay.metacopy", 4, "overlay.metacopy", 0xdbe5e05f, 31},
      {"trusted.overlay.redirect", 4, "overlay.redirect", 0x887ec271, 17},
      {"trusted.overlay.overlay.whiteouts", 4, "overlay.overlay.whiteouts", 0x46dd3e0c, 12},
      {"user.overlay.whiteout", 1, "overlay.whiteout", 0xed142e09, 9},
      {"security.selinux", 6, "selinux", 0x9490146b, 11},
      {"system.posix_acl_access", 2, "", 0x0857597e, 30},
      {"system.posix_acl_default", 3, "", 0x59eeabb5, 21},
  };
  for (const auto& c : cases) {
    auto key = split_xattr_name(c.name);
    EXPECT_EQ(key.index, c.index) << c.name;
    EXPECT_EQ(key.suffix, c.suffix) << c.name;
    EXPECT_EQ(xxh32(key.suffix, kXattrFilterSeed + key.index), c.hash) << c.name;
    EXPECT_EQ(xattr_filter_bit(key), c.bit) << c.name;
  }
}

TEST(XattrName, UnknownPrefixesUseIndexZero) {
  for (const char* n : {"lustre.x", "system.other", "foo.bar"}) {
    auto key = split_xattr_name(n);
    EXPECT_EQ(key.index, 0) << n;
    EXPECT_EQ(key.suffix, n);
  }
}

// Format V2 (composefs-rs) gives lustre. its EROFS index 5; upstream's writer does not.
TEST(XattrName, LustrePrefixOnlyWhenAsked) {
  auto v2 = split_xattr_name("lustre.lov", true);
  EXPECT_EQ(v2.index, 5);
  EXPECT_EQ(v2.suffix, "lov");
  EXPECT_EQ(split_xattr_name("lustre.lov").index, 0);
  EXPECT_EQ(split_xattr_name("user.x", true).index, 1);
  EXPECT_EQ(split_xattr_name("lustrex", true).index, 0);
}

}  // namespace
}  // namespace cfs::format
