// mkcomposefs SOURCEDIR into an object store: hard links, sparse files, crash safety.
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <thread>
#include <fstream>
#include <functional>
#include <random>
#include <regex>

#include <fcntl.h>

#include "base/digest.h"
#include "base/file_io.h"
#include "support/support.h"
#include "verity/measure.h"

namespace cfs {
namespace {

namespace fs = test::fs;
using test::run;
using test::tool;

TEST(Store, HardlinksOptionKeepsLinks) {
  test::TempDir tmp;
  auto src = tmp / "src";
  fs::create_directories(src / "d");
  test::write_file(src / "a", std::string(1000, 'a'));
  fs::create_hard_link(src / "a", src / "d" / "b");
  fs::create_hard_link(src / "a", src / "z");
  test::write_file(src / "small", "tiny");
  fs::create_hard_link(src / "small", src / "small2");
  auto img = tmp / "img.cfs";
  auto r = run({tool("mkcomposefs"), "--hardlinks", src.string(), img.string()});
  ASSERT_EQ(r.status, 0) << r.err;
  auto dump = run({tool("composefs-info"), "dump", img.string()}).out;
  EXPECT_NE(dump.find("\n/a 1000 100644 3 "), std::string::npos) << dump;
  EXPECT_NE(dump.find("\n/d/b 1000 @100644 3 "), std::string::npos) << dump;
  EXPECT_NE(dump.find("\n/z 1000 @100644 3 "), std::string::npos) << dump;
  EXPECT_NE(dump.find("\n/small2 4 @100644 2 "), std::string::npos) << dump;
  // Without the option: upstream's behaviour, separate inodes with nlink 1.
  auto plain = run({tool("mkcomposefs"), "--print-digest-only", src.string()});
  auto plain_dump = run({tool("mkcomposefs"), src.string(), "-"});
  EXPECT_EQ(run({tool("composefs-info"), "dump", "/dev/stdin"}, plain_dump.out).out.find("@"), std::string::npos);
  // The kernel sees one inode.
  if (::geteuid() != 0) GTEST_SKIP() << "the kernel check needs root";
  auto mnt = tmp / "mnt";
  fs::create_directory(mnt);
  ASSERT_EQ(::mount(img.c_str(), mnt.c_str(), "erofs", MS_RDONLY, nullptr), 0) << std::strerror(errno);
  struct stat a {}, b {}, z {};
  ::lstat((mnt / "a").c_str(), &a);
  ::lstat((mnt / "d" / "b").c_str(), &b);
  ::lstat((mnt / "z").c_str(), &z);
  ::umount2(mnt.c_str(), MNT_DETACH);
  EXPECT_EQ(a.st_ino, b.st_ino);
  EXPECT_EQ(a.st_ino, z.st_ino);
  EXPECT_EQ(a.st_nlink, 3u);
}

TEST(Store, SparseFileStaysSparse) {
  test::TempDir tmp;
  auto src = tmp / "src";
  fs::create_directories(src);
  {
    std::ofstream f(src / "sparse", std::ios::binary);
    f.seekp((4ULL << 30) - 4096);
    f << std::string(4096, 'x');
  }
  auto store = tmp / "store";
  auto r = run({tool("mkcomposefs"), "--digest-store=" + store.string(), src.string(), (tmp / "img").string()});
  ASSERT_EQ(r.status, 0) << r.err;
  auto objects = run({tool("composefs-info"), "objects", (tmp / "img").string()}).out;
  ASSERT_EQ(objects.size(), 66u);
  auto object = store / objects.substr(0, 65);
  struct stat st {};
  ASSERT_EQ(::stat(object.c_str(), &st), 0);
  EXPECT_EQ(st.st_size, 4LL << 30);
  EXPECT_LE(st.st_blocks * 512, 64 * 1024) << "the 4 GiB object should cost about 4 KiB";
  EXPECT_EQ((st.st_mode & 07777), 0644u);
  auto digest = run({tool("composefs-info"), "measure-file", object.string()}).out;
  EXPECT_EQ(digest, objects.substr(0, 2) + objects.substr(3, 62) + "\n");
}

// Every file in the store is a valid object (name = digest of content); no temporaries.
void check_store(const fs::path& store) {
  static const std::regex kName("[0-9a-f]{2}/[0-9a-f]{62}");
  for (const auto& e : fs::recursive_directory_iterator(store)) {
    auto rel = fs::relative(e.path(), store).string();
    if (e.is_directory()) {
      EXPECT_TRUE(std::regex_match(rel, std::regex("[0-9a-f]{2}"))) << rel;
      continue;
    }
    ASSERT_TRUE(std::regex_match(rel, kName)) << "stray file in store: " << rel;
    UniqueFd fd = open_read(e.path());
    EXPECT_EQ(to_hex(verity::compute_from_fd(fd.get())), rel.substr(0, 2) + rel.substr(3)) << rel;
  }
}

TEST(Store, KilledRunsLeaveOnlyCompleteObjects) {
  test::TempDir tmp;
  auto src = tmp / "src";
  std::mt19937 rng(7);
  for (int i = 0; i < 400; ++i) {
    auto d = src / ("d" + std::to_string(i % 13));
    fs::create_directories(d);
    std::string data(100 + rng() % (i % 10 == 0 ? 8 << 20 : 20000), '\0');
    for (std::size_t k = 0; k < data.size(); k += 64) data[k] = static_cast<char>(rng());
    test::write_file(d / ("f" + std::to_string(i)), data);
  }
  auto store = tmp / "store";
  auto out = tmp / "out";
  fs::create_directories(out);
  for (int round = 0; round < 8; ++round) {
    std::string cmd = tool("mkcomposefs").string();
    std::vector<std::string> args = {cmd, "--digest-store=" + store.string(), src.string(), (out / "img.cfs").string()};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid;
    ASSERT_EQ(posix_spawn(&pid, cmd.c_str(), nullptr, nullptr, argv.data(), environ), 0);
    ::usleep(20000 + (rng() % 200000));
    ::kill(pid, round % 2 ? SIGKILL : SIGINT);
    int status;
    ::waitpid(pid, &status, 0);
    check_store(store);
    for (const auto& e : fs::directory_iterator(out)) {
      EXPECT_EQ(e.path().filename(), "img.cfs") << "temporary image left: " << e.path();
    }
  }
  auto r = run({tool("mkcomposefs"), "--digest-store=" + store.string(), src.string(), (out / "img.cfs").string()});
  ASSERT_EQ(r.status, 0) << r.err;
  check_store(store);
  auto missing = run({tool("composefs-info"), "--basedir=" + store.string(), "missing-objects", (out / "img.cfs").string()});
  EXPECT_EQ(missing.out, "");
}

using test::Tmpfs;

// Files f0.. made by `content(i)` in tmp/src, built by mkcomposefs into tmp/store and tmp/img.
test::Run build_files(const test::TempDir& tmp, int count, const std::function<std::string(int)>& content) {
  auto src = tmp / "src";
  fs::create_directories(src);
  for (int i = 0; i < count; ++i) test::write_file(src / ("f" + std::to_string(i)), content(i));
  return run({tool("mkcomposefs"), "--digest-store=" + (tmp / "store").string(), src.string(), (tmp / "img").string()});
}

// A store on another filesystem (tmpfs: no reflink, no copy_file_range across filesystems).
TEST(Store, StoreOnAnotherFilesystem) {
  CFS_REQUIRE(::geteuid() == 0, "mounting a tmpfs needs root");
  test::TempDir tmp;
  Tmpfs store(tmp / "store", "64m");
  ASSERT_TRUE(store.ok());
  auto r = build_files(tmp, 20, [](int i) { return std::string(10000 + i * 1000, 'a' + i); });
  ASSERT_EQ(r.status, 0) << r.err;
  check_store(tmp / "store");
  EXPECT_EQ(run({tool("composefs-info"), "--basedir=" + (tmp / "store").string(), "missing-objects", (tmp / "img").string()}).out, "");
}

// ENOSPC in the store: a clear error, no image, and only complete objects in the store.
TEST(Store, FullStoreFailsCleanly) {
  CFS_REQUIRE(::geteuid() == 0, "mounting a tmpfs needs root");
  test::TempDir tmp;
  Tmpfs store(tmp / "store", "1m");
  ASSERT_TRUE(store.ok());
  auto r = build_files(tmp, 8, [](int i) { return std::string(300000, 'a' + i); });
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("cannot fill store: " + (tmp / "src").string() + "/f"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("No space left on device"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(tmp / "img"));
  check_store(tmp / "store");
}

TEST(Store, ErrorsNameTheFile) {
  CFS_REQUIRE(::geteuid() == 0, "needs root to make an unreadable file that root cannot read");
  test::TempDir tmp;
  auto src = tmp / "src";
  fs::create_directories(src);
  test::write_file(src / "ok", "fine");
  auto r = run({tool("mkcomposefs"), (tmp / "nonexistent").string(), (tmp / "img").string()});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "mkcomposefs: error accessing " + (tmp / "nonexistent").string() + ": No such file or directory\n");
  EXPECT_FALSE(fs::exists(tmp / "img"));
  r = run({tool("mkcomposefs"), "--digest-store=" + (tmp / "store").string(), (tmp / "nonexistent").string(), (tmp / "img").string()});
  EXPECT_EQ(r.status, 1);
  EXPECT_FALSE(fs::exists(tmp / "store")) << "a source that cannot be scanned must not create the store";
  r = run({tool("mkcomposefs"), (src / "ok").string(), (tmp / "img").string()});
  EXPECT_EQ(r.err, "mkcomposefs: cannot write file: Not a directory\n");
  r = run({tool("mkcomposefs"), "--skip-xattrs", "--user-xattrs", src.string(), (tmp / "img").string()});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "mkcomposefs: error accessing " + src.string() + ": Invalid argument\n");
}

}  // namespace
}  // namespace cfs

namespace cfs {
namespace {

// A file rewritten (same size) while mkcomposefs reads it: every build gives an image and a
// store that agree, whichever content was caught. (The old store named the object after a
// first read and copied a second one: 20 of 20 builds stored a wrong object.)
TEST(Store, FileRewrittenDuringBuildGivesConsistentObjects) {
  test::TempDir tmp;
  fs::create_directories(tmp / "src");
  const std::size_t size = 24 << 20;
  std::string a(size, 'a'), b(size, 'b');
  test::write_file(tmp / "src" / "f", a);
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    int fd = ::open((tmp / "src" / "f").c_str(), O_WRONLY | O_CLOEXEC);
    for (int i = 0; !stop; ++i) {
      const std::string& s = i % 2 ? a : b;
      for (std::size_t off = 0; off < size && !stop; off += 1 << 20) {
        if (::pwrite(fd, s.data() + off, 1 << 20, static_cast<off_t>(off)) < 0) break;
      }
    }
    ::close(fd);
  });
  for (int build = 0; build < 8; ++build) {
    auto store = tmp / ("store" + std::to_string(build));
    auto img = tmp / ("img" + std::to_string(build));
    auto r = run({tool("mkcomposefs"), "--digest-store=" + store.string(), (tmp / "src").string(), img.string()});
    ASSERT_EQ(r.status, 0) << r.err;
    auto objects = run({tool("composefs-info"), "objects", img.string()}).out;
    ASSERT_EQ(objects.size(), 66u) << objects;  // "xx/<62 hex>\n"
    auto object = store / objects.substr(0, 65);
    ASSERT_TRUE(fs::exists(object)) << "the image names an object the store lacks";
    UniqueFd fd = open_read(object);
    EXPECT_EQ(to_hex(verity::compute_from_fd(fd.get())), objects.substr(0, 2) + objects.substr(3, 62))
        << "build " << build << ": an object under a name its content does not have";
  }
  stop = true;
  writer.join();
}

}  // namespace
}  // namespace cfs
