// Property: for random trees, write -> read -> dump -> parse -> write reproduces the bytes.
// With hard links the dump names the depth-first first path as the primary, which may sit
// elsewhere in breadth-first order than the original primary (as upstream), so there the
// property is: the dump is the same and the second image is a fixed point.
#include <gtest/gtest.h>

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

}  // namespace
}  // namespace cfs
