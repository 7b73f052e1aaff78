#include "fsbuild/build.h"

#include <gtest/gtest.h>
#include <fcntl.h>
#include <unistd.h>

#include <filesystem>

#include "base/file_io.h"
#include "store/store.h"
#include "support/support.h"
#include "verity/fsverity.h"

namespace cfs::fsbuild {
namespace {

namespace fs = std::filesystem;

Digest digest_of(std::string_view s) { return verity::digest_of(std::as_bytes(std::span(s))); }

TEST(Build, TreeOfADirectoryFd) {
  test::TempDir tmp;
  fs::create_directories(tmp / "src" / "d");
  test::write_file(tmp / "src" / "d" / "big", std::string(100000, 'b'));
  test::write_file(tmp / "src" / "small", "hi");
  fs::create_symlink("d/big", tmp / "src" / "link");
  UniqueFd src = open_read(tmp / "src");
  store::ObjectStore store((tmp / "store").string());
  tree::Tree tree;
  build(src.get(), {.threads = 2, .store = &store}, tree);
  const tree::Node* big = tree.root()->find_child("d")->find_child("big");
  ASSERT_TRUE(big->digest.has_value());
  EXPECT_EQ(*big->digest, digest_of(std::string(100000, 'b')));
  EXPECT_TRUE(store.contains(*big->digest));
  EXPECT_EQ(tree.root()->find_child("small")->content, "hi");
  EXPECT_EQ(tree.root()->find_child("link")->payload, "d/big");
}

// The failure is data: which step, which entry, why.
TEST(Build, FailureNamesTheEntry) {
  test::TempDir tmp;
  test::write_file(tmp / "file", "x");
  UniqueFd not_dir = open_read(tmp / "file");
  tree::Tree tree;
  try {
    build(not_dir.get(), {}, tree);
    ADD_FAILURE() << "a file was scanned as a directory";
  } catch (const BuildError& e) {
    EXPECT_EQ(e.step(), BuildError::Step::kScan);
    EXPECT_EQ(e.path(), "");
    EXPECT_EQ(e.code(), ENOTDIR);
  }
}

// A file swapped for a symlink (to a secret) after the scan saw it is refused, not followed:
// a build as root of a tree a user can change never copies what the link points at.
TEST(Build, EntrySwappedForASymlinkIsNotFollowed) {
  test::TempDir tmp;
  fs::create_directories(tmp / "src" / "d");
  test::write_file(tmp / "src" / "d" / "f", std::string(5000, 'f'));
  test::write_file(tmp / "secret", std::string(5000, 's'));
  UniqueFd src = open_read(tmp / "src");
  store::ObjectStore store((tmp / "store").string());
  tree::Tree tree;
  FileHasher hasher(tree, src.get(), 1, &store, nullptr);
  scan(src.get(), {}, tree, [&](tree::Node& file) {
    fs::remove(tmp / "src" / "d" / "f");
    fs::create_symlink(tmp / "secret", tmp / "src" / "d" / "f");
    hasher.add(file);
  });
  try {
    hasher.finish();
    ADD_FAILURE() << "the symlink was followed";
  } catch (const BuildError& e) {
    EXPECT_EQ(e.step(), BuildError::Step::kFile);
    EXPECT_EQ(e.path(), "/d/f");
    EXPECT_EQ(e.reason().rfind("refused: d/f", 0), 0u) << e.reason();
  }
  EXPECT_FALSE(store.contains(digest_of(std::string(5000, 's'))));
}

}  // namespace
}  // namespace cfs::fsbuild
