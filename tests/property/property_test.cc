// Property: for random trees, write -> read -> dump -> parse -> write reproduces the bytes.
// With hard links the dump names the depth-first first path as the primary, which may sit
// elsewhere in breadth-first order than the original primary (as upstream), so there the
// property is: the dump is the same and the second image is a fixed point.
#include <gtest/gtest.h>

#include <cstdio>
#include <functional>
#include <sstream>
#include <algorithm>
#include <string>
#include <tuple>
#include <unordered_map>

#include "base/error.h"
#include "dump/parse.h"
#include "dump/print.h"
#include "property/random_tree.h"
#include "reader/image.h"
#include "reader/to_tree.h"
#include "writer/writer.h"

namespace cfs {
namespace {

bool has_links(const tree::Node& n) {
  if (n.is_alias()) return true;
  for (const tree::Node* c : n.children) {
    if (has_links(*c)) return true;
  }
  return false;
}

TEST(Property, WriteReadDumpParseWriteIsIdentity) {
  int written = 0;
  for (std::uint64_t seed = 1; seed <= 120; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    tree::Tree t = test::random_tree(seed);
    std::vector<std::byte> image;
    try {
      image = writer::write_to_vector(t);
    } catch (const Error& e) {
      // Random trees may exceed the format (e.g. > 2^53-byte files): refused, not crashed.
      EXPECT_TRUE(e.code() == EFBIG || e.code() == ERANGE) << e.what();
      continue;
    }
    auto round_trip = [](const std::vector<std::byte>& bytes, std::string& text) {
      auto img = reader::Image::open(bytes);
      text = dump::print_to_string(reader::to_tree(img));
      return writer::write_to_vector(dump::parse(text, {.strict = true}),
                                     {img.composefs_version(), img.composefs_version()});
    };
    std::string text, text2, text3;
    auto again = round_trip(image, text);
    if (!has_links(*t.root())) {
      ASSERT_EQ(again, image) << text.substr(0, 2000);
    }
    auto third = round_trip(again, text2);
    ASSERT_EQ(text2, text);
    ASSERT_EQ(round_trip(third, text3), third);
    ASSERT_EQ(third, again);
    ++written;
  }
  EXPECT_GT(written, 100);
}

// "." and ".." take their byte-order places among the names, even names sorting between them.
// Format V2 (composefs-rs's legacy layout): the same property, and hard links too give the
// same bytes (a V2 inode sits where its first name is met, whichever name the tree's link
// targets). Inline files are cut to the 512 bytes V2 takes (it has no data blocks).
void cut_inline_files(tree::Node& n) {
  if (n.content.size() > 512) {
    n.content = n.content.substr(0, 512);
    n.size = 512;
  }
  for (tree::Node* c : n.children) cut_inline_files(*c);
}

TEST(Property, FormatV2WriteReadDumpParseWriteIsIdentity) {
  const auto v2 = writer::Options::exactly(2);
  int written = 0;
  for (std::uint64_t seed = 1; seed <= 120; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    tree::Tree t = test::random_tree(seed);
    cut_inline_files(*t.root());
    std::vector<std::byte> image;
    try {
      image = writer::write_to_vector(t, v2);
    } catch (const Error& e) {
      EXPECT_TRUE(e.code() == EFBIG || e.code() == ERANGE) << e.what();
      continue;
    }
    auto img = reader::Image::open(image);
    ASSERT_EQ(img.composefs_version(), 2u);
    std::string text = dump::print_to_string(reader::to_tree(img));
    ASSERT_EQ(writer::write_to_vector(reader::to_tree(img), v2), image);
    ASSERT_EQ(writer::write_to_vector(dump::parse(text, {.strict = true}), v2), image) << text.substr(0, 2000);
    ++written;
  }
  EXPECT_GT(written, 50);
}

TEST(Property, DotEntriesSortAmongNames) {
  for (std::string names : {"", "- .- .a a", "- !", ".- .\\x2c", "a b"}) {
    std::string dump = "/ 4096 40755 2 0 0 0 0.0 - - -\n";
    std::istringstream in(names);
    for (std::string n; in >> n;) dump += "/" + n + " 0 40755 2 0 0 0 0.0 - - -\n";
    auto image = writer::write_to_vector(dump::parse(dump));
    auto img = reader::Image::open(image);  // checks the order of the names
    std::vector<std::string> seen;
    img.for_each_dirent(img.inode(img.root_nid()), [&](const reader::DirEntryView& e) {
      if (e.name.size() > 2 || e.name[0] == '.' || e.name[0] < '0') seen.emplace_back(e.name);
      return true;
    });
    EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end())) << names;
    EXPECT_EQ(std::count(seen.begin(), seen.end(), "."), 1) << names;
    EXPECT_EQ(std::count(seen.begin(), seen.end(), ".."), 1) << names;
    for (const auto& sub : seen) {
      if (sub == "." || sub == "..") continue;
      auto dir = img.lookup(img.inode(img.root_nid()), sub);
      ASSERT_TRUE(dir) << sub;
      EXPECT_TRUE(img.lookup(img.inode(dir->nid), ".."));
    }
  }
}

// The writer groups equal xattrs by a 32-bit hash of the value; equal hashes of different
// values must not change the image. The image depends only on which values are equal and on
// their byte order, so with two colliding values A < B it must be the image of two
// non-colliding values A' < B' of the same lengths, with A' and B' swapped back in.
TEST(Property, XattrSharingIgnoresHashCollisions) {
  auto hash32 = [](std::string_view v) { return static_cast<std::uint32_t>(std::hash<std::string_view>{}(v)); };
  std::unordered_map<std::uint32_t, std::string> by_hash;
  std::string a, b;
  for (int i = 0; a.empty(); ++i) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "q%09d", i);
    auto [it, inserted] = by_hash.try_emplace(hash32(buf), buf);
    if (!inserted) std::tie(a, b) = std::minmax(it->second, std::string(buf));
  }
  std::string a2 = "Z" + a.substr(1), b2 = "Z" + b.substr(1);  // same order and lengths
  ASSERT_NE(hash32(a2), hash32(b2));
  auto image_of = [](const std::string& x, const std::string& y) {
    std::string dump = "/ 4096 40755 2 0 0 0 0.0 - - -\n";
    const std::string* order[] = {&x, &y, &x, &y, &y, &x};  // interleaved in every order
    for (int f = 0; f < 6; ++f) {
      dump += "/f" + std::to_string(f) + " 0 100644 1 0 0 0 0.0 - - - user.v=" + *order[f] + "\n";
    }
    return writer::write_to_vector(dump::parse(dump));
  };
  auto colliding = image_of(a, b);
  auto expected = image_of(a2, b2);
  std::string bytes(reinterpret_cast<const char*>(expected.data()), expected.size());
  for (auto [from, to] : {std::pair{a2, a}, std::pair{b2, b}}) {
    for (auto at = bytes.find(from); at != std::string::npos; at = bytes.find(from, at + 1)) {
      bytes.replace(at, from.size(), to);
    }
  }
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(colliding.data()), colliding.size()), bytes)
      << a << " and " << b << " collide";
}

}  // namespace
}  // namespace cfs
