// Format V2 (composefs-rs's legacy layout, header composefs_version 2) against composefs-rs 0.9:
// its two mkfs snapshots (crates/composefs/tests/snapshots/mkfs__{empty,simple}.snap) structure
// for structure, the digests its test_erofs_digest_stability pins for them, the V2 image ID of
// its CLI test layer (../shared/spec/oci-import.md §13), and every generated dump through V2.
#include "support/format_v2.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "base/error.h"
#include "base/le.h"
#include "dump/parse.h"
#include "dump/print.h"
#include "format/erofs.h"
#include "reader/image.h"
#include "reader/to_tree.h"
#include "reader/walk.h"
#include "streamed_dump.h"
#include "support/support.h"
#include "verity/fsverity.h"
#include "writer/writer.h"

namespace cfs {
namespace {

using Bytes = std::vector<std::byte>;

Bytes write_v2(const tree::Tree& tree) {
  return writer::write_to_vector(tree, writer::Options::exactly(2));
}

std::string verity256(const Bytes& image) { return to_hex(verity::digest_of(image)); }

format::ErofsInodeExtended inode_at(const Bytes& image, std::uint64_t nid) {
  return load<format::ErofsInodeExtended>(image, nid * format::kSlotSize);
}

std::string text_at(const Bytes& image, std::uint64_t off, std::size_t n) {
  return {reinterpret_cast<const char*>(image.data() + off), n};
}

// The header and superblock fields the snapshots show (the others are zero).
void expect_v2_header(const Bytes& image, std::uint64_t inos, std::uint32_t blocks) {
  auto h = load<format::ComposefsHeader>(image, 0);
  EXPECT_EQ(h.magic, format::kComposefsMagic);
  EXPECT_EQ(h.version, 1u);
  EXPECT_EQ(h.flags, 0u);
  EXPECT_EQ(h.composefs_version, 2u);
  auto sb = load<format::ErofsSuperblock>(image, format::kSuperblockOffset);
  EXPECT_EQ(sb.magic, format::kErofsMagic);
  EXPECT_EQ(sb.feature_compat, 6u);
  EXPECT_EQ(sb.blkszbits, 12);
  EXPECT_EQ(sb.root_nid, 36);
  EXPECT_EQ(sb.inos, inos);
  EXPECT_EQ(sb.blocks, blocks);
  EXPECT_EQ(sb.build_time, 0u);
  EXPECT_EQ(sb.build_time_nsec, 0u);
  EXPECT_EQ(sb.xattr_blkaddr, 0u);
  EXPECT_EQ(sb.feature_incompat, 0u);
}

struct Dirent {
  const char* name;
  std::uint64_t nid;
  std::uint8_t type;
};

// The inline directory block of the inode at `nid`: entries, then names.
void expect_dirents(const Bytes& image, std::uint64_t nid, const std::vector<Dirent>& want) {
  std::uint64_t base = nid * format::kSlotSize + 64;  // no xattrs
  std::uint16_t first = load<format::ErofsDirent>(image, base).nameoff;
  ASSERT_EQ(first, 12 * want.size());
  for (std::size_t i = 0; i < want.size(); ++i) {
    auto d = load<format::ErofsDirent>(image, base + 12 * i);
    std::uint16_t end = i + 1 < want.size()
                            ? static_cast<std::uint16_t>(
                                  load<format::ErofsDirent>(image, base + 12 * (i + 1)).nameoff)
                            : static_cast<std::uint16_t>(d.nameoff + std::strlen(want[i].name));
    EXPECT_EQ(text_at(image, base + d.nameoff, end - d.nameoff), want[i].name);
    EXPECT_EQ(d.nid, want[i].nid) << want[i].name;
    EXPECT_EQ(d.file_type, want[i].type) << want[i].name;
  }
}

struct InodeWant {
  const char* name;
  std::uint64_t nid;
  std::uint16_t i_format;
  std::uint16_t mode;
  std::uint64_t size;
  std::uint32_t i_u;
  std::uint16_t xattr_icount;
  std::uint32_t nlink;
};

void expect_inode(const Bytes& image, const InodeWant& w) {
  auto in = inode_at(image, w.nid);
  EXPECT_EQ(in.i_format, w.i_format) << w.name;
  EXPECT_EQ(in.i_xattr_icount, w.xattr_icount) << w.name;
  EXPECT_EQ(in.i_mode, w.mode) << w.name;
  EXPECT_EQ(in.i_size, w.size) << w.name;
  EXPECT_EQ(in.i_u, w.i_u) << w.name;
  EXPECT_EQ(in.i_ino, w.nid) << w.name << ": V2's ino is the nid";
  EXPECT_EQ(in.i_uid, 0u) << w.name;
  EXPECT_EQ(in.i_gid, 0u) << w.name;
  EXPECT_EQ(in.i_mtime, 0u) << w.name;
  EXPECT_EQ(in.i_mtime_nsec, 0u) << w.name;
  EXPECT_EQ(in.i_nlink, w.nlink) << w.name;
}

// composefs-rs tests/mkfs.rs test_empty: a root directory 0755, uid/gid 0, mtime 0.
TEST(FormatV2, ComposefsRsEmptySnapshot) {
  auto tree = dump::parse("/ 4096 40755 2 0 0 0 0.0 - - -\n");
  Bytes image = write_v2(tree);
  ASSERT_EQ(image.size(), 4096u);
  expect_v2_header(image, 1, 1);
  expect_inode(image, {"/", 36, 5, 040755, 27, 0, 0, 2});  // Extended | FlatInline
  expect_dirents(image, 36, {{".", 36, format::kFtDirectory}, {"..", 36, format::kFtDirectory}});
  // Everything after the 27 bytes of entries (0x480 + 64 + 27 = 0x4db) is zero.
  for (std::size_t i = 0x4db; i < image.size(); ++i) ASSERT_EQ(image[i], std::byte{0}) << i;
  EXPECT_EQ(verity256(image), "086b702a519b57d6ef5aea6f8b3f2be24355cd1fb835cd80fb4e3d388b24d5a5");
}

// composefs-rs tests/mkfs.rs test_simple: seven leaves with mode 0 permissions in the root.
TEST(FormatV2, ComposefsRsSimpleSnapshot) {
  std::string id(64, 'a');
  for (std::size_t i = 0; i < id.size(); i += 2) id.replace(i, 2, "5a");
  auto tree = dump::parse(
      "/ 4096 40755 2 0 0 0 0.0 - - -\n"
      "/blkdev 0 60000 1 0 0 123 0.0 - - -\n"
      "/chrdev 0 20000 1 0 0 123 0.0 - - -\n"
      "/fifo 0 10000 1 0 0 0 0.0 - - -\n"
      "/regular-external 1234 100000 1 0 0 0 0.0 5a/" +
      id.substr(2) + " - " + id +
      "\n"
      "/regular-inline 4 100000 1 0 0 0 0.0 - hihi -\n"
      "/socket 0 140000 1 0 0 0 0.0 - - -\n"
      "/symlink 7 120000 1 0 0 0 0.0 /target - -\n");
  Bytes image = write_v2(tree);
  ASSERT_EQ(image.size(), 4096u);
  expect_v2_header(image, 8, 1);
  expect_dirents(image, 36,
                 {{".", 36, format::kFtDirectory},
                  {"..", 36, format::kFtDirectory},
                  {"blkdev", 44, format::kFtBlockDevice},
                  {"chrdev", 46, format::kFtCharDevice},
                  {"fifo", 48, format::kFtFifo},
                  {"regular-external", 50, format::kFtRegular},
                  {"regular-inline", 57, format::kFtRegular},
                  {"socket", 60, format::kFtSocket},
                  {"symlink", 62, format::kFtSymlink}});
  for (const InodeWant& w : std::vector<InodeWant>{
           {"/", 36, 5, 040755, 170, 0, 0, 2},
           {"blkdev", 44, 1, 060000, 0, 123, 0, 1},
           {"chrdev", 46, 1, 020000, 0, 123, 0, 1},
           {"fifo", 48, 1, 010000, 0, 0, 0, 1},
           {"regular-external", 50, 9, 0100000, 1234, 31, 37, 1},  // ChunkBased, chunk format 31
           {"regular-inline", 57, 5, 0100000, 4, 0, 0, 1},
           {"socket", 60, 1, 0140000, 0, 0, 0, 1},
           {"symlink", 62, 5, 0120000, 7, 0, 0, 1},
       }) {
    expect_inode(image, w);
  }
  // The external file's xattrs: header with filter 2147352575 and no shared ones, metacopy
  // then redirect (insertion order, not name order), then one null chunk index.
  std::uint64_t x = 50 * 32 + 64;
  auto h = load<format::ErofsXattrIbodyHeader>(image, x);
  EXPECT_EQ(h.h_name_filter, 2147352575u);
  EXPECT_EQ(h.h_shared_count, 0);
  auto metacopy = load<format::ErofsXattrEntry>(image, x + 12);
  EXPECT_EQ(metacopy.e_name_index, 4);
  EXPECT_EQ(text_at(image, x + 16, 16), "overlay.metacopy");
  EXPECT_EQ(metacopy.e_value_size, 36);
  EXPECT_EQ(text_at(image, x + 32, 36), std::string("\0$\0\1", 4) + std::string(32, 'Z'));
  auto redirect = load<format::ErofsXattrEntry>(image, x + 68);
  EXPECT_EQ(redirect.e_value_size, 66);
  EXPECT_EQ(text_at(image, x + 72, 16 + 66), "overlay.redirect/5a/" + id.substr(2));
  EXPECT_EQ(text_at(image, 50 * 32 + 64 + 156, 4), "\xff\xff\xff\xff");  // snapshot: 0x71c
  EXPECT_EQ(text_at(image, 57 * 32 + 64, 4), "hihi");
  EXPECT_EQ(text_at(image, 62 * 32 + 64, 7), "/target");
  EXPECT_EQ(verity256(image), "a8fcd41f8b313bede69f462f2af0a38d64b99a6333f5df884ea9ab4037fac722");
}

// composefs-rs's CLI test layer (test_oci_pull_and_inspect): the pinned V2 ID, SHA-512. The
// hard link is named first in name order, so V2 places the shared inode there.
TEST(FormatV2, ComposefsRsConformanceImageId) {
  auto tree = dump::parse(
      "/ 4096 40755 3 0 0 0 1234567890.0 - - -\n"
      "/hello-link.txt 0 @120000 - - - - 0.0 /hello.txt - -\n"
      "/hello.txt 22 100644 2 0 0 0 1234567890.0 - hello\\x20from\\x20test\\x20layer\\n -\n"
      "/usr 4096 40755 2 0 0 0 1234567890.0 - - -\n");
  EXPECT_EQ(to_hex(verity::digest_of(write_v2(tree), HashAlgorithm::kSha512)),
            "f7684c21050615c02cec250e0c7d4118fb0ff6340af5039e06f2f372a7614fff25dfd38cf7f28ad67d8b86"
            "e86371b7deafa9ae4bf543630322aee6196417de92");
}

// A dump without the root's size (upstream's root holds 256 more entries).
std::string without_root_size(const std::string& text) {
  std::size_t a = text.find(' '), b = text.find(' ', a + 1);
  return text.substr(0, a) + text.substr(b);
}

// Every generated dump through V2: the tree read back is the one V0 gives back for the same
// tree (reduced to what V2 keeps), composefs-info's streamed dump agrees, and the tree read back,
// or its dump, writes the same bytes again.
TEST(FormatV2, GeneratedDumpsRoundTrip) {
  int seeds = 0;
  for (const auto& [seed, want] :
       test::expected(test::repo_vectors() / "dumps" / "expected.sha256")) {
    auto tree = dump::parse(test::generated_dump(seed), {.strict = true});
    test::normalize_for_format_v2(tree.root());
    Bytes image = write_v2(tree);
    auto img = reader::Image::open(image);
    EXPECT_EQ(img.composefs_version(), 2u);
    auto back = reader::to_tree(img);
    std::string text = dump::print_to_string(back);
    Bytes v0 = writer::write_to_vector(tree, {0, 0});
    EXPECT_TRUE(without_root_size(text) ==
                without_root_size(dump::print_to_string(reader::to_tree(reader::Image::open(v0)))))
        << "seed " << seed << ": V2 and V0 give back different trees";
    EXPECT_TRUE(test::streamed_dump(img) == text)
        << "seed " << seed << ": composefs-info's dump differs";
    EXPECT_EQ(write_v2(back), image) << "seed " << seed << ": image -> tree -> image";
    EXPECT_EQ(write_v2(dump::parse(text, {.strict = true})), image)
        << "seed " << seed << ": image -> dump -> image";
    ++seeds;
  }
  EXPECT_GE(seeds, 30);
}

// V2 has no data blocks for files: composefs-rs stores at most 512 bytes inline (its
// MAX_INLINE_CONTENT) and this writer refuses more, where upstream's formats take 5000.
TEST(FormatV2, RefusesInlineFilesOver512Bytes) {
  auto dump_with = [](std::size_t n) {
    return dump::parse("/ 4096 40755 2 0 0 0 0.0 - - -\n/f " + std::to_string(n) +
                       " 100644 1 0 0 0 0.0 - " + std::string(n, 'x') + " -\n");
  };
  EXPECT_NO_THROW(write_v2(dump_with(512)));
  try {
    write_v2(dump_with(513));
    ADD_FAILURE() << "513 inline bytes were written";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), EINVAL);
  }
  EXPECT_NO_THROW(writer::write_to_vector(dump_with(5000), {1, 1}));
}

// erofs-utils' fsck accepts V2 images: composefs-rs's two trees and every generated dump.
TEST(FormatV2, FsckErofsAcceptsImages) {
  CFS_REQUIRE(test::run({"sh", "-c", "command -v fsck.erofs"}).status == 0,
              "fsck.erofs (erofs-utils) is not installed");
  test::TempDir tmp;
  auto fsck = [&](const Bytes& image, const std::string& what) {
    auto path = tmp / "v2.img";
    test::write_file(path,
                     std::string_view(reinterpret_cast<const char*>(image.data()), image.size()));
    auto r = test::run({"fsck.erofs", path.string()});
    EXPECT_EQ(r.status, 0) << what << ": " << r.out << r.err;
  };
  fsck(write_v2(dump::parse("/ 4096 40755 2 0 0 0 0.0 - - -\n")), "empty");
  int seeds = 0;
  for (const auto& [seed, want] :
       test::expected(test::repo_vectors() / "dumps" / "expected.sha256")) {
    fsck(write_v2(dump::parse(test::generated_dump(seed))), "seed " + seed);
    ++seeds;
  }
  EXPECT_GE(seeds, 30);
}

}  // namespace
}  // namespace cfs
