#include "fsbuild/digests.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "fsbuild/scan.h"
#include "store/store.h"
#include "support/support.h"
#include "verity/fsverity.h"
#include "verity/measure.h"
#include "base/error.h"
#include "base/file_io.h"

namespace cfs::fsbuild {
namespace {

namespace fs = std::filesystem;

Digest digest_of(const std::string& s) { return verity::digest_of(std::as_bytes(std::span(s))); }

// Every object in the store has the digest it is named after.
void expect_store_consistent(const fs::path& store) {
  int objects = 0;
  for (const auto& e : fs::recursive_directory_iterator(store)) {
    if (!e.is_regular_file()) continue;
    ++objects;
    std::string name = e.path().parent_path().filename().string() + e.path().filename().string();
    UniqueFd fd = open_read(e.path());
    EXPECT_EQ(to_hex(verity::compute_from_fd(fd.get())), name) << e.path();
  }
  EXPECT_GT(objects, 0);
}

// A file rewritten between its first digest and its copy (a hook makes it happen every
// time): the image and the store record the bytes stored, never the first digest.
TEST(FileHasher, ObjectsAreNamedByWhatWasStored) {
  test::TempDir tmp;
  fs::create_directories(tmp / "src");
  const std::string before(1 << 20, 'a'), after(1 << 20, 'b'), other(100000, 'c');
  test::write_file(tmp / "src" / "f", before);
  test::write_file(tmp / "src" / "g", other);
  store::ObjectStore store((tmp / "store").string());
  tree::Tree tree;
  UniqueFd src = open_read(tmp / "src");
  FileHasher hasher(tree, src.get(), 1, &store, nullptr);
  int rewrites = 0;
  hasher.set_after_probe_for_test([&](tree::Node& n) {
    if (n.name != "f") return;
    std::fstream f(tmp / "src" / "f", std::ios::in | std::ios::out | std::ios::binary);
    f.write(after.data(), static_cast<std::streamsize>(after.size()));  // same size, in place
    ++rewrites;
  });
  scan(src.get(), {}, tree, [&](tree::Node& file) { hasher.add(file); });
  hasher.finish();
  ASSERT_EQ(rewrites, 1);
  const tree::Node* f = tree.root()->find_child("f");
  ASSERT_TRUE(f->digest.has_value());
  EXPECT_EQ(*f->digest, digest_of(after)) << "the image names what was stored";
  EXPECT_TRUE(store.contains(digest_of(after)));
  EXPECT_FALSE(store.contains(digest_of(before))) << "nothing is stored under the first read's digest";
  EXPECT_EQ(*tree.root()->find_child("g")->digest, digest_of(other));
  expect_store_consistent(tmp / "store");
}

}  // namespace
}  // namespace cfs::fsbuild
