// The layer tar reader against composefs-rs's rules (oci-import.md §3), on streams made by the
// test tar writer and edited by hand.
#include "oci/tar.h"

#include <gtest/gtest.h>

#include <cstring>

#include "base/error.h"
#include "support/oci_image.h"

namespace cfs::oci {
namespace {

using test::TarMember;

class StringInput final : public TarInput {
 public:
  explicit StringInput(std::string s) : s_(std::move(s)) {}
  std::size_t read_some(std::span<std::byte> buf) override {
    std::size_t n = std::min(buf.size(), s_.size() - at_);
    n = std::min<std::size_t>(n, 700);  // odd read sizes, as a decompressor gives them
    std::memcpy(buf.data(), s_.data() + at_, n);
    at_ += n;
    return n;
  }
  FileBody body(std::uint64_t size) override {
    if (s_.size() - at_ < size) throw Error(EUCLEAN, "truncated body");
    FileBody b{s_.substr(at_, size), std::nullopt};
    at_ += size;
    return b;
  }
  std::size_t at_ = 0;

 private:
  std::string s_;
};

std::vector<TarEntry> read_all_entries(const std::string& tar) {
  StringInput in(tar);
  TarReader r(in);
  std::vector<TarEntry> out;
  while (auto e = r.next()) out.push_back(std::move(*e));
  return out;
}

std::string error_of(const std::string& tar) {
  try {
    read_all_entries(tar);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(Tar, EntriesOfEveryKind) {
  TarMember dev{.name = "dev/null", .type = '3', .mode = 0666, .major = 1, .minor = 3};
  TarMember fifo{.name = "run/fifo", .type = '6'};
  std::vector<TarEntry> e = read_all_entries(test::make_tar(
      {test::dir("./"), test::dir("usr/", 5, 02755), test::file("./usr/a", "hello"), test::hardlink("usr/b", "./usr/a"),
       test::symlink("usr/c", "../x//y"), dev, fifo}));
  ASSERT_EQ(e.size(), 7U);
  EXPECT_EQ(e[0].path, "/");
  EXPECT_EQ(e[1].path, "/usr");
  EXPECT_EQ(e[1].mode, 02755U);
  EXPECT_EQ(e[1].mtime_sec, 5);
  EXPECT_EQ(e[2].path, "/usr/a");
  EXPECT_EQ(e[2].body.bytes, "hello");
  EXPECT_EQ(e[2].size, 5U);
  EXPECT_EQ(e[3].type, EntryType::kHardLink);
  EXPECT_EQ(e[3].link, "/usr/a");  // normalised
  EXPECT_EQ(e[4].link, "../x//y");  // kept byte for byte
  EXPECT_EQ(e[5].type, EntryType::kCharDevice);
  EXPECT_EQ(e[5].rdev, (1U << 8) | 3U);
  EXPECT_EQ(e[6].type, EntryType::kFifo);
}

TEST(Tar, PaxOverridesAndXattrs) {
  std::string longname = "usr/" + std::string(150, 'n');
  TarMember m = test::file(longname, "x");
  m.pax = {{"mtime", "1700000000.5"}, {"uid", "4294967297"}, {"SCHILY.xattr.security.capability", std::string("\x01\x00\x02", 3)},
           {"SCHILY.xattr.user.a", "b"}, {"atime", "1"}, {"LIBARCHIVE.xattr.user.z", "eg=="}};
  std::vector<TarEntry> e = read_all_entries(test::make_tar({m}));
  ASSERT_EQ(e.size(), 1U);
  EXPECT_EQ(e[0].path, "/" + longname);
  EXPECT_EQ(e[0].mtime_sec, 1700000000);
  EXPECT_EQ(e[0].mtime_nsec, 500000000U);
  EXPECT_EQ(e[0].uid, 1U);  // truncated to 32 bits
  ASSERT_EQ(e[0].xattrs.size(), 2U);
  EXPECT_EQ(e[0].xattrs[0].name, "security.capability");
  EXPECT_EQ(e[0].xattrs[0].value, std::string("\x01\x00\x02", 3));
}

TEST(Tar, GnuLongNamesAndBase256) {
  std::string name(300, 'g');
  TarMember longname{.name = "././@LongLink", .type = 'L', .mode = 0};
  std::string data = name + '\0';
  std::string tar = test::tar_header(longname, data.size()) + data + std::string(512 - data.size() % 512, '\0');
  std::string h = test::tar_header(test::file("short", ""), 0);
  h[108] = static_cast<char>(0x80);  // base-256 uid 0x0102
  std::memset(h.data() + 109, 0, 7);
  h[114] = 1;
  h[115] = 2;
  std::memset(h.data() + 148, ' ', 8);
  unsigned sum = 0;
  for (unsigned char c : h) sum += c;
  std::snprintf(h.data() + 148, 8, "%06o", sum);
  tar += h + std::string(1024, '\0');
  std::vector<TarEntry> e = read_all_entries(tar);
  ASSERT_EQ(e.size(), 1U);
  EXPECT_EQ(e[0].path, "/" + name);
  EXPECT_EQ(e[0].uid, 0x0102U);
}

TEST(Tar, EndWithoutEndBlocksAndPaddingAfter) {
  std::string tar = test::make_tar({test::file("a", "1")});
  EXPECT_EQ(read_all_entries(tar.substr(0, tar.size() - 1024)).size(), 1U);  // EOF at a header boundary
  StringInput in(tar + std::string(10240, '\0'));
  TarReader r(in);
  while (r.next()) {
  }
  EXPECT_EQ(in.at_, tar.size() + 10240);  // record padding after the end is consumed
}

TEST(Tar, HostileStreamsAreRefused) {
  EXPECT_NE(error_of(test::make_tar({test::file("../etc/passwd", "x")})).find("'..'"), std::string::npos);
  EXPECT_NE(error_of(test::make_tar({test::file("a/../../b", "x")})).find("'..'"), std::string::npos);
  std::string tar = test::make_tar({test::file("a", "1")});
  std::string bad = tar;
  bad[0] = 'b';  // checksum no longer matches
  EXPECT_NE(error_of(bad).find("checksum"), std::string::npos);
  EXPECT_NE(error_of(tar.substr(0, 700)).find("truncated"), std::string::npos);
  EXPECT_NE(error_of(tar.substr(0, 300)).find("truncated"), std::string::npos);
  std::string stray = std::string(512, '\0') + tar;
  EXPECT_NE(error_of(stray).find("single zero block"), std::string::npos);
  TarMember sparse = test::file("s", "");
  sparse.type = 'S';
  EXPECT_NE(error_of(test::make_tar({sparse})).find("sparse"), std::string::npos);
  TarMember odd = test::file("o", "");
  odd.type = 'V';
  EXPECT_NE(error_of(test::make_tar({odd})).find("unsupported entry type"), std::string::npos);
  TarMember dir_with_size = test::dir("d/");
  dir_with_size.pax = {{"size", "10"}};
  EXPECT_NE(error_of(test::make_tar({dir_with_size})).find("non-regular entry with data"), std::string::npos);
  EXPECT_NE(error_of(test::make_tar({test::symlink("l", "")})).find("without a target"), std::string::npos);
  TarMember huge = test::file("h", "");
  huge.pax = {{"comment", std::string(2 << 20, 'p')}};
  EXPECT_NE(error_of(test::make_tar({huge})).find("over 1 MiB"), std::string::npos);
  TarMember badpax = test::file("p", "");
  badpax.pax = {{"size", "12x"}};
  EXPECT_NE(error_of(test::make_tar({badpax})).find("invalid PAX size"), std::string::npos);
  TarMember empty = test::file("", "");
  EXPECT_NE(error_of(test::make_tar({empty})).find("empty path"), std::string::npos);
}

TEST(Tar, TooManyExtensionHeaders) {
  std::string tar;
  std::string rec = "10 uid=12\n";
  for (int i = 0; i < 17; ++i) {
    tar += test::tar_header({.name = "x", .type = 'x'}, rec.size()) + rec + std::string(512 - rec.size(), '\0');
  }
  tar += test::make_tar({test::file("a", "")});
  EXPECT_NE(error_of(tar).find("too many extension headers"), std::string::npos);
}

TEST(Tar, PathsNormalise) {
  EXPECT_EQ(normalize_tar_path("./"), "/");
  EXPECT_EQ(normalize_tar_path("/"), "/");
  EXPECT_EQ(normalize_tar_path("."), "/");
  EXPECT_EQ(normalize_tar_path("//a///b/./c/"), "/a/b/c");
  EXPECT_THROW(normalize_tar_path("a/.."), Error);
}

}  // namespace
}  // namespace cfs::oci
