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
  FileBody body(const std::string&, std::uint64_t size) override {
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

// A header with its checksum made right again after an edit.
std::string with_checksum(std::string h) {
  std::memset(h.data() + 148, ' ', 8);
  unsigned sum = 0;
  for (unsigned char c : h) sum += c;
  std::snprintf(h.data() + 148, 8, "%06o", sum);
  return h;
}

// A header with the numeric field [at, at + len) set to `v` in base-256 (GNU: 0x80, then
// big-endian bytes).
std::string with_base256(std::string h, std::size_t at, std::size_t len, std::uint64_t v) {
  std::memset(h.data() + at, 0, len);
  h[at] = static_cast<char>(0x80);
  for (std::size_t i = len; i-- > 1 && v != 0; v >>= 8) h[at + i] = static_cast<char>(v & 0xFF);
  return with_checksum(h);
}

// A header with the field [at, at + text.size()) replaced by `text`.
std::string with_text(std::string h, std::size_t at, const std::string& text) {
  h.replace(at, text.size(), text);
  return with_checksum(h);
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
  m.pax = {{"mtime", "1700000000.5"}, {"uid", "4294967295"}, {"SCHILY.xattr.security.capability", std::string("\x01\x00\x02", 3)},
           {"SCHILY.xattr.user.a", "b"}, {"atime", "1"}, {"LIBARCHIVE.xattr.user.z", "eg=="}};
  std::vector<TarEntry> e = read_all_entries(test::make_tar({m}));
  ASSERT_EQ(e.size(), 1U);
  EXPECT_EQ(e[0].path, "/" + longname);
  EXPECT_EQ(e[0].mtime_sec, 1700000000);
  EXPECT_EQ(e[0].mtime_nsec, 500000000U);
  EXPECT_EQ(e[0].uid, 4294967295U);
  ASSERT_EQ(e[0].xattrs.size(), 2U);
  EXPECT_EQ(e[0].xattrs[0].name, "security.capability");
  EXPECT_EQ(e[0].xattrs[0].value, std::string("\x01\x00\x02", 3));
}

TEST(Tar, GnuLongNamesAndBase256) {
  std::string name(300, 'g');
  TarMember longname{.name = "././@LongLink", .type = 'L', .mode = 0};
  std::string data = name + '\0';
  std::string tar = test::tar_header(longname, data.size()) + data + std::string(512 - data.size() % 512, '\0');
  std::string h = with_base256(test::tar_header(test::file("short", ""), 0), 108, 8, 0x0102);
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

// No file system holds a NUL in a name or a symlink target: refused where the tar says so, with
// the whole name in the message (escaped, not cut at the NUL).
TEST(Tar, NulBytesInNamesAndTargetsAreRefused) {
  TarMember path = test::file("x", "");
  path.pax = {{"path", std::string("usr/a\0b\nc", 9)}};
  EXPECT_EQ(error_of(test::make_tar({path})), "corrupt image: tar layer: /usr/a\\x00b\\nc: a path with a NUL byte");
  TarMember sym = test::symlink("usr/l", "x");
  sym.pax = {{"linkpath", std::string("/etc/\0shadow", 12)}};
  EXPECT_EQ(error_of(test::make_tar({sym})), "corrupt image: tar layer: /usr/l: a link target with a NUL byte: '/etc/\\x00shadow'");
  TarMember hard = test::hardlink("usr/h", "x");
  hard.pax = {{"linkpath", std::string("usr/\0a", 6)}};
  EXPECT_NE(error_of(test::make_tar({hard})).find("/usr/h: a link target with a NUL byte: 'usr/\\x00a'"), std::string::npos);
  std::string gnu_link = std::string("a\0b", 3) + '\0';  // GNU 'K': the trailing NUL is stripped, not the inner one
  std::string tar = test::tar_header({.name = "././@LongLink", .type = 'K'}, gnu_link.size()) + gnu_link +
                    std::string(512 - gnu_link.size(), '\0') + test::make_tar({test::symlink("s", "x")});
  EXPECT_NE(error_of(tar).find("/s: a link target with a NUL byte: 'a\\x00b'"), std::string::npos);
}

// Every numeric field, in each encoding it may come in, at its largest value and one past it:
// nothing is truncated (a uid of 2^32 became 0, root).
TEST(Tar, NumericFieldsOutOfRangeAreRefused) {
  auto header = [](char type) { return test::tar_header({.name = "e", .type = type}, 0); };
  auto one = [](const std::string& h) { return h + std::string(1024, '\0'); };
  auto pax = [](const std::string& key, const std::string& value) {
    TarMember m = test::file("e", "");
    m.pax = {{key, value}};
    return test::make_tar({m});
  };
  struct Case {
    std::string name, tar;
    std::string error;  // empty: accepted
  };
  const std::uint64_t k2to32 = 1ULL << 32, k2to63 = 1ULL << 63;
  std::vector<Case> cases = {
      {"pax uid max", pax("uid", "4294967295"), ""},
      {"pax uid 2^32", pax("uid", "4294967296"), "/e: uid 4294967296 out of range"},
      {"pax gid 2^32+1", pax("gid", "4294967297"), "/e: gid 4294967297 out of range"},
      {"pax uid 2^64", pax("uid", "18446744073709551616"), "PAX uid value '18446744073709551616' out of range"},
      {"pax size 2^63", pax("size", "9223372036854775808"), "/e: size 9223372036854775808 out of range"},
      {"pax mtime max", pax("mtime", "9223372036854775807.5"), ""},
      {"pax mtime 2^63", pax("mtime", "9223372036854775808"), "/e: mtime 9223372036854775808 out of range"},
      {"base-256 uid max", one(with_base256(header('0'), 108, 8, k2to32 - 1)), ""},
      {"base-256 uid 2^32", one(with_base256(header('0'), 108, 8, k2to32)), "/e: uid 4294967296 out of range"},
      {"base-256 gid 2^40", one(with_base256(header('0'), 116, 8, 1ULL << 40)), "/e: gid 1099511627776 out of range"},
      {"base-256 size 2^63", one(with_base256(header('0'), 124, 12, k2to63)), "/e: size 9223372036854775808 out of range"},
      {"base-256 mtime 2^63", one(with_base256(header('0'), 136, 12, k2to63)), "/e: mtime 9223372036854775808 out of range"},
      {"base-256 mode 2^16", one(with_base256(header('0'), 100, 8, 1U << 16)), "/e: mode 65536 out of range"},
      {"base-256 major 4096", one(with_base256(header('3'), 329, 8, 4096)), "/e: device major 4096 out of range"},
      {"base-256 minor 2^20", one(with_base256(header('4'), 337, 8, 1U << 20)), "/e: device minor 1048576 out of range"},
      {"octal mode with type bits", one(with_text(header('0'), 100, "0100644")), ""},
      {"octal mode 8 digits", one(with_text(header('0'), 100, "01000644")), "/e: mode 262564 out of range"},
      {"octal major max", one(with_text(header('3'), 329, "0007777")), ""},
      {"octal major 4096", one(with_text(header('3'), 329, "0010000")), "/e: device major 4096 out of range"},
      {"octal minor max", one(with_text(header('3'), 337, "3777777")), ""},
      {"octal minor 2^20", one(with_text(header('3'), 337, "4000000")), "/e: device minor 1048576 out of range"},
  };
  for (const Case& c : cases) {
    std::string err = error_of(c.tar);
    if (c.error.empty()) {
      EXPECT_EQ(err, "") << c.name;
    } else {
      EXPECT_NE(err.find(c.error), std::string::npos) << c.name << ": " << err;
    }
  }
  // What the largest values read as.
  TarEntry dev = read_all_entries(one(with_text(with_text(header('3'), 329, "0007777"), 337, "3777777")))[0];
  EXPECT_EQ(dev.rdev, 0xFFFFFFFFU);  // major 4095, minor 2^20-1: every bit of a 32-bit dev_t
  EXPECT_EQ(read_all_entries(one(with_text(header('0'), 100, "0104755")))[0].mode, 04755U);
  EXPECT_EQ(read_all_entries(pax("mtime", "9223372036854775807"))[0].mtime_sec, INT64_MAX);
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
