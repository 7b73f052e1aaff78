#include "reader/image.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "base/error.h"
#include "dump/parse.h"
#include "dump/print.h"
#include "reader/to_tree.h"
#include "reader/walk.h"
#include "writer/writer.h"

namespace cfs::reader {
namespace {

std::vector<std::byte> sample_image() {
  std::string dump =
      "/ 4096 40755 3 0 0 0 1700000000.0 - - - user.a=1 security.selinux=x\n"
      "/dir 4096 40700 2 1000 1000 0 1700000000.0 - - - user.a=1\n"
      "/dir/hello 6 100644 2 1000 1000 0 1700000000.0 - hello\\n - \n"
      "/file 5000 100644 1 0 0 0 1700000001.5 ab/cdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789 - "
      "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789 trusted.overlay.opaque=y\n"
      "/link 3 120777 1 0 0 0 1700000000.0 dir - -\n"
      "/long 3000 120777 1 0 0 0 1700000000.0 " + std::string(3000, 'l') + " - -\n"
      "/big 4097 100644 1 0 0 0 1700000000.0 - " + std::string(4097, 'b') + " -\n"
      "/hl 6 @100644 2 1000 1000 0 1700000000.0 /dir/hello - -\n"
      "/wh 0 20644 1 0 0 0 1700000000.0 - - -\n";
  for (int i = 0; i < 300; ++i) dump += "/dir" + std::string(1, 'a' + i % 26) + std::to_string(i) + " 0 100644 1 0 0 0 0.0 - - -\n";
  return writer::write_to_vector(dump::parse(dump));
}

// The dump as composefs-info prints it, straight from walk(), without a tree.
std::string streamed_dump(const Image& img) {
  std::string text;
  walk(img, {}, [&](const WalkEntry& e) { dump::append_line(text, e.path, e.inode, e.primary); });
  return text;
}

// Loads the image both ways: walk() must visit nothing when it throws, and what it visits
// must print as the tree does. Returns the errno of the rejection, or 0.
int code_of(std::span<const std::byte> bytes) {
  int visits = 0;
  try {
    auto img = Image::open(bytes);
    walk(img, {}, [&](const WalkEntry&) { ++visits; });
    EXPECT_EQ(streamed_dump(img), dump::print_to_string(to_tree(img)));
  } catch (const Error& e) {
    EXPECT_EQ(visits, 0) << "visited before the error: " << e.what();
    return e.code();
  }
  return 0;
}

// Format V2 stores a whiteout as the char device 0/0 it is, and no marker xattrs: the reader
// keeps such devices (upstream's are only the root's stubs) and takes a tree's own
// trusted.overlay.whiteout (stored escaped) for an xattr, not for a whiteout mark.
TEST(Image, FormatV2KeepsWhiteoutsAndMarkerNames) {
  auto tree = dump::parse(
      "/ 4096 40755 2 0 0 0 0.0 - - -\n"
      "/f 0 100644 1 0 0 0 0.0 - - - trusted.overlay.whiteout= user.overlay.whiteouts=\n"
      "/wh 0 20644 1 0 0 0 0.0 - - -\n");
  auto image = writer::write_to_vector(tree, writer::Options::exactly(2));
  auto img = Image::open(image);
  EXPECT_EQ(img.composefs_version(), 2u);
  EXPECT_EQ(code_of(image), 0);
  EXPECT_EQ(dump::print_to_string(to_tree(img)),
            "/ 54 40755 2 0 0 0 0.0 - - -\n"
            "/f 0 100644 1 0 0 0 0.0 - - - trusted.overlay.whiteout= user.overlay.whiteouts=\n"
            "/wh 0 20644 1 0 0 0 0.0 - - -\n");
}

TEST(Image, HeaderChecks) {
  auto img = sample_image();
  EXPECT_EQ(code_of(img), 0);
  EXPECT_EQ(code_of(std::span(img).first(4095)), EINVAL);
  auto bad = img;
  bad[0] = std::byte{0};
  EXPECT_EQ(code_of(bad), EINVAL);
  bad = img;
  bad[4] = std::byte{2};
  EXPECT_EQ(code_of(bad), ENOTSUP);
  bad = img;
  bad[1024] = std::byte{0};
  EXPECT_EQ(code_of(bad), EINVAL);
  bad = img;
  bad[1024 + 12] = std::byte{13};  // blkszbits
  EXPECT_EQ(code_of(bad), EUCLEAN);
}

TEST(Image, LookupAndRead) {
  auto bytes = sample_image();
  auto img = Image::open(bytes);
  auto root = img.inode(img.root_nid());
  auto dir = img.lookup(root, "dir");
  ASSERT_TRUE(dir);
  EXPECT_FALSE(img.lookup(root, "nope"));
  auto wh = img.lookup(root, "0a");
  ASSERT_TRUE(wh);  // a root whiteout
  EXPECT_EQ(img.inode(wh->nid).type(), 0020000u);
  auto hello = img.lookup(img.inode(dir->nid), "hello");
  ASSERT_TRUE(hello);
  std::string data(6, '\0');
  EXPECT_EQ(img.read_data(img.inode(hello->nid), 0, std::as_writable_bytes(std::span(data))), 6u);
  EXPECT_EQ(data, "hello\n");
  EXPECT_EQ(img.read_symlink(img.inode(img.lookup(root, "long")->nid)), std::string(3000, 'l'));
  for (int i = 0; i < 300; i += 37) {
    std::string name = "dir" + std::string(1, 'a' + i % 26) + std::to_string(i);
    EXPECT_TRUE(img.lookup(root, name)) << name;
  }
}

// Every single-byte corruption and truncation is either read or rejected with an Error;
// under ASan/UBSan this also proves there is no out-of-bounds access.
TEST(Image, CorruptionIsAnErrorNeverACrash) {
  auto img = sample_image();
  std::mt19937 rng(42);
  int rejected = 0;
  for (int i = 0; i < 6000; ++i) {
    auto bad = img;
    std::size_t at = i < 4096 ? 1024 + i % 3072 : rng() % bad.size();
    bad[at] = static_cast<std::byte>(rng());
    if (rng() % 4 == 0) bad[rng() % bad.size()] = static_cast<std::byte>(rng());
    int code = code_of(bad);
    EXPECT_TRUE(code == 0 || code == EUCLEAN || code == EINVAL || code == ENOTSUP || code == ENOTDIR)
        << "offset " << at << " errno " << code;
    rejected += code != 0;
  }
  EXPECT_GT(rejected, 100);
  for (std::size_t len = 4096; len < img.size(); len += 512) {
    int code = code_of(std::span(img).first(len));
    EXPECT_TRUE(code == 0 || code == EUCLEAN || code == EINVAL) << "truncated to " << len;
  }
}

// A directory entry naming an inode seen before is a hard link, even for a directory (here a
// cycle: "/dir" is pointed back at the root): printed as a link to the first path, not
// followed.
TEST(Image, RepeatedInodesAreHardLinks) {
  auto bytes = sample_image();
  auto img = Image::open(bytes);
  auto root = img.inode(img.root_nid());
  std::uint64_t dir_nid = img.lookup(root, "dir")->nid;
  std::string plain = streamed_dump(img);
  EXPECT_NE(plain.find("\n/hl 6 @100644 2 1000 1000 0 1700000000.0 /dir/hello hello\\n -\n"), std::string::npos) << plain;

  // The root's dirent for "dir" (the root has full directory blocks): its nid (LE64), the
  // offset of its name in the block (LE16), then file type 2.
  int patched = 0;
  for (std::size_t at = 0; at + 12 <= bytes.size(); at += 4) {
    std::uint64_t nid = 0;
    std::uint16_t nameoff = 0;
    std::memcpy(&nid, &bytes[at], 8);
    std::memcpy(&nameoff, &bytes[at + 8], 2);
    std::size_t name_at = (at & ~std::size_t{4095}) + nameoff;
    if (nid == dir_nid && bytes[at + 10] == std::byte{2} && name_at + 4 <= bytes.size() &&
        std::memcmp(&bytes[name_at], "dir", 3) == 0 && bytes[name_at + 3] != std::byte{'a'}) {
      std::uint64_t root_nid = img.root_nid();
      std::memcpy(&bytes[at], &root_nid, 8);
      ++patched;
    }
  }
  ASSERT_EQ(patched, 1);
  auto cyclic = Image::open(bytes);
  std::string text = streamed_dump(cyclic);
  EXPECT_EQ(text, dump::print_to_string(to_tree(cyclic)));
  EXPECT_NE(text.find("\n/dir 9334 @40755 3 0 0 0 1700000000.0  - - trusted.overlay.opaque=x"), std::string::npos) << text;
  EXPECT_EQ(text.find("/dir/hello"), std::string::npos);  // the cycle is not followed
  std::vector<std::string> seen;
  walk(cyclic, {.filters = {"dir", "link"}}, [&](const WalkEntry& e) {
    seen.push_back(e.path + (e.primary ? " -> " + *e.primary : "") + (e.linked ? " linked" : ""));
  });
  EXPECT_EQ(seen, (std::vector<std::string>{"/ linked", "/dir -> / linked", "/link"}));
}

}  // namespace
}  // namespace cfs::reader

namespace cfs::reader {
namespace {

// The format puts no limit on depth, the writer writes and the kernel serves any: the reader
// walks every depth without recursion (it once refused 2049 levels, and recursed).
TEST(Walk, AnyDepthWithoutRecursion) {
  for (int levels : {5000, 300000}) {
    tree::Tree tree;
    tree::Node* dir = tree.new_node();
    dir->mode = 040755;
    dir->nlink = 3;
    tree.set_root(dir);
    for (int i = 0; i < levels; ++i) {
      tree::Node* sub = tree.new_node();
      sub->name = tree.keep("d");
      sub->mode = 040755;
      sub->nlink = i + 1 == levels ? 2 : 3;
      tree.add_child(dir, sub);
      dir = sub;
    }
    tree::Node* file = tree.new_node();
    file->name = tree.keep("f");
    file->mode = 0100644;
    file->size = 5;
    file->content = tree.keep("hello");
    tree.add_child(dir, file);
    std::vector<std::byte> bytes = writer::write_to_vector(tree);
    Image img = Image::open(bytes);
    int entries = 0, deepest = 0;
    std::size_t longest = 0;
    walk(img, {}, [&](const WalkEntry& e) {
      ++entries;
      deepest = std::max(deepest, e.depth);
      longest = std::max(longest, e.path.size());
    });
    EXPECT_EQ(entries, levels + 2) << levels;
    EXPECT_EQ(deepest, levels + 1);
    EXPECT_EQ(longest, std::size_t(levels) * 2 + 2);
    tree::Tree back = to_tree(img);
    EXPECT_EQ(writer::write_to_vector(back), bytes) << "image -> tree -> image, " << levels << " levels";
  }
}

}  // namespace
}  // namespace cfs::reader
