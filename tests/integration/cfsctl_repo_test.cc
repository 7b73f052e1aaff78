// cfsctl with mounts, concurrent processes and crashes: what a repository user relies on.
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "support/fs_compare.h"
#include "support/oci_image.h"
#include "support/support.h"

namespace cfs {
namespace {

namespace fs = test::fs;
using test::run;
using test::tool;


std::vector<std::string> cfsctl_args(const fs::path& repo, std::vector<std::string> args) {
  args.insert(args.begin(), {tool("cfsctl").string(), "--repo", repo.string()});
  return args;
}

using test::cfsctl;

pid_t spawn(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = -1;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  if (posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ) != 0) pid = -1;
  posix_spawn_file_actions_destroy(&fa);
  return pid;
}

bool exited(pid_t pid, int& status) { return ::waitpid(pid, &status, WNOHANG) == pid; }

// A tree with objects, inline files, a hard link, xattrs and /run (which the image empties).
void sample_tree(const fs::path& dir, const std::string& salt) {
  fs::create_directories(dir / "usr" / "lib");
  fs::create_directories(dir / "run" / "x");
  test::write_file(dir / "usr" / "lib" / "big", test::patterned(300000) + salt);
  test::write_file(dir / "usr" / "lib" / "small", "small " + salt);
  test::write_file(dir / "usr" / "data", std::string(7000, 'd') + salt);
  test::write_file(dir / "run" / "x" / "junk", "junk");
  fs::create_hard_link(dir / "usr" / "lib" / "big", dir / "usr" / "big-link");
}

void expect_image_content(const fs::path& mnt, const fs::path& src) {
  for (const char* f : {"usr/lib/big", "usr/lib/small", "usr/data", "usr/big-link"}) {
    EXPECT_TRUE(test::read_file(mnt / f) == test::read_file(src / f)) << f;
  }
  EXPECT_EQ(fs::hard_link_count(mnt / "usr" / "big-link"), 2u);
  EXPECT_TRUE(fs::is_empty(mnt / "run"));
}

// Mounted with the kernel by ref and by hex, and with composefs-fuse; SHA-512 and SHA-256;
// format V1 and (a V2 repository) composefs-rs's legacy V2.
TEST(CfsctlRepo, ImagesMountWithTheKernelAndFuse) {
  CFS_REQUIRE_MOUNTS();
  for (auto [algorithm, erofs] : {std::pair{"fsverity-sha512-12", "1"}, {"fsverity-sha256-12", "1"}, {"fsverity-sha512-12", "2"}}) {
    SCOPED_TRACE(std::string(algorithm) + " V" + erofs);
    test::TempDir tmp;
    auto repo = tmp / "repo", mnt = tmp / "mnt";
    fs::create_directory(mnt);
    sample_tree(tmp / "src", "m");
    ASSERT_EQ(cfsctl(repo, {"init", "--insecure", "--algorithm", algorithm, "--erofs-version", erofs}).status, 0);
    auto r = cfsctl(repo, {"create-image", (tmp / "src").string(), "os"});
    ASSERT_EQ(r.status, 0) << r.err;
    std::string hex = r.out.substr(r.out.find(':') + 1);
    hex.pop_back();
    for (const std::vector<std::string>& how :
         {std::vector<std::string>{"mount", "os"}, {"mount", "refs/os"}, {"mount", hex}, {"mount", "--fuse", "yes", hex}}) {
      SCOPED_TRACE(how[1]);
      auto args = how;
      args.push_back(mnt.string());
      r = cfsctl(repo, args);
      ASSERT_EQ(r.status, 0) << r.err;
      expect_image_content(mnt, tmp / "src");
      EXPECT_EQ(::umount2(mnt.c_str(), 0), 0);
      for (int i = 0; i < 100 && test::is_mounted(mnt); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    // A ref to the image's object file itself (not images/<ID>) is refused, not mounted unchecked.
    fs::create_symlink("../../objects/" + hex.substr(0, 2) + "/" + hex.substr(2), repo / "images" / "refs" / "raw");
    r = cfsctl(repo, {"mount", "raw", mnt.string()});
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find("images/refs/raw does not link to an image ID"), std::string::npos) << r.err;
    EXPECT_FALSE(test::is_mounted(mnt));
    // A changed image is refused by its digest (checked without fs-verity too).
    auto object = repo / "objects" / hex.substr(0, 2) / hex.substr(2);
    {
      std::fstream f(object, std::ios::in | std::ios::out | std::ios::binary);
      f.seekp(40);
      f.put('\x7f');
    }
    r = cfsctl(repo, {"mount", hex, mnt.string()});
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find("wrong fs-verity"), std::string::npos) << r.err;
    r = cfsctl(repo, {"mount", "--fuse", "yes", hex, mnt.string()});
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find("fs-verity content mismatch"), std::string::npos) << r.err;
    EXPECT_FALSE(test::is_mounted(mnt));
  }
}

// `cfsctl transaction` holds the repository open: gc waits for it, then runs.
TEST(CfsctlRepo, GcWaitsForOpenRepositories) {
  test::TempDir tmp;
  auto repo = tmp / "repo";
  ASSERT_EQ(cfsctl(repo, {"init", "--insecure"}).status, 0);
  pid_t holder = spawn(cfsctl_args(repo, {"transaction"}));
  ASSERT_GT(holder, 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  pid_t gc = spawn(cfsctl_args(repo, {"gc"}));
  ASSERT_GT(gc, 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  int status = 0;
  EXPECT_FALSE(exited(gc, status)) << "gc ran while the repository was open elsewhere";
  ::kill(holder, SIGKILL);
  ::waitpid(holder, &status, 0);
  bool done = false;
  for (int i = 0; i < 500 && !(done = exited(gc, status)); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  if (!done) ::kill(gc, SIGKILL), ::waitpid(gc, &status, 0);
  EXPECT_TRUE(done && WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

// gc running again and again while other processes create named images: every image that
// was named when its create-image finished keeps all its objects.
TEST(CfsctlRepo, GcBesideConcurrentCreates) {
  test::TempDir tmp;
  auto repo = tmp / "repo";
  ASSERT_EQ(cfsctl(repo, {"init", "--insecure"}).status, 0);
  for (int i = 0; i < 6; ++i) sample_tree(tmp / ("src" + std::to_string(i)), std::to_string(i));
  std::atomic<bool> stop{false};
  std::thread collector([&] {
    while (!stop) EXPECT_EQ(cfsctl(repo, {"gc"}).status, 0);
  });
  std::vector<std::string> created;
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 6; ++i) {
      auto r = cfsctl(repo, {"create-image", (tmp / ("src" + std::to_string(i))).string(), "img" + std::to_string(i)});
      ASSERT_EQ(r.status, 0) << r.err;
    }
  }
  stop = true;
  collector.join();
  ASSERT_EQ(cfsctl(repo, {"gc"}).status, 0);
  auto r = cfsctl(repo, {"fsck"});
  EXPECT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("images: 6/6 ok"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("missing"), std::string::npos) << r.out;
}

// SIGKILL at random moments of create-image and gc: afterwards fsck passes (at most
// unreferenced objects remain, which the next gc removes) and every named image is whole.
TEST(CfsctlRepo, KilledCommandsLeaveAConsistentRepository) {
  test::TempDir tmp;
  auto repo = tmp / "repo";
  ASSERT_EQ(cfsctl(repo, {"init", "--insecure"}).status, 0);
  for (int i = 0; i < 3; ++i) sample_tree(tmp / ("src" + std::to_string(i)), "k" + std::to_string(i));
  std::mt19937 rng(777);
  for (int round = 0; round < 24; ++round) {
    std::vector<std::string> args = round % 3 == 2 ? std::vector<std::string>{"gc"}
                                                   : std::vector<std::string>{"create-image",
                                                                              (tmp / ("src" + std::to_string(rng() % 3))).string(),
                                                                              "img" + std::to_string(rng() % 2)};
    pid_t pid = spawn(cfsctl_args(repo, args));
    ASSERT_GT(pid, 0);
    std::this_thread::sleep_for(std::chrono::microseconds(rng() % 40000));
    ::kill(pid, SIGKILL);
    int status;
    ::waitpid(pid, &status, 0);
    auto r = cfsctl(repo, {"fsck"});
    ASSERT_EQ(r.status, 0) << "after killing " << args[0] << " (round " << round << "):\n" << r.out << r.err;
  }
  ASSERT_EQ(cfsctl(repo, {"gc"}).status, 0);
  EXPECT_EQ(cfsctl(repo, {"fsck"}).status, 0);
  // Every image that survived mounts and reads whole.
  if (::geteuid() != 0 || !test::kernel_has("erofs") || !test::kernel_has("overlay")) return;
  auto mnt = tmp / "mnt";
  fs::create_directory(mnt);
  for (const auto& ref : fs::directory_iterator(repo / "images" / "refs")) {
    std::string name = ref.path().filename();
    auto r = cfsctl(repo, {"mount", name, mnt.string()});
    ASSERT_EQ(r.status, 0) << name << ": " << r.err;
    std::size_t bytes = 0;
    for (const auto& e : fs::recursive_directory_iterator(mnt)) {
      if (e.is_regular_file()) bytes += test::read_file(e.path()).size();
    }
    EXPECT_GT(bytes, 300000u) << name;
    EXPECT_EQ(::umount2(mnt.c_str(), 0), 0);
  }
}

// What `id -u` prints when the user nobody runs `program` (its effective uid).
std::string euid_as_nobody(const fs::path& program) {
  auto r = run({"/usr/bin/setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", program.string(), "-u"});
  return r.status == 0 ? r.out : "failed: " + r.err;
}

void unmount(const fs::path& mnt) {
  EXPECT_EQ(::umount2(mnt.c_str(), 0), 0);
  for (int i = 0; i < 100 && test::is_mounted(mnt); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
}

// A pulled container image's set-uid root binary gives a local user nothing, and its devices
// cannot be opened, unless --suid/--dev ask for a root filesystem's mount (kernel only).
TEST(CfsctlRepo, ContainerImagesMountNosuidNodev) {
  CFS_REQUIRE_MOUNTS();
  CFS_REQUIRE(fs::exists("/usr/bin/setpriv"), "no setpriv (util-linux)");
  test::TempDir tmp;
  fs::permissions(tmp.path(), fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);  // nobody passes
  test::TarMember id = test::file("usr/bin/id", test::read_file("/usr/bin/id"));
  id.mode = 04755;
  test::write_layout(tmp / "layout", {{test::make_tar({test::dir("usr"), test::dir("usr/bin"), id})}}, "latest");
  auto repo = tmp / "repo", mnt = tmp / "mnt";
  fs::create_directory(mnt);
  ASSERT_EQ(cfsctl(repo, {"init", "--insecure"}).status, 0);
  auto r = cfsctl(repo, {"oci", "pull", "oci:" + (tmp / "layout").string() + ":latest", "app"});
  ASSERT_EQ(r.status, 0) << r.err;

  ASSERT_EQ((r = cfsctl(repo, {"oci", "mount", "app", mnt.string()})).status, 0) << r.err;
  struct statvfs st {};
  ASSERT_EQ(::statvfs(mnt.c_str(), &st), 0);
  EXPECT_TRUE(st.f_flag & ST_NOSUID);
  EXPECT_TRUE(st.f_flag & ST_NODEV);
  EXPECT_EQ(fs::status(mnt / "usr/bin/id").permissions() & fs::perms::set_uid, fs::perms::set_uid) << "the image keeps its modes";
  EXPECT_EQ(euid_as_nobody(mnt / "usr/bin/id"), "65534\n");
  unmount(mnt);

  ASSERT_EQ((r = cfsctl(repo, {"oci", "mount", "--suid", "--dev", "app", mnt.string()})).status, 0) << r.err;
  ASSERT_EQ(::statvfs(mnt.c_str(), &st), 0);
  EXPECT_FALSE(st.f_flag & ST_NOSUID);
  EXPECT_FALSE(st.f_flag & ST_NODEV);
  EXPECT_EQ(euid_as_nobody(mnt / "usr/bin/id"), "0\n") << "--suid: a root filesystem's set-uid works";
  unmount(mnt);

  // FUSE mounts are always nosuid,nodev, and read-only: asking otherwise is a usage error.
  ASSERT_EQ((r = cfsctl(repo, {"oci", "mount", "--fuse", "yes", "app", mnt.string()})).status, 0) << r.err;
  ASSERT_EQ(::statvfs(mnt.c_str(), &st), 0);
  EXPECT_TRUE((st.f_flag & ST_NOSUID) && (st.f_flag & ST_NODEV));
  EXPECT_EQ(euid_as_nobody(mnt / "usr/bin/id"), "65534\n");
  unmount(mnt);
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"oci", "mount", "--fuse", "yes", "--suid", "app", mnt.string()},
        {"oci", "mount", "--fuse", "yes", "--upperdir", (tmp / "u").string(), "--workdir", (tmp / "w").string(), "--read-write", "app", mnt.string()},
        {"mount", "--fuse", "yes", "--upperdir", (tmp / "u").string(), "--workdir", (tmp / "w").string(), "refs/oci/app", mnt.string()}}) {
    r = cfsctl(repo, args);
    EXPECT_EQ(r.status, 2) << args[3] << ": " << r.err;
    EXPECT_NE(r.err.find("needs a kernel mount"), std::string::npos) << r.err;
    EXPECT_FALSE(test::is_mounted(mnt));
  }
}

// Paths and URLs that cfsctl hands to composefs-fuse cannot add options: a repository whose
// path has a comma and a colon mounts, a mirror URL carrying ",fsname=…" stays one URL.
TEST(CfsctlRepo, FuseMountOptionsCannotBeInjected) {
  CFS_REQUIRE(fs::exists("/dev/fuse"), "no /dev/fuse");
  test::TempDir tmp;
  auto repo = tmp / "re,po:x", mnt = tmp / "mnt";
  fs::create_directory(mnt);
  sample_tree(tmp / "src", "i");
  ASSERT_EQ(cfsctl(repo, {"init", "--insecure"}).status, 0);
  auto r = cfsctl(repo, {"create-image", (tmp / "src").string(), "os"});
  ASSERT_EQ(r.status, 0) << r.err;
  std::string hex = r.out.substr(r.out.find(':') + 1);
  hex.pop_back();
  ASSERT_EQ((r = cfsctl(repo, {"mount", "--fuse", "yes", "os", mnt.string()})).status, 0) << r.err;
  expect_image_content(mnt, tmp / "src");
  unmount(mnt);
  // The objects are local, so the mirror is never asked; the URL must not name the mount.
  ASSERT_EQ((r = cfsctl(repo, {"mount", "--remote=http://127.0.0.1:9/x,fsname=injected", hex, mnt.string()})).status, 0) << r.err;
  expect_image_content(mnt, tmp / "src");
  std::string mounts = test::read_file("/proc/self/mountinfo");
  EXPECT_EQ(mounts.find("injected"), std::string::npos) << mounts;
  unmount(mnt);
}

}  // namespace
}  // namespace cfs
