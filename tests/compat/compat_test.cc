// Byte identity with upstream mkcomposefs 1.0.8: upstream's assets and the generated dumps.
#include <gtest/gtest.h>

#include <iostream>

#include "base/error.h"
#include "dump/parse.h"
#include "dump/print.h"
#include "reader/image.h"
#include "reader/to_tree.h"
#include "reader/walk.h"
#include "support/support.h"
#include "writer/writer.h"

namespace cfs {
namespace {

using test::sha256_hex;

// The dump as composefs-info prints it: straight from the image, without a tree.
std::string streamed_dump(const reader::Image& img) {
  std::string text;
  reader::walk(img, {}, [&](const reader::WalkEntry& e) { dump::append_line(text, e.path, e.inode, e.primary); });
  return text;
}

writer::Options options_for(const test::Upstream& a) {
  if (!a.version) return {};
  return {*a.version, *a.version};
}

TEST(Compat, UpstreamAssetsBuildToTheirDigest) {
  CFS_REQUIRE_UPSTREAM_VECTORS(dir);
  auto assets = test::upstream_assets(dir);
  ASSERT_EQ(assets.size(), 13u);
  std::cout << "Used " << assets.size() << " upstream assets from " << dir << "\n";
  for (const auto& a : assets) {
    auto tree = dump::parse(a.dump, {.strict = a.strict});
    EXPECT_EQ(sha256_hex(writer::write_to_vector(tree, options_for(a))), a.sha256) << a.name;
  }
}

// image -> tree -> dump text -> tree -> image, and image -> tree -> image, are identity.
TEST(Compat, UpstreamAssetsRoundTrip) {
  CFS_REQUIRE_UPSTREAM_VECTORS(dir);
  for (const auto& a : test::upstream_assets(dir)) {
    auto image = writer::write_to_vector(dump::parse(a.dump), options_for(a));
    auto img = reader::Image::open(image);
    auto loaded = reader::to_tree(img);
    std::uint32_t v = img.composefs_version();
    EXPECT_EQ(writer::write_to_vector(loaded, {v, v}), image) << a.name << ": composefs-dump";
    auto text = dump::print_to_string(loaded);
    EXPECT_EQ(streamed_dump(img), text) << a.name;
    auto reparsed = dump::parse(text, {.strict = true});
    EXPECT_EQ(writer::write_to_vector(reparsed, options_for(a)), image) << a.name << ": info dump";
  }
}

TEST(Compat, GeneratedDumpsGiveBothDigests) {
  int seeds = 0;
  for (const auto& [seed, want] : test::expected(test::repo_vectors() / "dumps" / "expected.sha256")) {
    ASSERT_EQ(want.size(), 2u) << seed;
    const std::string &want_default = want[0], &want_v1 = want[1];
    auto tree = dump::parse(test::generated_dump(seed), {.strict = true});
    auto image = writer::write_to_vector(tree);
    EXPECT_EQ(sha256_hex(image), want_default) << "seed " << seed;
    EXPECT_EQ(sha256_hex(writer::write_to_vector(tree, {1, 1})), want_v1) << "seed " << seed;
    auto img = reader::Image::open(image);
    auto text = dump::print_to_string(reader::to_tree(img));
    EXPECT_EQ(streamed_dump(img), text) << "seed " << seed;
    EXPECT_EQ(writer::write_to_vector(dump::parse(text), {img.composefs_version(), img.composefs_version()}),
              image)
        << "seed " << seed << " round trip";
    ++seeds;
  }
  EXPECT_GE(seeds, 30);
}

TEST(Compat, WorkedExample) {
  auto tree = dump::parse(test::kWorkedExampleDump);
  auto image = writer::write_to_vector(tree);
  EXPECT_EQ(image.size(), 16384u);
  EXPECT_EQ(sha256_hex(image), "04735d9e74b1971744722dd3cdd3600e0a6f0e95a8255944f7e33e5d0d891ea5");
  EXPECT_EQ(sha256_hex(writer::write_to_vector(tree, {0, 0})),
            "96c46266af07168581db695d071f65d62deb29931f605ed85fb90bdd4b939d9a");
  auto img = reader::Image::open(image);
  EXPECT_EQ(dump::print_to_string(reader::to_tree(img)),
            "/ 4096 40755 3 0 0 0 1700000000.0 - - - trusted.overlay.opaque=x user.overlay.opaque=x user.a=1\n"
            "/dir 44 40700 2 1000 1000 0 1700000000.0 - - - user.a=1\n"
            "/dir/hello 6 100644 2 1000 1000 0 1700000000.0 - hello\\n -\n"
            "/file 5000 100644 1 0 0 0 1700000001.5 ab/cdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789 - "
            "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789 trusted.overlay.opaque=y\n"
            "/hl 6 @100644 2 1000 1000 0 1700000000.0 /dir/hello hello\\n -\n"
            "/link 3 120777 1 0 0 0 1700000000.0 dir - -\n"
            "/wh 0 20644 1 0 0 0 1700000000.0 - - -\n");
}

}  // namespace
}  // namespace cfs
