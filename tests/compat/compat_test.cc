// Byte identity with upstream mkcomposefs 1.0.8: upstream's assets and the generated dumps.
#include <gtest/gtest.h>

#include <iostream>

#include "base/error.h"
#include "dump/parse.h"
#include "dump/print.h"
#include "reader/image.h"
#include "reader/to_tree.h"
#include "reader/walk.h"
#include "streamed_dump.h"
#include "support/support.h"
#include "verity/fsverity.h"
#include "writer/writer.h"

namespace cfs {
namespace {

using test::sha256_hex;
using test::streamed_dump;

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

// composefs-rs's pinned image ID for its CLI test layer (a V1 image, SHA-512 fs-verity), and
// the SHA-256 IDs of the same tree, V1 and V0 (../shared/spec/oci-import.md §13).
TEST(Compat, ComposefsRsConformanceImageIds) {
  auto tree = dump::parse(
      "/ 4096 40755 3 0 0 0 1234567890.0 - - -\n"
      "/hello-link.txt 0 @120000 - - - - 0.0 /hello.txt - -\n"
      "/hello.txt 22 100644 2 0 0 0 1234567890.0 - hello\\x20from\\x20test\\x20layer\\n -\n"
      "/usr 4096 40755 2 0 0 0 1234567890.0 - - -\n");
  auto v1 = writer::write_to_vector(tree, {1, 1});
  EXPECT_EQ(to_hex(verity::digest_of(v1, HashAlgorithm::kSha512)),
            "d06f1f6a73f62ed48e05ce9442ff045cdf2a9f5ba1ec623795de3d6177a253d91076459795d94f55d8c3d71dab458bb3fc0071255a50c0a4896d86ffdc870b9a");
  EXPECT_EQ(to_hex(verity::digest_of(v1)), "ca4c0cedfe7cf4e19090b65126e5b2ccc2e7fb4eef2af2a1bcdebe7488d5790b");
  EXPECT_EQ(to_hex(verity::digest_of(writer::write_to_vector(tree, {0, 0}))),
            "18d2ce8761526481c7d444575cb60c0d62bc2b4d999141575cbb2124fcc812bf");
}

// A SHA-512 digest is recorded as a 68-byte metacopy (algorithm 2) and read back as one, also
// through a dump (128 hex digits); SHA-256 digests keep their 36-byte record.
TEST(Compat, Sha512DigestsRoundTrip) {
  std::string d512(128, 'a'), d256(64, 'b');
  std::string text = "/ 4096 40755 2 0 0 0 0.0 - - -\n"
                     "/big 100000 100644 1 0 0 0 0.0 aa/" + d512.substr(2) + " - " + d512 + "\n"
                     "/small 5000 100644 1 0 0 0 0.0 bb/" + d256.substr(2) + " - " + d256 + "\n";
  auto image = writer::write_to_vector(dump::parse(text, {.strict = true}));
  auto img = reader::Image::open(image);
  auto tree = reader::to_tree(img);
  const tree::Node* big = tree.root()->find_child("big");
  ASSERT_TRUE(big && big->digest);
  EXPECT_EQ(big->digest.algorithm(), HashAlgorithm::kSha512);
  EXPECT_EQ(to_hex(*big->digest), d512);
  std::string printed = dump::print_to_string(tree);
  EXPECT_NE(printed.find(" " + d512), std::string::npos);
  EXPECT_NE(printed.find(" " + d256), std::string::npos);
  EXPECT_EQ(writer::write_to_vector(dump::parse(printed, {.strict = true})), image);
  reader::walk(img, {}, [&](const reader::WalkEntry& e) {
    if (e.name == "big") {
      EXPECT_EQ(img.get_xattr(img.inode(e.nid), "trusted.overlay.metacopy")->size(), 68u);
    }
    if (e.name == "small") {
      EXPECT_EQ(img.get_xattr(img.inode(e.nid), "trusted.overlay.metacopy")->size(), 36u);
    }
  });
}

}  // namespace
}  // namespace cfs
