// The tools as users run them: real binaries, exit codes, stdout/stderr, files left behind.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <filesystem>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>

#include "dump/parse.h"
#include "support/oci_image.h"
#include "support/support.h"
#include "writer/writer.h"

namespace cfs {
namespace {

using test::run;
using test::tool;

// The worked example plus a name and a payload with a space in them.
const std::string kDump =
    std::string(test::kWorkedExampleDump) + "/sp\\x20ace 5 100644 1 0 0 0 1700000000.0 x\\x20y - -\n";

TEST(Mkcomposefs, FromStdinToFileWithDigest) {
  test::TempDir tmp;
  auto r = run({tool("mkcomposefs"), "--from-file", "--print-digest", "-", (tmp / "x.cfs").string()}, kDump);
  ASSERT_EQ(r.status, 0) << r.err;
  auto only = run({tool("mkcomposefs"), "--from-file", "--print-digest-only", "-"}, kDump);
  ASSERT_EQ(only.status, 0) << only.err;
  EXPECT_EQ(r.out, only.out);
  EXPECT_EQ(r.out.size(), 65u);
  auto measured = run({tool("composefs-info"), "measure-file", (tmp / "x.cfs").string()});
  EXPECT_EQ(measured.out, r.out);
  auto stdout_img = run({tool("mkcomposefs"), "--from-file", "-", "-"}, kDump);
  EXPECT_EQ(stdout_img.out, test::read_file(tmp / "x.cfs"));
  EXPECT_EQ(run({"fsck.erofs", (tmp / "x.cfs").string()}).status, 0);
}

TEST(Mkcomposefs, VersionOptions) {
  auto v0 = run({tool("mkcomposefs"), "--from-file", "--max-version=0", "-", "-"}, kDump);
  auto v1 = run({tool("mkcomposefs"), "--from-file", "--min=1", "-", "-"}, kDump);
  auto pinned = run({tool("mkcomposefs"), "--from-file", "--version=1", "-", "-"}, kDump);
  ASSERT_EQ(v0.status, 0);
  EXPECT_EQ(v0.out[12], '\0');
  EXPECT_EQ(v1.out[12], '\1');
  EXPECT_EQ(pinned.out, v1.out);
  auto bad = run({tool("mkcomposefs"), "--from-file", "--min-version=2", "-", "-"}, kDump);
  EXPECT_EQ(bad.status, 1);
  EXPECT_EQ(bad.err, "mkcomposefs: cannot write file: Invalid argument\n");
  auto junk = run({tool("mkcomposefs"), "--from-file", "--min-version=x", "-", "-"}, kDump);
  EXPECT_EQ(junk.err, "mkcomposefs: Invalid min version x\n");
  auto version = run({tool("mkcomposefs"), "--version"});
  EXPECT_EQ(version.status, 0);
  EXPECT_NE(version.out.find("composefs"), std::string::npos);
}

TEST(Mkcomposefs, ArgumentErrors) {
  struct Case {
    std::vector<std::string> args;
    const char* first_line;
  } cases[] = {
      {{}, "mkcomposefs: No source path specified"},
      {{""}, "mkcomposefs: Empty source path specified"},
      {{"a", "b", "c"}, "mkcomposefs: Too many arguments"},
      {{"a"}, "mkcomposefs: No destination path specified"},
      {{"--print-digest-only", "a", "b"}, "mkcomposefs: Cannot specify destination path with --print-digest-only"},
      {{"--threads=0", "a", "b"}, "mkcomposefs: Invalid threads count 0"},
  };
  for (const auto& c : cases) {
    std::vector<std::string> argv = {tool("mkcomposefs")};
    argv.insert(argv.end(), c.args.begin(), c.args.end());
    auto r = run(argv);
    EXPECT_EQ(r.status, 1);
    EXPECT_EQ(r.err.substr(0, r.err.find('\n')), c.first_line);
  }
  auto unknown = run({tool("mkcomposefs"), "--bogus", "a", "b"});
  EXPECT_EQ(unknown.status, 1);
  EXPECT_NE(unknown.err.find("usage:"), std::string::npos);
}

// A failed build leaves no output file behind (upstream leaves an empty one).
// Malformed dumps of our own (upstream's should-fail assets join them where present).
std::vector<std::pair<std::string, std::string>> malformed_dumps() {
  const std::string root = "/ 4096 40755 2 0 0 0 0.0 - - -\n";
  return {{"dot name", root + "/. 0 100644 1 0 0 0 0.0 - - -\n"},
          {"dotdot name", root + "/.. 0 100644 1 0 0 0 0.0 - - -\n"},
          {"symlink without target", root + "/nolink 0 120777 1 0 0 0 0.0 - - -\n"},
          {"empty xattr key", root + "/x 0 100644 1 0 0 0 0.0 - - - =v\n"},
          {"long xattr key", root + "/x 0 100644 1 0 0 0 0.0 - - - user." + std::string(300, 'k') + "=v\n"},
          {"bad mode", root + "/x 0 10z644 1 0 0 0 0.0 - - -\n"},
          {"directory hard link", root + "/d 4096 40755 2 0 0 0 0.0 - - -\n/h 0 @40755 2 0 0 0 0.0 /d - -\n"},
          {"self hard link", root + "/self 0 @100644 1 0 0 0 0.0 /self - -\n"},
          {"truncated line", "/ 4096 40755 2 0 0\n"}};
}

TEST(Mkcomposefs, FailureLeavesNoFile) {
  test::TempDir tmp;
  std::vector<std::pair<std::string, test::fs::path>> inputs;
  test::TempDir dumps;
  for (const auto& [name, text] : malformed_dumps()) {
    inputs.emplace_back(name, dumps / (std::to_string(inputs.size()) + ".dump"));
    test::write_file(inputs.back().second, text);
  }
  if (auto upstream = test::upstream_vectors_dir()) {
    for (const auto& f : test::should_fail_assets(*upstream)) inputs.emplace_back(f.filename().string(), f);
  }
  for (const auto& [name, f] : inputs) {
    auto out = tmp / "out.cfs";
    auto r = run({tool("mkcomposefs"), "--from-file", f.string(), out.string()});
    EXPECT_EQ(r.status, 1) << name;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_EQ(r.err.rfind("mkcomposefs: ", 0), 0u) << r.err;
    EXPECT_FALSE(test::fs::exists(out)) << name;
    EXPECT_TRUE(test::fs::is_empty(tmp.path())) << "temporary file left by " << name;
  }
  auto missing = run({tool("mkcomposefs"), "--from-file", "/nonexistent", (tmp / "o").string()});
  EXPECT_EQ(missing.err, "mkcomposefs: open `/nonexistent`: No such file or directory\n");
  auto unreadable = run({tool("mkcomposefs"), "--from-file", tmp.path().string(), (tmp / "o").string()});
  EXPECT_EQ(unreadable.err, "mkcomposefs: read `" + tmp.path().string() + "`: Is a directory\n");
  EXPECT_TRUE(test::fs::is_empty(tmp.path()));
  auto full = run({"sh", "-c", tool("mkcomposefs").string() + " --from-file --print-digest-only - > /dev/full"},
                  "/ 4096 40755 2 0 0 0 0.0 - - -\n");
  EXPECT_EQ(full.status, 1);
  EXPECT_EQ(full.err, "mkcomposefs: write error: No space left on device\n");
}

TEST(Mkcomposefs, StrictModeFromEnvironment) {
  std::string no_newline = "/ 4096 40755 2 0 0 0 0.0 - - -";
  EXPECT_EQ(run({tool("mkcomposefs"), "--from-file", "-", "-"}, no_newline).status, 0);
  auto strict = run({tool("mkcomposefs"), "--from-file", "-", "-"}, no_newline, {"CFS_PARSE_STRICT="});
  EXPECT_EQ(strict.status, 1);
  EXPECT_EQ(strict.err, "mkcomposefs: Missing trailing newline\n");
}

class Info : public ::testing::Test {
 protected:
  void SetUp() override {
    image_ = (tmp_ / "x.cfs").string();
    ASSERT_EQ(run({tool("mkcomposefs"), "--from-file", "-", image_}, kDump).status, 0);
  }
  test::TempDir tmp_;
  std::string image_;
};

TEST_F(Info, Ls) {
  auto r = run({tool("composefs-info"), "ls", image_});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out,
            "/dir/\t\n/dir/hello\n"
            "/file\t@ ab/cdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789\n"
            "/hl\n/link\t-> dir\n/sp ace\t@ x\\x20y\n/wh\n");
}

TEST_F(Info, DumpRoundTripsThroughMkcomposefs) {
  auto dump = run({tool("composefs-info"), "dump", image_});
  ASSERT_EQ(dump.status, 0) << dump.err;
  auto again = run({tool("mkcomposefs"), "--from-file", "-", "-"}, dump.out);
  EXPECT_EQ(again.out, test::read_file(image_));
  auto copy = (tmp_ / "copy.cfs").string();
  ASSERT_EQ(run({tool("composefs-dump"), image_, copy}).status, 0);
  EXPECT_EQ(test::read_file(copy), test::read_file(image_));
  auto filtered = run({tool("composefs-info"), "--filter=link", "--filter=wh", "dump", image_});
  EXPECT_EQ(std::count(filtered.out.begin(), filtered.out.end(), '\n'), 3);
}

// composefs-info and composefs-dump read V2 images (composefs-rs's legacy format): the dump
// writes the same V2 bytes again, composefs-dump copies them unchanged, and the objects named
// are the V0 image's.
TEST_F(Info, ReadsFormatV2Images) {
  auto bytes = writer::write_to_vector(dump::parse(kDump), writer::Options::exactly(2));
  auto v2 = (tmp_ / "v2.cfs").string();
  test::write_file(v2, std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
  auto dump = run({tool("composefs-info"), "dump", v2});
  ASSERT_EQ(dump.status, 0) << dump.err;
  EXPECT_EQ(writer::write_to_vector(dump::parse(dump.out), writer::Options::exactly(2)), bytes);
  auto copy = (tmp_ / "copy.cfs").string();
  auto r = run({tool("composefs-dump"), v2, copy});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(test::read_file(copy), test::read_file(v2));
  auto objects = run({tool("composefs-info"), "objects", v2});
  ASSERT_EQ(objects.status, 0) << objects.err;
  EXPECT_EQ(objects.out, run({tool("composefs-info"), "objects", image_}).out);
}

TEST_F(Info, ObjectsAndMissingObjects) {
  auto objects = run({tool("composefs-info"), "objects", image_, image_});
  EXPECT_EQ(objects.out, "ab/cdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789\nx y\n");
  auto store = tmp_ / "store";
  test::fs::create_directories(store / "ab");
  test::write_file(store / "ab" / "cdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789", "");
  auto missing = run({tool("composefs-info"), "--basedir", store.string(), "missing-objects", image_});
  EXPECT_EQ(missing.out, "x y\n");
  EXPECT_EQ(missing.status, 1) << "objects are missing";
  // Several stores, as mount's basedir=A:B and repeated --basedir: found in any is found.
  auto other = tmp_ / "other";
  test::fs::create_directories(other);
  test::write_file(other / "x y", "");
  test::fs::create_directories(tmp_ / "empty");
  auto none = run({tool("composefs-info"), "--basedir=" + (tmp_ / "empty").string() + ":" + store.string(),
              "--basedir", other.string(), "missing-objects", image_});
  EXPECT_EQ(none.out, "");
  EXPECT_EQ(none.status, 0) << none.err;
  // Found as the kernel would find it: a symlink to the object does not count.
  test::fs::remove(other / "x y");
  test::fs::create_symlink(store / "ab" / "cdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789", other / "x y");
  auto linked = run({tool("composefs-info"), "--basedir=" + store.string() + ":" + other.string(), "missing-objects", image_});
  EXPECT_EQ(linked.out, "x y\n");
  auto bad = run({tool("composefs-info"), "--basedir=a::b", "missing-objects", image_});
  EXPECT_EQ(bad.err, "composefs-info: Value for basedir option has incorrect format\n");
}

TEST_F(Info, Errors) {
  auto r = run({tool("composefs-info"), "dump", "/nonexistent"});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "composefs-info: Failed to open '/nonexistent': No such file or directory\n");
  test::write_file(tmp_ / "junk", std::string(8192, 'j'));
  r = run({tool("composefs-info"), "dump", (tmp_ / "junk").string()});
  EXPECT_EQ(r.err, "composefs-info: Failed to load '" + (tmp_ / "junk").string() + "': Invalid argument\n");
  EXPECT_EQ(run({tool("composefs-info"), "frob", image_}).err, "composefs-info: Unknown command 'frob'\n");
  EXPECT_EQ(run({tool("composefs-info")}).err.substr(0, 35), "composefs-info: No command specifie");
  EXPECT_EQ(run({tool("composefs-info"), "--filter=a/b", "ls", image_}).err,
            "composefs-info: Filter must be a single name: a/b\n");
  EXPECT_EQ(run({tool("composefs-dump"), image_}).err.substr(0, 45),
            "composefs-dump: No destination path specified");
  // A failed write of the listing is an error, not a crash (walk.h's unit tests show that a
  // corrupt image is refused before anything is printed).
  auto full = run({"sh", "-c", tool("composefs-info").string() + " dump " + image_ + " > /dev/full"});
  EXPECT_EQ(full.status, 1);
  EXPECT_EQ(full.err, "composefs-info: write error: No space left on device\n");
}

// measure-file agrees with fsverity-utils (the kernel's algorithm), the empty file included.
TEST(MeasureFile, MatchesFsverityDigest) {
  CFS_REQUIRE(run({"fsverity", "--version"}).status == 0, "fsverity (fsverity package) is not installed");
  test::TempDir tmp;
  for (std::size_t size : {0ul, 1ul, 4095ul, 4096ul, 4097ul, 1ul << 20, (33ul << 20) + 1}) {
    auto f = tmp / ("f" + std::to_string(size));
    std::string data(size, '\0');
    for (std::size_t i = 0; i < size; ++i) data[i] = static_cast<char>((i * 7919) >> 3);
    test::write_file(f, data);
    auto ours = run({tool("composefs-info"), "measure-file", f.string()});
    auto ref = run({"fsverity", "digest", "--compact", f.string()});
    ASSERT_EQ(ours.status, 0) << ours.err;
    EXPECT_EQ(ours.out, ref.out) << "size " << size;
  }
  auto r = run({tool("composefs-info"), "measure-file", "/nonexistent"});
  EXPECT_EQ(r.err, "composefs-info: Failed to open '/nonexistent': No such file or directory\n");
}

}  // namespace
}  // namespace cfs

namespace cfs {
namespace {

// Node and string pools grow in chunks; they once wrapped at 561,460 entries (SIGSEGV).
// Two million entries build, print and rewrite through every tool.
TEST(Mkcomposefs, TwoMillionEntries) {
  test::TempDir tmp;
  std::string dump = "/ 4096 40755 2002 0 0 0 0.0 - - -\n";
  dump.reserve(2000000 * 48);
  char line[96];
  for (int d = 0; d < 2000; ++d) {
    std::snprintf(line, sizeof line, "/d%04d 4096 40755 2 0 0 0 0.0 - - -\n", d);
    dump += line;
    for (int f = 0; f < 999; ++f) {
      std::snprintf(line, sizeof line, "/d%04d/f%03d 0 100644 1 0 0 0 0.0 - - -\n", d, f);
      dump += line;
    }
  }
  test::write_file(tmp / "big.dump", dump);
  auto image = (tmp / "big.cfs").string();
  auto r = run({"/usr/bin/time", "-f", "%e s, %M KiB", tool("mkcomposefs"), "--from-file",
                (tmp / "big.dump").string(), image});
  ASSERT_EQ(r.status, 0) << r.err;
  std::cout << "mkcomposefs --from-file, 2,000,001 entries: " << r.err;
  r = run({"sh", "-c", tool("composefs-info").string() + " dump " + image + " | tee " + (tmp / "again.dump").string() +
                          " | " + tool("mkcomposefs").string() + " --from-file - - | cmp - " + image +
                          " && wc -l < " + (tmp / "again.dump").string()});
  EXPECT_EQ(r.status, 0) << "dump -> image differs: " << r.err;
  EXPECT_EQ(r.out, "2000001\n");
  r = run({"/usr/bin/time", "-f", "%e s, %M KiB", tool("composefs-dump"), image, (tmp / "copy.cfs").string()});
  ASSERT_EQ(r.status, 0) << r.err;
  std::cout << "composefs-dump of that image: " << r.err;
  EXPECT_EQ(run({"cmp", image, (tmp / "copy.cfs").string()}).status, 0);
}

}  // namespace
}  // namespace cfs

namespace cfs {
namespace {

// digest= is a trust anchor: a value that is not exactly one digest is refused before
// anything is mounted (an empty one, from an unset shell variable, once mounted unchecked).
TEST(MountComposefs, DigestMustBeExactlyOneDigest) {
  test::TempDir tmp;
  auto image = (tmp / "x.cfs").string();
  ASSERT_EQ(run({tool("mkcomposefs"), "--from-file", "-", image}, kDump).status, 0);
  std::filesystem::create_directory(tmp / "mnt");
  auto digest = run({tool("mkcomposefs"), "--from-file", "--print-digest-only", "-"}, kDump).out.substr(0, 64);
  for (const std::string& bad : {std::string(), digest + "00", digest + "a", digest.substr(0, 62), digest.substr(0, 63) + "g"}) {
    auto r = run({tool("mount.composefs"), "-o", "basedir=" + tmp.path().string() + ",digest=" + bad, image,
                  (tmp / "mnt").string()});
    EXPECT_EQ(r.status, 1) << "digest=" << bad;
    EXPECT_NE(r.err.find("Invalid digest " + (bad.empty() ? std::string("(empty)") : "'" + bad + "'") +
                         ": expected 64 (SHA-256) or 128 (SHA-512) hexadecimal digits"), std::string::npos) << r.err;
  }
  // Nothing of this test's is mounted (other tests may mount meanwhile: only ours count).
  EXPECT_EQ(test::read_file("/proc/self/mounts").find(tmp.path().string()), std::string::npos);
}

}  // namespace
}  // namespace cfs

namespace cfs {
namespace {

namespace fs = std::filesystem;

// Where an image goes: regular files and new names are replaced atomically (a symlink kept
// and its target replaced); devices, FIFOs and /proc/self/fd/N are written through, never
// replaced; a directory is refused before any work; a writable file in a directory the
// caller cannot write is written in place.
TEST(Mkcomposefs, OutputPathsAreWrittenAsUpstreamWritesThem) {
  test::TempDir tmp;
  auto image = run({tool("mkcomposefs"), "--from-file", "-", "-"}, kDump).out;
  ASSERT_FALSE(image.empty());
  auto mk = [&](const fs::path& out, const std::vector<std::string>& env = {}) {
    return run({tool("mkcomposefs"), "--from-file", "-", out.string()}, kDump, env);
  };
  {  // a symlink to an image: the target is replaced, the link kept
    test::write_file(tmp / "target.cfs", "old");
    fs::permissions(tmp / "target.cfs", fs::perms::owner_read | fs::perms::owner_write);
    fs::create_symlink("target.cfs", tmp / "link.cfs");
    ASSERT_EQ(mk(tmp / "link.cfs").status, 0);
    EXPECT_TRUE(fs::is_symlink(tmp / "link.cfs"));
    EXPECT_EQ(test::read_file(tmp / "target.cfs"), image);
    EXPECT_EQ(fs::status(tmp / "target.cfs").permissions(), fs::perms::owner_read | fs::perms::owner_write)
        << "a replaced file keeps its mode";
    fs::create_symlink("sub/new.cfs", tmp / "dangling.cfs");
    fs::create_directory(tmp / "sub");
    ASSERT_EQ(mk(tmp / "dangling.cfs").status, 0);
    EXPECT_TRUE(fs::is_symlink(tmp / "dangling.cfs"));
    EXPECT_EQ(test::read_file(tmp / "sub" / "new.cfs"), image);
  }
  {  // /proc/self/fd/N and /dev/stdout: written through
    auto r = run({"sh", "-c", tool("mkcomposefs").string() + " --from-file - /proc/self/fd/3 3>" + (tmp / "fd3").string()}, kDump);
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(test::read_file(tmp / "fd3"), image);
    r = run({"sh", "-c", tool("mkcomposefs").string() + " --from-file - /dev/stdout | cat"}, kDump);
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, image);
  }
  {  // a FIFO: written through to its reader, still a FIFO afterwards
    ASSERT_EQ(::mkfifo((tmp / "fifo").c_str(), 0644), 0);
    auto r = run({"sh", "-c", "cat " + (tmp / "fifo").string() + " > " + (tmp / "from-fifo").string() + " & " +
                                  tool("mkcomposefs").string() + " --from-file - " + (tmp / "fifo").string() + "; wait"},
                 kDump);
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_TRUE(fs::is_fifo(tmp / "fifo"));
    EXPECT_EQ(test::read_file(tmp / "from-fifo"), image);
  }
  {  // a directory: refused before the tree is read or a store created
    fs::create_directories(tmp / "src" / "d");
    test::write_file(tmp / "src" / "f", std::string(10000, 'x'));
    auto r = run({tool("mkcomposefs"), "--digest-store=" + (tmp / "store").string(), (tmp / "src").string(),
                  (tmp / "src").string()});
    EXPECT_EQ(r.status, 1);
    EXPECT_EQ(r.err, "mkcomposefs: failed to open output file: Is a directory\n");
    EXPECT_FALSE(fs::exists(tmp / "store")) << "work was done before the output was checked";
    r = run({tool("composefs-dump"), (tmp / "target.cfs").string(), tmp.path().string()});
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find("Is a directory"), std::string::npos) << r.err;
  }
  if (::geteuid() == 0) {  // a character device is written through, never replaced
    ASSERT_EQ(::mknod((tmp / "null").c_str(), S_IFCHR | 0666, makedev(1, 3)), 0);
    ASSERT_EQ(mk(tmp / "null").status, 0);
    EXPECT_TRUE(fs::is_character_file(tmp / "null"));
    ASSERT_EQ(run({tool("composefs-dump"), (tmp / "target.cfs").string(), (tmp / "null").string()}).status, 0);
    EXPECT_TRUE(fs::is_character_file(tmp / "null"));
    // A writable file in a directory the caller cannot write: written in place; a failed
    // build leaves it as it was.
    fs::create_directory(tmp / "closed");
    test::write_file(tmp / "closed" / "img.cfs", "previous");
    ASSERT_EQ(::chown((tmp / "closed" / "img.cfs").c_str(), 65534, 65534), 0);
    fs::permissions(tmp.path(), fs::perms::all);
    auto as_nobody = [&](std::vector<std::string> cmd, const std::string& input) {
      cmd.insert(cmd.begin(), {"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"});
      return run(cmd, input);
    };
    auto bad = as_nobody({tool("mkcomposefs"), "--from-file", "-", (tmp / "closed" / "img.cfs").string()}, "/ bad\n");
    EXPECT_EQ(bad.status, 1);
    EXPECT_EQ(test::read_file(tmp / "closed" / "img.cfs"), "previous");
    auto r = as_nobody({tool("mkcomposefs"), "--from-file", "-", (tmp / "closed" / "img.cfs").string()}, kDump);
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(test::read_file(tmp / "closed" / "img.cfs"), image);
    EXPECT_EQ(fs::directory_iterator(tmp / "closed")->path().filename(), "img.cfs");
  }
}

// `ulimit -n 128`: the tools that fill an object store (hundreds of objects, over most xx/
// directories) still succeed, with the same images.
TEST(ObjectStores, FillWithFewFileDescriptors) {
  test::TempDir tmp;
  std::vector<test::TarMember> members{test::dir("usr/")};
  fs::create_directories(tmp / "src" / "usr");
  for (int i = 0; i < 600; ++i) {
    std::string name = "usr/f" + std::to_string(i);
    std::string data = std::string(100 + i, 'a' + i % 26) + std::to_string(i);
    test::write_file(tmp / "src" / name, data);
    members.push_back(test::file(name, data));
  }
  test::write_layout(tmp / "layout", {{test::make_tar(members)}}, "t");
  auto both = [&](const std::string& what, const std::function<std::vector<std::string>(const std::string&)>& argv) {
    test::Run plenty = run(argv("plenty"));
    ASSERT_EQ(plenty.status, 0) << what << ": " << plenty.err;
    test::Run few = run(test::with_fd_limit(128, argv("few")));
    EXPECT_EQ(few.status, 0) << what << ": " << few.err;
    EXPECT_EQ(few.out, plenty.out) << what;
  };
  both("mkcomposefs --digest-store", [&](const std::string& k) {
    return std::vector<std::string>{tool("mkcomposefs"), "--print-digest", "--digest-store=" + (tmp / ("store-" + k)).string(),
                                    (tmp / "src").string(), (tmp / (k + ".cfs")).string()};
  });
  for (const char* k : {"plenty", "few"}) {
    ASSERT_EQ(test::cfsctl(tmp / (std::string("repo-") + k), {"init", "--insecure"}).status, 0);
  }
  both("cfsctl create-image", [&](const std::string& k) {
    return std::vector<std::string>{tool("cfsctl"), "--repo", (tmp / ("repo-" + k)).string(), "create-image", (tmp / "src").string()};
  });
  both("cfsctl oci pull", [&](const std::string& k) {
    return std::vector<std::string>{tool("cfsctl"), "--repo", (tmp / ("repo-" + k)).string(), "oci", "pull",
                                    "oci:" + (tmp / "layout").string(), "t"};
  });
  EXPECT_EQ(test::cfsctl(tmp / "repo-few", {"fsck"}).status, 0);
}

}  // namespace
}  // namespace cfs
