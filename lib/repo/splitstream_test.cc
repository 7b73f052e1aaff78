// Splitstreams written here read back chunk by chunk, references and names intact.
#include "repo/splitstream.h"

#include <gtest/gtest.h>

#include "base/error.h"

namespace cfs::repo {
namespace {

Digest digest(std::uint8_t fill, HashAlgorithm a) {
  Digest d(a);
  for (std::size_t i = 0; i < d.size(); ++i) d[i] = static_cast<std::uint8_t>(fill + i);
  return d;
}

TEST(SplitStream, WrittenStreamsReadBack) {
  for (HashAlgorithm a : {HashAlgorithm::kSha256, HashAlgorithm::kSha512}) {
    SplitStreamWriter w(a, content_type_of("ocilayer"));
    std::string head(3000, 'h');
    w.write_inline(std::as_bytes(std::span(head)));
    w.write_external(digest(1, a), 100);
    w.write_external(digest(2, a), 200);
    w.write_external(digest(1, a), 100);  // the same object again: one reference
    w.write_inline(std::as_bytes(std::span(std::string_view("tail"))));
    w.add_named_ref("sha256:layer", digest(9, a));
    w.add_named_ref("config:x", digest(8, a));
    std::vector<std::byte> file = w.finish();

    SplitStreamReader r(file, a);
    EXPECT_EQ(r.refs().content_type, content_type_of("ocilayer"));
    EXPECT_EQ(r.stream_size(), 3000U + 400U + 4U);
    ASSERT_EQ(r.refs().object_refs.size(), 2U);
    ASSERT_EQ(r.refs().named_refs.size(), 2U);
    std::string inline_bytes;
    std::vector<Digest> externals;
    for (;;) {
      std::byte buf[700];
      std::size_t n = r.read_inline(buf);
      if (n > 0) {
        inline_bytes.append(reinterpret_cast<const char*>(buf), n);
        continue;
      }
      if (!r.at_external()) break;
      externals.push_back(r.next_external());
    }
    EXPECT_EQ(inline_bytes, head + "tail");
    ASSERT_EQ(externals.size(), 3U);
    EXPECT_EQ(externals[0], digest(1, a));
    EXPECT_EQ(externals[1], digest(2, a));
    EXPECT_EQ(externals[2], digest(1, a));
    SplitStreamRefs refs = read_splitstream_refs(file, a, true);
    for (const auto& [index, name] : refs.named_refs) {
      EXPECT_EQ(refs.stream_refs[index], name == "config:x" ? digest(8, a) : digest(9, a)) << name;
    }
  }
}

// composefs-rs before its header was repr(C) (bootc <= 1.15.x) wrote the same fields reordered:
// info range, flags, magic, version, algorithm, lg_blocksize. Such streams read the same.
TEST(SplitStream, OldHeaderLayoutReadsTheSame) {
  HashAlgorithm a = HashAlgorithm::kSha256;
  SplitStreamWriter w(a, content_type_of("ociconfg"));
  w.write_inline(std::as_bytes(std::span(std::string_view("inline"))));
  w.write_external(digest(3, a), 10);
  w.add_named_ref("composefs.image.v1", digest(4, a));
  std::vector<std::byte> file = w.finish();
  std::vector<std::byte> old(file);
  std::copy_n(file.begin() + 16, 16, old.begin());      // info
  std::copy_n(file.begin() + 12, 2, old.begin() + 16);  // flags
  std::copy_n(file.begin(), 12, old.begin() + 18);      // magic, version
  std::copy_n(file.begin() + 14, 2, old.begin() + 30);  // algorithm, lg_blocksize
  EXPECT_FALSE(is_old_format_splitstream(file));
  EXPECT_TRUE(is_old_format_splitstream(old));
  SplitStreamRefs refs = read_splitstream_refs(old, a, true);
  EXPECT_EQ(refs.content_type, content_type_of("ociconfg"));
  ASSERT_EQ(refs.named_refs.size(), 1U);
  EXPECT_EQ(refs.named_refs[0].second, "composefs.image.v1");
  SplitStreamReader r(old, a);
  std::byte buf[16];
  EXPECT_EQ(r.read_inline(buf), 6U);
  ASSERT_TRUE(r.at_external());
  EXPECT_EQ(r.next_external(), digest(3, a));
  // A wrong algorithm is still refused in the old layout.
  EXPECT_THROW(read_splitstream_refs(old, HashAlgorithm::kSha512, false), Error);
}

TEST(SplitStream, TruncatedStreamsAreErrors) {
  SplitStreamWriter w(HashAlgorithm::kSha256, 0);
  std::string data(100000, 'd');
  for (int i = 0; i < 50; ++i) data[static_cast<std::size_t>(i) * 1000] = static_cast<char>(i);
  w.write_inline(std::as_bytes(std::span(data)));
  std::vector<std::byte> file = w.finish();
  file.resize(file.size() - 20);
  EXPECT_THROW(
      {
        SplitStreamReader r(file, HashAlgorithm::kSha256);
        std::byte buf[4096];
        while (r.read_inline(buf) != 0) {
        }
      },
      Error);
}

}  // namespace
}  // namespace cfs::repo
