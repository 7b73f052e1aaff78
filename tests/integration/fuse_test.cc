// composefs-fuse: the mounted tree equals the source, objects are verified, page cache is
// shared through passthrough, rootless mounts work, and the server survives abuse.
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <sstream>
#include <set>
#include <thread>

#include "support/fs_compare.h"
#include "support/fuse_mount.h"
#include "support/support.h"

namespace cfs {
namespace {

namespace fs = test::fs;
using test::run;
using test::tool;

using test::FuseMount;

#define REQUIRE_FUSE()                                                              \
  CFS_REQUIRE(fs::exists("/dev/fuse"), "no /dev/fuse");                             \
  CFS_REQUIRE(::geteuid() == 0, "these FUSE tests mount as root (one test drops to a user)")

struct Built {
  fs::path src, store, image;
};

Built build(const test::TempDir& tmp, const std::string& seed, std::vector<std::string> flags = {}) {
  Built b{tmp / "src", tmp / "store", tmp / "image.cfs"};
  EXPECT_EQ(test::extract_tree(seed, b.src), "");
  std::vector<std::string> args = {tool("mkcomposefs").string(), "--digest-store=" + b.store.string()};
  args.insert(args.end(), flags.begin(), flags.end());
  args.insert(args.end(), {b.src.string(), b.image.string()});
  auto r = run(args);
  EXPECT_EQ(r.status, 0) << r.err;
  return b;
}

TEST(Fuse, GeneratedTreeEqualsSource) {
  REQUIRE_FUSE();
  test::TempDir tmp;
  Built b = build(tmp, "101");
  fs::create_directory(tmp / "mnt");
  FuseMount m(b.image, b.store.string(), tmp / "mnt");
  ASSERT_TRUE(m.ok());
  EXPECT_GT(test::compare_trees(b.src, tmp / "mnt"), 1000);
  EXPECT_EQ(m.stop(), 0) << "server exit status after umount";
}

TEST(Fuse, HardLinkedImageKeepsLinks) {
  REQUIRE_FUSE();
  test::TempDir tmp;
  Built b = build(tmp, "102", {"--hardlinks"});
  fs::create_directory(tmp / "mnt");
  FuseMount m(b.image, b.store.string(), tmp / "mnt", {"threads=1"});
  ASSERT_TRUE(m.ok());
  EXPECT_GT(test::compare_trees(b.src, tmp / "mnt", true), 1000);
}

TEST(Fuse, RealTreeEqualsSource) {
  REQUIRE_FUSE();
  test::TempDir tmp;
  fs::path src = "/usr/share/doc";
  CFS_REQUIRE(fs::is_directory(src), "no /usr/share/doc to compare against");
  auto r = run({tool("mkcomposefs"), "--digest-store=" + (tmp / "store").string(), src.string(), (tmp / "img").string()});
  ASSERT_EQ(r.status, 0) << r.err;
  fs::create_directory(tmp / "mnt");
  FuseMount m(tmp / "img", (tmp / "store").string(), tmp / "mnt");
  ASSERT_TRUE(m.ok());
  EXPECT_GT(test::compare_trees(src, tmp / "mnt"), 1000);
}

TEST(Fuse, ChangedOrMissingObjectsGiveEio) {
  REQUIRE_FUSE();
  test::TempDir tmp;
  auto src = tmp / "src";
  fs::create_directories(src);
  test::write_file(src / "victim", std::string(100000, 'v'));
  test::write_file(src / "gone", std::string(5000, 'g'));
  test::write_file(src / "fine", std::string(7000, 'f'));
  auto store = tmp / "store";
  ASSERT_EQ(run({tool("mkcomposefs"), "--digest-store=" + store.string(), src.string(), (tmp / "img").string()}).status, 0);
  auto object_of = [&](const std::string& name) {
    auto dump = run({tool("composefs-info"), "dump", (tmp / "img").string()}).out;
    auto line = dump.substr(dump.find("/" + name + " "));
    std::istringstream fields(line);
    std::string f;
    for (int i = 0; i < 9; ++i) fields >> f;
    return store / f;
  };
  {  // one byte changed, same size
    auto obj = object_of("victim");
    std::fstream f(obj, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(12345);
    f.put('X');
  }
  fs::remove(object_of("gone"));
  fs::create_directory(tmp / "mnt");
  for (const char* passthrough : {"", "nopassthrough"}) {
    SCOPED_TRACE(passthrough);
    std::vector<std::string> extra;
    if (*passthrough) extra.push_back(passthrough);
    FuseMount m(tmp / "img", store.string(), tmp / "mnt", extra);
    ASSERT_TRUE(m.ok());
    auto victim = run({"cat", (tmp / "mnt" / "victim").string()});
    EXPECT_NE(victim.status, 0);
    EXPECT_NE(victim.err.find("Input/output error"), std::string::npos) << victim.err;
    auto gone = run({"cat", (tmp / "mnt" / "gone").string()});
    EXPECT_NE(gone.err.find("Input/output error"), std::string::npos) << gone.err;
    EXPECT_EQ(test::read_file(tmp / "mnt" / "fine"), std::string(7000, 'f'));
    EXPECT_TRUE(fs::exists(tmp / "mnt" / "victim"));  // metadata stays readable
  }
  // verity=off serves the changed object (for those who want upstream's behaviour).
  FuseMount m(tmp / "img", store.string(), tmp / "mnt", {"verity=off"});
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(run({"cat", (tmp / "mnt" / "victim").string()}).status, 0);
}

// -o noopen: the tree reads back whole; an object changed before its first read is refused.
TEST(Fuse, NoOpenMountVerifiesAtFirstRead) {
  REQUIRE_FUSE();
  test::TempDir tmp;
  Built b = build(tmp, "101");
  fs::create_directory(tmp / "mnt");
  {
    FuseMount m(b.image, b.store.string(), tmp / "mnt", {"noopen"});
    ASSERT_TRUE(m.ok());
    EXPECT_GT(test::compare_trees(b.src, tmp / "mnt"), 1000);
    EXPECT_EQ(m.stop(), 0);
  }
  std::string victim;  // the largest object: some file of the tree stands on it
  std::uintmax_t largest = 0;
  for (const auto& e : fs::recursive_directory_iterator(b.store)) {
    if (e.is_regular_file() && e.file_size() > largest) largest = e.file_size(), victim = e.path();
  }
  ASSERT_GT(largest, 64u);
  {
    std::fstream f(victim, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(1);
    f.put('~');
  }
  FuseMount m(b.image, b.store.string(), tmp / "mnt", {"noopen"});
  ASSERT_TRUE(m.ok());
  int eio = 0;
  for (const auto& e : fs::recursive_directory_iterator(tmp / "mnt")) {
    if (fs::is_symlink(e.path()) || !fs::is_regular_file(e.path())) continue;
    if (e.file_size() != largest) continue;
    auto r = run({"cat", e.path().string()});
    if (r.err.find("Input/output error") != std::string::npos) ++eio;
  }
  EXPECT_GE(eio, 1) << "the changed object was served";
}

// An image with SHA-512 digests (composefs-rs repositories): objects are checked against
// them, and a changed object is refused.
TEST(Fuse, Sha512ImageVerifiesItsObjects) {
  REQUIRE_FUSE();
  test::TempDir tmp;
  ASSERT_EQ(test::make_sha512_image(tmp.path()), "");
  fs::create_directory(tmp / "mnt");
  {
    FuseMount m(tmp / "sha512.cfs", (tmp / "store").string(), tmp / "mnt", {"verity=require"});
    ASSERT_TRUE(m.ok());
    for (const char* name : {"big", "small"}) {
      EXPECT_TRUE(test::read_file(tmp / "mnt" / name) == test::read_file(tmp / name)) << name;
    }
    EXPECT_EQ(test::read_file(tmp / "mnt" / "tiny"), "tiny\n");
  }
  for (const auto& e : fs::recursive_directory_iterator(tmp / "store")) {  // change every object
    if (!e.is_regular_file()) continue;
    std::fstream f(e.path(), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(100);
    f.put('X');
  }
  FuseMount m(tmp / "sha512.cfs", (tmp / "store").string(), tmp / "mnt");
  ASSERT_TRUE(m.ok());
  auto big = run({"cat", (tmp / "mnt" / "big").string()});
  EXPECT_NE(big.err.find("Input/output error"), std::string::npos) << big.err;
  EXPECT_EQ(test::read_file(tmp / "mnt" / "tiny"), "tiny\n");
}

// ls -l asks every file for security.selinux and its ACL, and FUSE cannot cache xattrs:
// what the whole image lacks is answered "not supported", so that ls stops asking; what it
// has is served as the kernel mount serves it.
TEST(Fuse, XattrsTheImageLacksAreUnsupported) {
  REQUIRE_FUSE();
  test::TempDir tmp;
  const std::string acl =  // version 2; user::rw- user:1000:rw- group::r-- mask::rw- other::r--
      "\\x02\\x00\\x00\\x00"
      "\\x01\\x00\\x06\\x00\\xff\\xff\\xff\\xff" "\\x02\\x00\\x06\\x00\\xe8\\x03\\x00\\x00"
      "\\x04\\x00\\x04\\x00\\xff\\xff\\xff\\xff" "\\x10\\x00\\x06\\x00\\xff\\xff\\xff\\xff"
      "\\x20\\x00\\x04\\x00\\xff\\xff\\xff\\xff";
  const std::string plain_dump =
      "/ 4096 40755 2 0 0 0 1700000000.0 - - -\n"
      "/a 1 100644 1 0 0 0 1700000000.0 - x - user.k=v\n";
  const std::string labelled_dump =
      "/ 4096 40755 2 0 0 0 1700000000.0 - - -\n"
      "/a 1 100644 1 0 0 0 1700000000.0 - x - security.selinux=system_u:object_r:usr_t:s0\n"
      "/b 1 100644 1 0 0 0 1700000000.0 - x - system.posix_acl_access=" + acl + "\n";
  for (const auto& [name, dump] : {std::pair{"plain", plain_dump}, std::pair{"labelled", labelled_dump}}) {
    fs::path image = tmp / (std::string(name) + ".cfs");
    auto r = run({tool("mkcomposefs"), "--from-file", "-", image.string()}, dump);
    ASSERT_EQ(r.status, 0) << r.err;
  }
  char value[256];
  fs::create_directory(tmp / "plain");
  {
    FuseMount m(tmp / "plain.cfs", tmp.path().string(), tmp / "plain");
    ASSERT_TRUE(m.ok());
    auto a = (tmp / "plain" / "a").string();
    EXPECT_EQ(::lgetxattr(a.c_str(), "security.selinux", value, sizeof value), -1);
    EXPECT_EQ(errno, ENOTSUP) << "no label anywhere in the image";
    EXPECT_EQ(::getxattr(a.c_str(), "system.posix_acl_access", value, sizeof value), -1);
    EXPECT_EQ(errno, ENOTSUP) << "no ACL anywhere in the image";
    EXPECT_EQ(::getxattr(a.c_str(), "user.k", value, sizeof value), 1);
    EXPECT_EQ(::getxattr(a.c_str(), "user.none", value, sizeof value), -1);
    EXPECT_EQ(errno, ENODATA);
  }
  fs::create_directory(tmp / "labelled");
  FuseMount m(tmp / "labelled.cfs", tmp.path().string(), tmp / "labelled");
  ASSERT_TRUE(m.ok());
  auto a = (tmp / "labelled" / "a").string(), b = (tmp / "labelled" / "b").string();
  ssize_t n = ::lgetxattr(a.c_str(), "security.selinux", value, sizeof value);
  EXPECT_EQ(std::string(value, std::max<ssize_t>(n, 0)), "system_u:object_r:usr_t:s0");
  EXPECT_EQ(::lgetxattr(b.c_str(), "security.selinux", value, sizeof value), -1);
  EXPECT_EQ(errno, ENODATA);
  n = ::getxattr(b.c_str(), "system.posix_acl_access", value, sizeof value);
  EXPECT_EQ(n, 44) << std::strerror(errno);
  EXPECT_EQ(::getxattr(a.c_str(), "system.posix_acl_access", value, sizeof value), -1);
  EXPECT_EQ(errno, ENODATA);
}

TEST(Fuse, PassthroughSharesPageCacheAcrossImages) {
  REQUIRE_FUSE();
  test::TempDir tmp;
  ASSERT_EQ(test::make_images_sharing_an_object(tmp.path(), 256 << 20), "");
  auto store = tmp / "store";
  fs::create_directory(tmp / "m1");
  fs::create_directory(tmp / "m2");
  FuseMount m1(tmp / "1.cfs", store.string(), tmp / "m1");
  FuseMount m2(tmp / "2.cfs", store.string(), tmp / "m2");
  ASSERT_TRUE(m1.ok() && m2.ok());
  test::read_file(tmp / "m1" / "big");  // first open verifies the object (reads it once)
  long grown = test::cached_growth_reading(tmp / "m1" / "big", tmp / "m2" / "big", 200 * 1024, 384 * 1024);
  std::cout << "Cached: grew by " << grown / 1024 << " MiB for two FUSE reads of a 256 MiB object\n";
  EXPECT_GT(grown, 200 * 1024);
  EXPECT_LT(grown, 384 * 1024) << "the object should be cached once (passthrough)";
}

// --- FUSE over io_uring ---------------------------------------------------------------------
// The parameter set as asked for the test; skipped where the kernel has none (even in CI: a
// kernel before 6.14), failed in CI where it has one but it cannot be set.
#define REQUIRE_URING_PARAMETER(p)                                                            \
  do {                                                                                        \
    if (!(p).exists()) GTEST_SKIP() << "the kernel has no FUSE over io_uring (Linux 6.14+)"; \
    CFS_REQUIRE((p).set(), "cannot set /sys/module/fuse/parameters/enable_uring");           \
  } while (0)

// What a -o debug server's log says of io_uring: its queues (0: none) and the requests they
// served.
struct UringLog {
  long queues = 0, requests = -1;
};
UringLog uring_log(const fs::path& log) {
  std::string text = test::read_file(log);
  UringLog u;
  auto number_after = [&](const std::string& what) -> long {
    auto at = text.find(what);
    return at == std::string::npos ? -1 : std::atol(text.c_str() + at + what.size());
  };
  u.queues = std::max(0L, number_after("FUSE over io_uring: "));
  u.requests = number_after("requests served over io_uring: ");
  return u;
}

TEST(Fuse, ServesRequestsOverIoUringWhenAsked) {
  REQUIRE_FUSE();
  test::UringParameter on(true);
  REQUIRE_URING_PARAMETER(on);
  test::TempDir tmp;
  Built b = build(tmp, "101");
  fs::create_directory(tmp / "mnt");
  for (const char* mode : {"", "nopassthrough", "noopen"}) {
    SCOPED_TRACE(*mode ? mode : "passthrough");
    fs::path log = tmp / (std::string("log-") + mode);
    std::vector<std::string> extra = {"uring=on", "debug"};
    if (*mode) extra.push_back(mode);
    FuseMount m(b.image, b.store.string(), tmp / "mnt", extra, "", {}, log);
    ASSERT_TRUE(m.ok());
    EXPECT_GT(test::compare_trees(b.src, tmp / "mnt"), 1000);
    EXPECT_EQ(m.stop(), 0);
    UringLog u = uring_log(log);
    EXPECT_EQ(u.queues, static_cast<long>(std::thread::hardware_concurrency())) << "a queue per CPU";
    EXPECT_GT(u.requests, 1000) << "lookups, getattrs, opens and reads came over io_uring";
  }
}

TEST(Fuse, UringOffAndAutoWithoutTheKernelsConsentReadDevFuse) {
  REQUIRE_FUSE();
  test::UringParameter off(false);
  REQUIRE_URING_PARAMETER(off);
  test::TempDir tmp;
  Built b = build(tmp, "101");
  fs::create_directory(tmp / "mnt");
  for (const char* uring : {"uring=auto", "uring=off"}) {
    SCOPED_TRACE(uring);
    fs::path log = tmp / (std::string("log-") + uring);
    FuseMount m(b.image, b.store.string(), tmp / "mnt", {uring, "debug"}, "", {}, log);
    ASSERT_TRUE(m.ok());
    EXPECT_GT(test::compare_trees(b.src, tmp / "mnt"), 1000);
    EXPECT_EQ(m.stop(), 0);
    EXPECT_EQ(uring_log(log).queues, 0);
  }
  // on insists: a clear refusal, before anything is mounted.
  auto r = run({tool("composefs-fuse").string(), "-f", "-o", "source=" + b.image.string() + ",basedir=" + b.store.string() + ",uring=on",
                (tmp / "mnt").string()});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "composefs-fuse: uring=on: FUSE over io_uring is off (/sys/module/fuse/parameters/enable_uring is N)\n");
  EXPECT_FALSE(test::is_mounted(tmp / "mnt"));
  auto bad = run({tool("composefs-fuse").string(), "-f", "-o", "source=x,basedir=y,uring=maybe", (tmp / "mnt").string()});
  EXPECT_EQ(bad.err, "composefs-fuse: uring must be auto, on or off\n");
  auto killed_unmount = run({tool("composefs-fuse").string(), "-f", "-o", "source=x,basedir=y,uring=on,auto_unmount", (tmp / "mnt").string()});
  EXPECT_EQ(killed_unmount.err, "composefs-fuse: uring=on and auto_unmount exclude each other\n");
}

TEST(Fuse, PassthroughOverIoUringSharesPageCache) {
  REQUIRE_FUSE();
  test::UringParameter on(true);
  REQUIRE_URING_PARAMETER(on);
  test::TempDir tmp;
  ASSERT_EQ(test::make_images_sharing_an_object(tmp.path(), 256 << 20), "");
  auto store = tmp / "store";
  fs::create_directory(tmp / "m1");
  fs::create_directory(tmp / "m2");
  FuseMount m1(tmp / "1.cfs", store.string(), tmp / "m1", {"uring=on"});
  FuseMount m2(tmp / "2.cfs", store.string(), tmp / "m2", {"uring=on"});
  ASSERT_TRUE(m1.ok() && m2.ok());
  test::read_file(tmp / "m1" / "big");
  long grown = test::cached_growth_reading(tmp / "m1" / "big", tmp / "m2" / "big", 200 * 1024, 384 * 1024);
  EXPECT_GT(grown, 200 * 1024);
  EXPECT_LT(grown, 384 * 1024) << "the object should be cached once (passthrough over io_uring)";
}

// A stock Debian system makes /dev/fuse 0666 (udev); minimal VMs without udev do not. Opened
// for the test's users while it lives, given back its mode after.
class DevFuseForEveryone {
 public:
  DevFuseForEveryone() {
    struct stat st {};
    if (::stat("/dev/fuse", &st) == 0 && (st.st_mode & 0006) != 0006) {
      old_mode_ = st.st_mode & 07777;
      ::chmod("/dev/fuse", 0666);
    }
  }
  ~DevFuseForEveryone() {
    if (old_mode_ >= 0) ::chmod("/dev/fuse", static_cast<mode_t>(old_mode_));
  }

 private:
  int old_mode_ = -1;
};

std::vector<std::string> as_uid(const std::string& uid, std::vector<std::string> cmd) {
  std::vector<std::string> args = {"setpriv", "--reuid=" + uid, "--regid=" + uid, "--clear-groups"};
  args.insert(args.end(), cmd.begin(), cmd.end());
  return args;
}

TEST(Fuse, RootlessMountReadUnmount) {
  REQUIRE_FUSE();
  CFS_REQUIRE(run({"fusermount3", "-V"}).status == 0, "fusermount3 (fuse3) is not installed");
  test::TempDir tmp;
  DevFuseForEveryone dev_fuse;
  auto src = tmp / "src";
  fs::create_directories(src / "d");
  test::write_file(src / "d" / "file", std::string(70000, 'r'));
  test::write_file(src / "small", "hello");
  ASSERT_EQ(run({tool("mkcomposefs"), "--digest-store=" + (tmp / "store").string(), src.string(), (tmp / "img").string()}).status, 0);
  fs::permissions(tmp.path(), fs::perms::all);  // let the user in
  fs::create_directory(tmp / "mnt");
  ASSERT_EQ(::chown((tmp / "mnt").c_str(), 65534, 65534), 0);
  FuseMount m(tmp / "img", (tmp / "store").string(), tmp / "mnt", {}, "65534");
  ASSERT_TRUE(m.ok()) << "rootless mount failed";
  auto as_user = [&](std::vector<std::string> cmd) { return run(as_uid("65534", cmd)); };
  EXPECT_EQ(as_user({"cat", (tmp / "mnt" / "d" / "file").string()}).out, std::string(70000, 'r'));
  EXPECT_EQ(as_user({"cat", (tmp / "mnt" / "small").string()}).out, "hello");
  EXPECT_EQ(m.stop(), 0);
  EXPECT_FALSE(test::is_mounted(tmp / "mnt"));
}

// Rootless -o allow_other goes to fusermount3, which lets other users in where
// /etc/fuse.conf says user_allow_other and otherwise refuses: that refusal is our one-line
// error. Each case runs in a private mount namespace whose /etc/fuse.conf is the test's own,
// so the host's file is neither read nor changed.
TEST(Fuse, RootlessAllowOtherReachesFusermount) {
  REQUIRE_FUSE();
  CFS_REQUIRE(run({"fusermount3", "-V"}).status == 0, "fusermount3 (fuse3) is not installed");
  CFS_REQUIRE(run({"unshare", "-m", "true"}).status == 0, "cannot make a mount namespace");
  test::TempDir tmp;
  DevFuseForEveryone dev_fuse;
  auto src = tmp / "src";
  fs::create_directories(src);
  test::write_file(src / "small", "hello");
  ASSERT_EQ(run({tool("mkcomposefs"), "--digest-store=" + (tmp / "store").string(), src.string(), (tmp / "img").string()}).status, 0);
  fs::permissions(tmp.path(), fs::perms::all);
  fs::create_directory(tmp / "mnt");
  ASSERT_EQ(::chown((tmp / "mnt").c_str(), 65534, 65534), 0);
  auto join = [](const std::vector<std::string>& v) {
    std::string out;
    for (const auto& a : v) out += "'" + a + "' ";
    return out;
  };
  std::string mnt = (tmp / "mnt").string();
  auto mount_cmd = [&](const std::string& extra) {
    return join(as_uid("65534", {test::tool_for_anyone("composefs-fuse").string(), "-o",
                                 "source=" + (tmp / "img").string() + ",basedir=" + (tmp / "store").string() + extra,
                                 mnt}));
  };
  // Mounts as 65534, reads as 65533 (another user), unmounts; prints what happened.
  auto in_namespace = [&](const std::string& conf, const std::string& extra) {
    test::write_file(tmp / "fuse.conf", conf);
    std::string script = "mount --bind " + (tmp / "fuse.conf").string() + " /etc/fuse.conf || exit 99\n" +
                         mount_cmd(extra) + " || exit 1\n" + join(as_uid("65533", {"cat", mnt + "/small"})) +
                         "; echo \" read=$?\"\n" + join(as_uid("65534", {"fusermount3", "-u", mnt})) + "\n";
    return run({"unshare", "-m", "--propagation", "private", "sh", "-c", script});
  };

  auto refused = in_namespace("# no user_allow_other\n", ",allow_other");
  EXPECT_EQ(refused.status, 1) << refused.err;
  EXPECT_NE(refused.err.find("composefs-fuse: Failed to mount: "), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("user_allow_other"), std::string::npos) << refused.err;
  EXPECT_EQ(std::count(refused.err.begin(), refused.err.end(), '\n'), 1) << refused.err;

  auto allowed = in_namespace("user_allow_other\n", ",allow_other");
  EXPECT_EQ(allowed.status, 0) << allowed.err;
  EXPECT_EQ(allowed.out, "hello read=0\n") << allowed.err;

  auto private_mount = in_namespace("user_allow_other\n", "");
  EXPECT_EQ(private_mount.status, 0) << private_mount.err;
  EXPECT_EQ(private_mount.out, " read=1\n") << "without allow_other only the mounting user gets in";
  EXPECT_FALSE(test::is_mounted(tmp / "mnt"));
}

TEST(Fuse, SurvivesHostileImagesAndManyOpenFiles) {
  REQUIRE_FUSE();
  test::TempDir tmp;
  Built b = build(tmp, "103");
  auto good = test::read_file(b.image);
  fs::create_directory(tmp / "mnt");
  std::mt19937 rng(1);
  for (int round = 0; round < 12; ++round) {
    std::string bad = good;
    for (int k = 0; k < 40; ++k) bad[4096 + rng() % (bad.size() - 4096)] = static_cast<char>(rng());
    test::write_file(tmp / "bad.cfs", bad);
    FuseMount m(tmp / "bad.cfs", b.store.string(), tmp / "mnt");
    if (!m.ok()) continue;  // refused at startup: fine
    run({"sh", "-c", "ls -lR " + (tmp / "mnt").string() + " >/dev/null 2>&1; find " +
                         (tmp / "mnt").string() + " -type f -exec cat {} + >/dev/null 2>&1; getfattr -R -d -m - " +
                         (tmp / "mnt").string() + " >/dev/null 2>&1"});
    EXPECT_EQ(::kill(m.pid(), 0), 0) << "server died on hostile image, round " << round;
    EXPECT_EQ(m.stop(), 0) << "round " << round;
  }
  // Thousands of files open at once, then closed: the server holds no more fds than its
  // budget for reopening (a quarter of its RLIMIT_NOFILE, here 100) and no open fails.
  FuseMount m(b.image, b.store.string(), tmp / "mnt", {}, "", {"prlimit", "--nofile=400:400"});
  ASSERT_TRUE(m.ok());
  std::vector<std::string> files;
  for (const auto& e : fs::recursive_directory_iterator(tmp / "mnt", fs::directory_options::skip_permission_denied)) {
    if (e.is_symlink()) continue;
    if (e.is_regular_file()) files.push_back(e.path());
  }
  ASSERT_GT(files.size(), 500u);
  auto fd_count = [&] {
    int n = 0;
    for (const auto& e : fs::directory_iterator("/proc/" + std::to_string(m.pid()) + "/fd")) n += e.exists() || true;
    return n;
  };
  int baseline = fd_count();
  rlimit lim{8192, 8192};
  ::setrlimit(RLIMIT_NOFILE, &lim);
  std::vector<int> fds;
  int failed = 0;
  for (std::size_t i = 0; i < 3000; ++i) {
    int fd = ::open(files[i % files.size()].c_str(), O_RDONLY | O_CLOEXEC);
    if (fd >= 0) fds.push_back(fd);
    failed += fd < 0;
  }
  EXPECT_EQ(failed, 0);
  EXPECT_LE(fd_count(), baseline + 100 + 2) << "while open";
  for (int fd : fds) ::close(fd);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // releases are asynchronous
  EXPECT_LE(fd_count(), baseline + 100 + 2);
  EXPECT_EQ(m.stop(), 0);
}

std::vector<std::string> as_nobody(std::vector<std::string> cmd) {
  std::vector<std::string> args = {"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                                   "timeout", "20"};
  args.insert(args.end(), cmd.begin(), cmd.end());
  return args;
}

// An image is untrusted: whatever its redirects say, a root mount (allow_other) serves nothing
// but regular files beneath its basedir, and never blocks on what it finds there.
TEST(Fuse, HostileRedirectsNeverLeaveTheBasedir) {
  REQUIRE_FUSE();
  test::TempDir tmp;
  fs::permissions(tmp.path(), fs::perms::all);  // the reader is nobody
  const std::string secret = "TOP SECRET, readable by root only\n";
  auto secret_path = tmp / "secret";
  test::write_file(secret_path, secret);
  fs::permissions(secret_path, fs::perms::owner_read);
  auto store = tmp / "store";
  fs::create_directories(store / "ab");
  fs::create_directory_symlink(tmp.path(), store / "evil");
  fs::create_directory_symlink(tmp.path(), store / "cd");  // an object directory that is a symlink
  ASSERT_EQ(::mkfifo((store / "fifo").c_str(), 0644), 0);
  ASSERT_EQ(::mknod((store / "null").c_str(), S_IFCHR | 0666, makedev(1, 3)), 0);
  fs::create_directory(store / "dir");
  test::write_file(store / "ab" / "good", std::string(5000, 'g'));
  std::string size = std::to_string(secret.size());
  std::string deep;
  for (int i = 0; i < 900; ++i) deep += "a/";
  auto line = [&](const std::string& name, const std::string& sz, const std::string& payload) {
    return "/" + name + " " + sz + " 100644 1 0 0 0 0.0 " + payload + " - -\n";
  };
  std::string dump = "/ 4096 40755 2 0 0 0 0.0 - - -\n" +
                     line("abs", size, secret_path.string()) +
                     line("cdsecret", size, "cd/secret") +
                     line("dev", "10", "null") +
                     line("dir", "4096", "dir") +
                     line("dotdot", size, "../secret") +
                     line("dotdot2", size, "ab/../../secret") +
                     line("fifo", "10", "fifo") +
                     line("fifo2", "10", "fifo") +
                     line("fifo3", "10", "fifo") +
                     line("fifo4", "10", "fifo") +
                     line("fifo5", "10", "fifo") +
                     line("good", "5000", "ab/good") +
                     line("long", "10", deep + "x") +
                     line("proc", size, "../../../../proc/self/root" + secret_path.string()) +
                     line("symdir", size, "evil/secret");
  auto image = tmp / "hostile.cfs";
  auto r = run({tool("mkcomposefs"), "--from-file", "-", image.string()}, dump);
  ASSERT_EQ(r.status, 0) << r.err;
  fs::create_directory(tmp / "mnt");
  for (const char* mode : {"", "nopassthrough"}) {
    SCOPED_TRACE(*mode ? mode : "passthrough");
    std::vector<std::string> extra;
    if (*mode) extra.push_back(mode);
    FuseMount m(image, store.string(), tmp / "mnt", extra);
    ASSERT_TRUE(m.ok());
    auto mnt = tmp / "mnt";
    // Five FIFO opens at once must not take the server's threads: ls still answers.
    std::vector<std::thread> fifo_readers;
    for (const char* f : {"fifo", "fifo2", "fifo3", "fifo4", "fifo5"}) {
      fifo_readers.emplace_back([&, f] {
        auto c = run(as_nobody({"cat", (mnt / f).string()}));
        EXPECT_NE(c.err.find("Input/output error"), std::string::npos) << f << ": " << c.err;
      });
    }
    for (auto& t : fifo_readers) t.join();
    auto ls = run({"timeout", "20", "ls", "-l", mnt.string()});
    EXPECT_EQ(ls.status, 0) << ls.err;
    for (const char* f : {"abs", "cdsecret", "dev", "dir", "dotdot", "dotdot2", "long", "proc", "symdir"}) {
      auto c = run(as_nobody({"cat", (mnt / f).string()}));
      EXPECT_NE(c.status, 0) << f;
      EXPECT_EQ(c.out.find("SECRET"), std::string::npos) << f << " leaked a file outside the basedir";
      EXPECT_NE(c.err.find("Input/output error"), std::string::npos) << f << ": " << c.err;
    }
    EXPECT_EQ(run(as_nobody({"cat", (mnt / "good").string()})).out, std::string(5000, 'g'));
    EXPECT_EQ(m.stop(), 0);
  }
}

// The kernel takes one backing file per inode: every open of a file shares it, so a second
// open while the first is alive (a program running twice, a library mapped by two processes)
// works, in any order of opens and releases.
TEST(Fuse, ConcurrentOpensOfOneFileShareItsBacking) {
  REQUIRE_FUSE();
  test::TempDir tmp;
  auto src = tmp / "src";
  fs::create_directories(src / "tree");
  fs::copy_file("/bin/sleep", src / "sleep");
  std::string big(3 << 20, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 7 + i / 4096);
  test::write_file(src / "f", big);
  for (int i = 0; i < 200; ++i) test::write_file(src / "tree" / std::to_string(i), std::string(1000 + i * 37, 'a' + i % 26));
  ASSERT_EQ(run({tool("mkcomposefs"), "--digest-store=" + (tmp / "store").string(), src.string(), (tmp / "img").string()}).status, 0);
  fs::create_directory(tmp / "mnt");
  FuseMount m(tmp / "img", (tmp / "store").string(), tmp / "mnt");
  ASSERT_TRUE(m.ok());
  auto mnt = tmp / "mnt";
  {  // exec 7<MNT/f; cat MNT/f
    int fd = ::open((mnt / "f").c_str(), O_RDONLY | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    EXPECT_EQ(test::read_file(mnt / "f"), big);
    char c;
    EXPECT_EQ(::pread(fd, &c, 1, 4096), 1);
    EXPECT_EQ(c, big[4096]);
    ::close(fd);
    EXPECT_EQ(test::read_file(mnt / "f"), big) << "after the first open's release";
  }
  // A program run while another copy of it runs.
  auto r = run({"sh", "-c", (mnt / "sleep").string() + " 2 & sleep 0.5; " + (mnt / "sleep").string() +
                                " 0.1 && echo second-ok; wait $! && echo first-ok"});
  EXPECT_NE(r.out.find("second-ok"), std::string::npos) << r.err;
  EXPECT_NE(r.out.find("first-ok"), std::string::npos) << r.err;
  // Parallel walks of one tree.
  std::vector<std::thread> walkers;
  std::atomic<int> failures{0};
  for (int w = 0; w < 4; ++w) {
    walkers.emplace_back([&] {
      for (int rep = 0; rep < 3; ++rep) {
        for (int i = 0; i < 200; ++i) {
          if (test::read_file(mnt / "tree" / std::to_string(i)) != std::string(1000 + i * 37, 'a' + i % 26)) ++failures;
        }
      }
    });
  }
  for (auto& t : walkers) t.join();
  EXPECT_EQ(failures.load(), 0);
  auto tar = run({"sh", "-c", "cat " + (mnt / "tree").string() + "/* >/dev/null & tar -cf /dev/null -C " +
                                  mnt.string() + " tree; s=$?; wait $! && exit $s"});
  EXPECT_EQ(tar.status, 0) << tar.err;
  EXPECT_EQ(m.stop(), 0);
}

// fstab's "IMAGE MOUNTPOINT fuse.composefs-fuse basedir=...,nodev,noatime" goes through
// mount.fuse3, which runs "composefs-fuse IMAGE MOUNTPOINT -o OPTIONS" with mount's generic
// options in the list: they are accepted, and what matters is applied.
TEST(Fuse, MountedFromAnFstabLineThroughMountFuse3) {
  REQUIRE_FUSE();
  CFS_REQUIRE(fs::exists("/sbin/mount.fuse3"), "mount.fuse3 (fuse3) is not installed");
  test::TempDir tmp;
  fs::create_directories(tmp / "src");
  test::write_file(tmp / "src" / "f", std::string(9000, 'f'));
  ASSERT_EQ(run({tool("mkcomposefs"), "--digest-store=" + (tmp / "store").string(), (tmp / "src").string(), (tmp / "img").string()}).status, 0);
  auto mnt = tmp / "mnt";
  fs::create_directory(mnt);
  std::string path = "PATH=" + tool("composefs-fuse").parent_path().string() + ":/usr/sbin:/usr/bin:/sbin:/bin";
  auto r = run({"/sbin/mount.fuse3", (tmp / "img").string(), mnt.string(), "-t", "composefs-fuse", "-o",
                "rw,basedir=" + (tmp / "store").string() + ",dev,suid,noatime,noexec,fsname=fromfstab,x-systemd.automount"},
               "", {path});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(test::read_file(mnt / "f"), std::string(9000, 'f'));
  std::string line;
  {
    std::ifstream mounts("/proc/self/mounts");
    for (std::string l; std::getline(mounts, l);) {
      if (l.find(" " + mnt.string() + " ") != std::string::npos) line = l;
    }
  }
  EXPECT_EQ(line.rfind("fromfstab " + mnt.string() + " fuse.composefs ro,nosuid,nodev,noexec,", 0), 0u) << line;
  auto bad = run({"/sbin/mount.fuse3", (tmp / "img").string(), mnt.string(), "-t", "composefs-fuse", "-o",
                  "basedir=" + (tmp / "store").string() + ",threads=lots"}, "", {path});
  EXPECT_NE(bad.status, 0);
  EXPECT_NE(bad.err.find("composefs-fuse: threads must be a number from 1 to 1024"), std::string::npos) << bad.err;
  ::umount2(mnt.c_str(), MNT_DETACH);
  for (int i = 0; i < 200 && run({"pgrep", "-f", "fsname=fromfstab"}).status == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_NE(run({"pgrep", "-f", "fsname=fromfstab"}).status, 0) << "the server outlived its mount";
}

// When the unmount on SIGTERM fails (fusermount3 does without /etc/mtab), the server says
// why and exits instead of running on with its caller waiting for ever.
TEST(Fuse, ServerExitsWhenItCannotUnmount) {
  REQUIRE_FUSE();
  CFS_REQUIRE(run({"fusermount3", "-V"}).status == 0, "fusermount3 (fuse3) is not installed");
  test::TempDir tmp;
  DevFuseForEveryone dev_fuse;
  fs::create_directories(tmp / "src");
  test::write_file(tmp / "src" / "f", "x");
  ASSERT_EQ(run({tool("mkcomposefs"), "--digest-store=" + (tmp / "store").string(), (tmp / "src").string(), (tmp / "img").string()}).status, 0);
  fs::create_directories(tmp / "bin");
  test::write_file(tmp / "bin" / "fusermount3",
                   "#!/bin/sh\n[ \"$1\" = -u ] && { echo \"fusermount3: failed to unmount $4: simulated\" >&2; exit 1; }\n"
                   "exec /usr/bin/fusermount3 \"$@\"\n");
  fs::permissions(tmp / "bin" / "fusermount3", fs::perms::all);
  fs::permissions(tmp.path(), fs::perms::all);
  auto mnt = tmp / "mnt";
  fs::create_directory(mnt);
  ASSERT_EQ(::chown(mnt.c_str(), 65534, 65534), 0);
  test::Run server;
  std::thread t([&] {
    server = run(as_uid("65534", {"env", "PATH=" + (tmp / "bin").string() + ":/usr/bin:/bin", test::tool_for_anyone("composefs-fuse").string(),
                                  "-f", "-o", "fsname=cannot-unmount,source=" + (tmp / "img").string() + ",basedir=" + (tmp / "store").string(),
                                  mnt.string()}));
  });
  for (int i = 0; i < 500 && !test::is_mounted(mnt); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  bool mounted = test::is_mounted(mnt);
  run({"pkill", "-TERM", "-f", "fsname=cannot-unmount"});
  bool exited = false;
  for (int i = 0; i < 500 && !exited; ++i) {
    exited = run({"pgrep", "-f", "fsname=cannot-unmount"}).status != 0;
    if (!exited) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (!exited) run({"pkill", "-KILL", "-f", "fsname=cannot-unmount"});
  t.join();
  run(as_uid("65534", {"fusermount3", "-u", "-z", mnt.string()}));
  EXPECT_TRUE(mounted);
  EXPECT_TRUE(exited) << "the server ran on after a failed unmount";
  EXPECT_EQ(server.status, 1);
  EXPECT_EQ(server.err, "composefs-fuse: cannot unmount " + mnt.string() + ": fusermount3: failed to unmount " +
                            mnt.string() + ": simulated; exiting\n");
  EXPECT_FALSE(test::is_mounted(mnt));
}

// A first open that must read a huge object to verify it is answered later, from another
// thread: meanwhile, even with a single worker (-o threads=1), stat and readdir answer. (A
// test hook makes each verification take 3 s instead of writing gigabytes.)
TEST(Fuse, SlowVerificationDoesNotHoldUpOtherRequests) {
  REQUIRE_FUSE();
  test::TempDir tmp;
  fs::create_directories(tmp / "src" / "d");
  std::string big(200000, 'v');
  test::write_file(tmp / "src" / "big", big);
  test::write_file(tmp / "src" / "d" / "small", "s");
  ASSERT_EQ(run({tool("mkcomposefs"), "--digest-store=" + (tmp / "store").string(), (tmp / "src").string(), (tmp / "img").string()}).status, 0);
  auto mnt = tmp / "mnt";
  fs::create_directory(mnt);
  ::setenv("CFS_TEST_VERIFY_DELAY_MS", "3000", 1);
  FuseMount m(tmp / "img", (tmp / "store").string(), mnt, {"threads=1"});
  ::unsetenv("CFS_TEST_VERIFY_DELAY_MS");
  ASSERT_TRUE(m.ok());
  std::atomic<bool> read_done{false};
  std::string got;
  std::thread reader([&] {
    got = test::read_file(mnt / "big");
    read_done = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the open is being verified
  struct stat st {};
  EXPECT_EQ(::stat((mnt / "d" / "small").c_str(), &st), 0);
  auto listing = run({"ls", (mnt / "d").string()});
  bool answered_first = !read_done;
  reader.join();
  EXPECT_TRUE(answered_first) << "stat and ls waited for the verification";
  EXPECT_EQ(listing.out, "small\n");
  EXPECT_EQ(got, big);
  EXPECT_EQ(m.stop(), 0);
}

TEST(Fuse, SigtermUnmountsCleanly) {
  REQUIRE_FUSE();
  test::TempDir tmp;
  fs::create_directories(tmp / "src");
  test::write_file(tmp / "src" / "f", "x");
  ASSERT_EQ(run({tool("mkcomposefs"), "--digest-store=" + (tmp / "store").string(), (tmp / "src").string(), (tmp / "img").string()}).status, 0);
  fs::create_directory(tmp / "mnt");
  FuseMount m(tmp / "img", (tmp / "store").string(), tmp / "mnt");
  ASSERT_TRUE(m.ok());
  ::kill(m.pid(), SIGTERM);
  for (int i = 0; i < 200 && test::is_mounted(tmp / "mnt"); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_FALSE(test::is_mounted(tmp / "mnt"));
  EXPECT_EQ(m.stop(), 0);
  auto usage = run({tool("composefs-fuse")});
  EXPECT_EQ(usage.status, 1);
  EXPECT_NE(usage.out.find("usage:"), std::string::npos);
}

// auto_unmount: fusermount3 stays behind and unmounts when the server ends, even by SIGKILL.
TEST(Fuse, AutoUnmountOutlivesAKilledServer) {
  REQUIRE_FUSE();
  CFS_REQUIRE(run({"fusermount3", "-V"}).status == 0, "fusermount3 (fuse3) is not installed");
  test::TempDir tmp;
  fs::create_directories(tmp / "src");
  test::write_file(tmp / "src" / "f", "x");
  ASSERT_EQ(run({tool("mkcomposefs"), "--digest-store=" + (tmp / "store").string(), (tmp / "src").string(), (tmp / "img").string()}).status, 0);
  fs::create_directory(tmp / "mnt");
  FuseMount m(tmp / "img", (tmp / "store").string(), tmp / "mnt", {"auto_unmount"});
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(test::read_file(tmp / "mnt" / "f"), "x");
  ::kill(m.pid(), SIGKILL);
  for (int i = 0; i < 500 && test::is_mounted(tmp / "mnt"); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_FALSE(test::is_mounted(tmp / "mnt")) << "still mounted 5 s after the server was killed";
  EXPECT_EQ(m.stop(), 128 + SIGKILL);
}

// allow_root: the kernel lets everyone in and the server turns away all but the owner (here
// root) and root; allow_other with it is refused.
TEST(Fuse, AllowRootLetsOnlyTheOwnerAndRootIn) {
  REQUIRE_FUSE();
  test::TempDir tmp;
  fs::create_directories(tmp / "src");
  test::write_file(tmp / "src" / "f", "x");
  ASSERT_EQ(run({tool("mkcomposefs"), "--digest-store=" + (tmp / "store").string(), (tmp / "src").string(), (tmp / "img").string()}).status, 0);
  fs::permissions(tmp.path(), fs::perms::all);
  fs::create_directory(tmp / "mnt");
  std::string file = (tmp / "mnt" / "f").string();
  {
    FuseMount m(tmp / "img", (tmp / "store").string(), tmp / "mnt", {"allow_root"});
    ASSERT_TRUE(m.ok());
    EXPECT_EQ(test::read_file(file), "x");
    auto other = run(as_uid("65534", {"cat", file}));
    EXPECT_NE(other.status, 0);
    EXPECT_NE(other.err.find("Permission denied"), std::string::npos) << other.err;
    EXPECT_EQ(m.stop(), 0);
  }
  {
    FuseMount m(tmp / "img", (tmp / "store").string(), tmp / "mnt");
    ASSERT_TRUE(m.ok());
    EXPECT_EQ(run(as_uid("65534", {"cat", file})).out, "x") << "a root mount lets everyone in";
    EXPECT_EQ(m.stop(), 0);
  }
  auto both = run({tool("composefs-fuse").string(), "-f", "-o",
                   "source=" + (tmp / "img").string() + ",basedir=" + (tmp / "store").string() + ",allow_root,allow_other",
                   (tmp / "mnt").string()});
  EXPECT_EQ(both.status, 1);
  EXPECT_EQ(both.err, "composefs-fuse: allow_other and allow_root exclude each other\n");
  EXPECT_FALSE(test::is_mounted(tmp / "mnt"));
}

}  // namespace
}  // namespace cfs
