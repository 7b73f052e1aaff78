// mount.composefs with the kernel (EROFS + overlayfs): the mounted tree equals the source,
// digest= verifies the image, upper layers take writes, nothing leaks, page cache is shared.
// Needs root, EROFS and overlayfs.
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/mount.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <set>

#include "reader/image.h"
#include "reader/to_tree.h"
#include "support/format_v2.h"
#include "support/fs_compare.h"
#include "support/support.h"
#include "writer/writer.h"

namespace cfs {
namespace {

namespace fs = test::fs;
using test::run;
using test::tool;


class Mounted {
 public:
  explicit Mounted(fs::path dir) : dir_(std::move(dir)) {}
  ~Mounted() { ::umount2(dir_.c_str(), MNT_DETACH); }

 private:
  fs::path dir_;
};

struct Built {
  fs::path src, store, image;
};

Built build_tree(const test::TempDir& tmp, const std::string& seed) {
  Built b{tmp / "src", tmp / "store", tmp / "image.cfs"};
  EXPECT_EQ(test::extract_tree(seed, b.src), "");
  auto r = run({tool("mkcomposefs"), "--digest-store=" + b.store.string(), b.src.string(), b.image.string()});
  EXPECT_EQ(r.status, 0) << r.err;
  return b;
}

std::string mounts_snapshot() {
  std::ifstream f("/proc/self/mountinfo");
  return std::string((std::istreambuf_iterator<char>(f)), {});
}

TEST(MountComposefs, GeneratedTreeEqualsSource) {
  CFS_REQUIRE_MOUNTS();
  test::TempDir tmp;
  Built b = build_tree(tmp, "101");
  auto mnt = tmp / "mnt";
  fs::create_directory(mnt);
  auto r = run({tool("mount.composefs"), "-o", "ro,basedir=" + b.store.string(), b.image.string(), mnt.string()});
  ASSERT_EQ(r.status, 0) << r.err;
  {
    Mounted m(mnt);
    EXPECT_GT(test::compare_trees(b.src, mnt), 1000);
  }
  // The same with the objects split over two stores.
  auto a = tmp / "storeA", c = tmp / "storeB";
  int i = 0;
  for (const auto& e : fs::recursive_directory_iterator(b.store)) {
    if (!e.is_regular_file()) continue;
    auto rel = fs::relative(e.path(), b.store);
    auto dest = (i++ % 2 ? a : c) / rel;
    fs::create_directories(dest.parent_path());
    fs::copy_file(e.path(), dest);
  }
  r = run({tool("mount.composefs"), "-o", "basedir=" + a.string() + ":" + c.string(), b.image.string(), mnt.string()});
  ASSERT_EQ(r.status, 0) << r.err;
  Mounted m(mnt);
  EXPECT_GT(test::compare_trees(b.src, mnt), 1000);
}

// Format V2 through mount.composefs serves the tree V1 serves: the generated tree's image,
// read back and reduced to what V2 keeps (no nanoseconds, no whiteouts), written both ways.
TEST(MountComposefs, FormatV2ServesTheSameTreeAsV1) {
  CFS_REQUIRE_MOUNTS();
  test::TempDir tmp;
  Built b = build_tree(tmp, "101");
  std::string bytes = test::read_file(b.image);
  auto img = reader::Image::open(std::as_bytes(std::span(bytes)));
  tree::Tree tree = reader::to_tree(img);
  test::normalize_for_format_v2(tree.root(), true);
  std::map<std::uint32_t, fs::path> mounts;
  std::vector<Mounted> mounted;
  mounted.reserve(2);
  for (std::uint32_t version : {1U, 2U}) {
    auto image = writer::write_to_vector(tree, writer::Options::exactly(version));
    auto path = tmp / ("v" + std::to_string(version) + ".cfs");
    test::write_file(path, std::string_view(reinterpret_cast<const char*>(image.data()), image.size()));
    auto mnt = tmp / ("mnt" + std::to_string(version));
    fs::create_directory(mnt);
    auto r = run({tool("mount.composefs"), "-o", "ro,basedir=" + b.store.string(), path.string(), mnt.string()});
    ASSERT_EQ(r.status, 0) << "V" << version << ": " << r.err;
    mounted.emplace_back(mnt);
    mounts[version] = mnt;
  }
  EXPECT_GT(test::compare_trees(mounts[1], mounts[2], true), 1000);
}

// mount(8) finds helpers only in /sbin. The test shows it ours without installing it: in a
// mount namespace of its own (this test's process only), a directory holding just
// mount.composefs is mounted over /sbin for the duration.
TEST(MountComposefs, ThroughMountCommand) {
  CFS_REQUIRE_MOUNTS();
  test::TempDir tmp;
  Built b = build_tree(tmp, "102");
  auto mnt = tmp / "mnt", sbin = tmp / "sbin";
  fs::create_directory(mnt);
  fs::create_directory(sbin);
  fs::create_symlink(tool("mount.composefs"), sbin / "mount.composefs");
  ASSERT_EQ(::unshare(CLONE_NEWNS), 0) << std::strerror(errno);
  ASSERT_EQ(::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr), 0) << std::strerror(errno);
  auto system_sbin = fs::canonical("/sbin");
  ASSERT_EQ(::mount(sbin.c_str(), system_sbin.c_str(), nullptr, MS_BIND, nullptr), 0) << std::strerror(errno);
  auto r = run({"mount", "-t", "composefs", b.image.string(), "-o", "basedir=" + b.store.string(), mnt.string()});
  ::umount2(system_sbin.c_str(), MNT_DETACH);
  ASSERT_EQ(r.status, 0) << r.err;
  Mounted m(mnt);
  EXPECT_GT(test::compare_trees(b.src, mnt), 50);
}

TEST(MountComposefs, DigestIsVerified) {
  CFS_REQUIRE_MOUNTS();
  test::TempDir tmp;
  Built b = build_tree(tmp, "103");
  auto digest = run({tool("mkcomposefs"), "--print-digest-only", b.src.string()}).out;
  ASSERT_EQ(digest.size(), 65u);
  digest.pop_back();
  auto mnt = tmp / "mnt";
  fs::create_directory(mnt);
  auto before = mounts_snapshot();
  std::string wrong = digest;
  wrong[0] = wrong[0] == '0' ? '1' : '0';
  auto r = run({tool("mount.composefs"), "-o", "basedir=" + b.store.string() + ",digest=" + wrong, b.image.string(), mnt.string()});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("Image has wrong fs-verity"), std::string::npos) << r.err;
  EXPECT_EQ(mounts_snapshot(), before);
  r = run({tool("mount.composefs"), "-o", "basedir=" + b.store.string() + ",digest=" + digest, b.image.string(), mnt.string()});
  ASSERT_EQ(r.status, 0) << r.err;
  {
    Mounted m(mnt);
    EXPECT_GT(test::compare_trees(b.src, mnt), 50);
  }
  // The image changed after its digest was taken: refused.
  {
    std::fstream f(b.image, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(40);
    f.put('\x01');
  }
  r = run({tool("mount.composefs"), "-o", "basedir=" + b.store.string() + ",digest=" + digest, b.image.string(), mnt.string()});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(mounts_snapshot(), before);
  r = run({tool("mount.composefs"), "-o", "basedir=" + b.store.string() + ",digest=zz", b.image.string(), mnt.string()});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "mount.composefs: Failed to mount composefs " + b.image.string() +
                       ": Invalid digest 'zz': expected 64 (SHA-256) or 128 (SHA-512) hexadecimal digits\n");
}

// A SHA-512 image (composefs-rs repositories name images by SHA-512 digests): digest= takes
// its 128 hex digits, checks them without fs-verity, and the tree reads back from the objects.
TEST(MountComposefs, Sha512DigestPinsASha512Image) {
  CFS_REQUIRE_MOUNTS();
  test::TempDir tmp;
  ASSERT_EQ(test::make_sha512_image(tmp.path()), "");
  auto image = tmp / "sha512.cfs", mnt = tmp / "mnt";
  fs::create_directory(mnt);
  auto r = run({"fsverity", "digest", "--hash-alg=sha512", "--compact", image.string()});
  ASSERT_EQ(r.status, 0) << r.err;
  std::string digest = r.out.substr(0, 128), wrong = digest;
  wrong[5] = wrong[5] == '0' ? '1' : '0';
  auto before = mounts_snapshot();
  r = run({tool("mount.composefs"), "-o", "basedir=" + (tmp / "store").string() + ",digest=" + wrong,
           image.string(), mnt.string()});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("Image has wrong fs-verity"), std::string::npos) << r.err;
  EXPECT_EQ(mounts_snapshot(), before);
  r = run({tool("mount.composefs"), "-o", "basedir=" + (tmp / "store").string() + ",digest=" + digest,
           image.string(), mnt.string()});
  ASSERT_EQ(r.status, 0) << r.err;
  Mounted m(mnt);
  EXPECT_TRUE(test::read_file(mnt / "big") == test::read_file(tmp / "big"));
  EXPECT_TRUE(test::read_file(mnt / "small") == test::read_file(tmp / "small"));
  EXPECT_EQ(test::read_file(mnt / "tiny"), "tiny\n");
}

// mount -f checks everything, the digest included, and mounts nothing; -v says what it did.
TEST(MountComposefs, FakeMountChecksAndMountsNothing) {
  CFS_REQUIRE_MOUNTS();
  test::TempDir tmp;
  Built b = build_tree(tmp, "103");
  auto digest = run({tool("mkcomposefs"), "--print-digest-only", b.src.string()}).out;
  digest.pop_back();
  auto mnt = tmp / "mnt";
  fs::create_directory(mnt);
  auto before = mounts_snapshot();
  auto r = run({tool("mount.composefs"), "-f", "-v", "-o", "basedir=" + b.store.string() + ",digest=" + digest,
                b.image.string(), mnt.string()});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "mount.composefs: would mount " + b.image.string() + " on " + mnt.string() + "\n");
  EXPECT_EQ(mounts_snapshot(), before);
  std::string wrong = digest;
  wrong[0] = wrong[0] == '0' ? '1' : '0';
  r = run({tool("mount.composefs"), "-f", "-o", "basedir=" + b.store.string() + ",digest=" + wrong, b.image.string(), mnt.string()});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("Image has wrong fs-verity"), std::string::npos) << r.err;
  r = run({tool("mount.composefs"), "-v", "-o", "basedir=" + b.store.string(), b.image.string(), mnt.string()});
  EXPECT_EQ(r.out, "mount.composefs: mounted " + b.image.string() + " on " + mnt.string() + "\n");
  EXPECT_TRUE(test::is_mounted(mnt));
  ::umount2(mnt.c_str(), MNT_DETACH);
}

// "verity" on a store whose objects have no fs-verity used to mount, and then every read
// failed with EIO: now the mount fails and says why.
TEST(MountComposefs, VerityWithoutFsVerityIsAMountError) {
  CFS_REQUIRE_MOUNTS();
  test::TempDir tmp;
  Built b = build_tree(tmp, "101");
  auto object = run({"sh", "-c", "find " + b.store.string() + " -type f | head -1"}).out;
  object.pop_back();
  bool store_has_verity = run({"fsverity", "measure", object}).status == 0;
  auto mnt = tmp / "mnt";
  fs::create_directory(mnt);
  auto before = mounts_snapshot();
  auto r = run({tool("mount.composefs"), "-o", "verity,basedir=" + b.store.string(), b.image.string(), mnt.string()});
  if (store_has_verity) {
    EXPECT_EQ(r.status, 0) << r.err;
    ::umount2(mnt.c_str(), MNT_DETACH);
    return;
  }
  EXPECT_EQ(r.status, 1);
  std::string prefix = "mount.composefs: Failed to mount composefs " + b.image.string() + ": verity: object ";
  EXPECT_EQ(r.err.rfind(prefix, 0), 0u) << r.err;
  EXPECT_TRUE(r.err.ends_with(" has no fs-verity, so it would not open (use tryverity or noverity, or composefs-fuse "
                              "-o verity=require, which verifies without it)\n")) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_EQ(mounts_snapshot(), before);
}

TEST(MountComposefs, UpperDirTakesWrites) {
  CFS_REQUIRE_MOUNTS();
  test::TempDir tmp;
  Built b = build_tree(tmp, "101");
  auto image_sha = test::sha256_hex(test::read_file(b.image));
  auto store_list = run({"sh", "-c", "cd " + b.store.string() + " && find . -type f | sort | xargs sha256sum"}).out;
  auto mnt = tmp / "mnt", upper = tmp / "upper", work = tmp / "work";
  for (const auto& d : {mnt, upper, work}) fs::create_directory(d);
  auto r = run({tool("mount.composefs"), "-o", "basedir=" + b.store.string() + ",upperdir=" + upper.string() + ",workdir=" + work.string(), b.image.string(), mnt.string()});
  ASSERT_EQ(r.status, 0) << r.err;
  {
    Mounted m(mnt);
    test::write_file(mnt / "new-file", "written through the mount");
    // Overwrite an existing file that lives in the store.
    for (const std::string& rel : test::entries_below(b.src)) {
      auto st = fs::symlink_status(b.src / rel);
      if (st.type() == fs::file_type::regular && fs::file_size(b.src / rel) > 100) {
        test::write_file(mnt / rel, "changed");
        EXPECT_EQ(test::read_file(upper / rel), "changed");
        break;
      }
    }
  }
  EXPECT_EQ(test::read_file(upper / "new-file"), "written through the mount");
  EXPECT_EQ(test::sha256_hex(test::read_file(b.image)), image_sha);
  EXPECT_EQ(run({"sh", "-c", "cd " + b.store.string() + " && find . -type f | sort | xargs sha256sum"}).out, store_list);
  r = run({tool("mount.composefs"), "-o", "basedir=" + b.store.string() + ",upperdir=" + upper.string(), b.image.string(), mnt.string()});
  EXPECT_EQ(r.err, "mount.composefs: Both workdir and upperdir must be specified if used\n");
}

TEST(MountComposefs, RepeatedCyclesLeaveNothingBehind) {
  CFS_REQUIRE_MOUNTS();
  test::TempDir tmp;
  Built b = build_tree(tmp, "102");
  auto mnt = tmp / "mnt";
  fs::create_directory(mnt);
  auto loops_before = run({"losetup", "-a"}).out;
  auto mounts_before = mounts_snapshot();
  auto tmp_entries = [] {
    int n = 0;
    for (const auto& e : fs::directory_iterator("/tmp")) n += e.path().filename().string().starts_with(".composefs.");
    return n;
  };
  int tmp_before = tmp_entries();
  for (int i = 0; i < 100; ++i) {
    bool fail = i % 4 == 3;
    auto opts = "basedir=" + b.store.string() + (fail ? ",digest=" + std::string(64, 'a') : "");
    auto r = run({tool("mount.composefs"), "-o", opts, b.image.string(), mnt.string()});
    ASSERT_EQ(r.status, fail ? 1 : 0) << i << ": " << r.err;
    if (!fail) {
      ASSERT_EQ(::umount2(mnt.c_str(), 0), 0) << std::strerror(errno);
    }
  }
  EXPECT_EQ(run({"losetup", "-a"}).out, loops_before);
  EXPECT_EQ(mounts_snapshot(), mounts_before);
  EXPECT_EQ(tmp_entries(), tmp_before);
}

TEST(MountComposefs, ClearErrors) {
  CFS_REQUIRE_MOUNTS();
  test::TempDir tmp;
  Built b = build_tree(tmp, "101");
  auto mnt = tmp / "mnt";
  fs::create_directory(mnt);
  auto fail_with = [&](std::vector<std::string> args) {
    std::vector<std::string> argv = {tool("mount.composefs").string()};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = run(argv);
    EXPECT_EQ(r.status, 1);
    return r.err;
  };
  std::string prefix = "mount.composefs: Failed to mount composefs " + b.image.string() + ": ";
  EXPECT_EQ(fail_with({"-o", "basedir=/nonexistent", b.image.string(), mnt.string()}),
            prefix + "basedir /nonexistent: No such file or directory\n");
  EXPECT_EQ(fail_with({"-o", "basedir=" + b.store.string(), b.image.string(), (tmp / "nope").string()}),
            prefix + "mount point " + (tmp / "nope").string() + ": No such file or directory\n");
  test::write_file(tmp / "notimage", std::string(8192, 'x'));
  EXPECT_EQ(fail_with({"-o", "basedir=" + b.store.string(), (tmp / "notimage").string(), mnt.string()}),
            "mount.composefs: Failed to mount composefs " + (tmp / "notimage").string() + ": Not a composefs image\n");
  EXPECT_EQ(fail_with({b.image.string(), mnt.string()}).substr(0, 42), "mount.composefs: No object dirs specified\n");
  EXPECT_EQ(fail_with({"-o", "basedir=a::b", b.image.string(), mnt.string()}),
            "mount.composefs: Value for basedir option has incorrect format\n");
  EXPECT_EQ(fail_with({"-o", "basedir=" + b.store.string() + ",frob", b.image.string(), mnt.string()}),
            "mount.composefs: Unsupported option frob\n");
  EXPECT_EQ(fail_with({"-t", "ext4", b.image.string(), mnt.string()}), "mount.composefs: Unsupported fs type 'ext4'\n");
  fs::permissions(tmp.path(), fs::perms::all);
  auto r = run({"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", tool("mount.composefs").string(),
                "-o", "basedir=" + b.store.string(), b.image.string(), mnt.string()});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("mounting needs root; try composefs-fuse"), std::string::npos) << r.err;
  EXPECT_FALSE(test::is_mounted(mnt));
}

// An image not trusted as a root filesystem can be mounted nosuid,nodev,noexec: its set-uid
// root program does not raise privileges, its device nodes do not open, nothing executes.
// Without the options the same image behaves as a root filesystem (as upstream's mounts do).
TEST(MountComposefs, NosuidNodevNoexecTameAnImage) {
  CFS_REQUIRE_MOUNTS();
  test::TempDir tmp;
  fs::create_directory(tmp / "store");
  test::write_file(tmp / "img.dump",
                   "/ 0 40755 2 0 0 0 0.0 - - -\n"
                   "/null 0 20666 1 0 0 259 0.0 - - -\n"  // 259 = makedev(1, 3): /dev/null
                   "/run 10 104755 1 0 0 0 0.0 - #!/bin/sh\\n -\n");
  ASSERT_EQ(run({tool("mkcomposefs"), "--from-file", (tmp / "img.dump").string(), (tmp / "img").string()}).status, 0);
  auto mnt = tmp / "mnt";
  fs::create_directory(mnt);
  auto mount_with = [&](const std::string& extra) {
    auto r = run({tool("mount.composefs"), "-o", "basedir=" + (tmp / "store").string() + extra,
                  (tmp / "img").string(), mnt.string()});
    EXPECT_EQ(r.status, 0) << r.err;
  };
  struct Seen {
    unsigned long flags;
    bool device_opens, runs;
  };
  auto look = [&] {
    struct statvfs sv {};
    EXPECT_EQ(::statvfs(mnt.c_str(), &sv), 0);
    int fd = ::open((mnt / "null").c_str(), O_WRONLY | O_CLOEXEC);
    if (fd >= 0) ::close(fd);
    bool runs = run({(mnt / "run").string()}).status == 0;
    Seen seen{sv.f_flag & (ST_NOSUID | ST_NODEV | ST_NOEXEC), fd >= 0, runs};
    ::umount2(mnt.c_str(), MNT_DETACH);
    return seen;
  };
  mount_with(",nosuid,nodev,noexec");
  Seen tamed = look();
  EXPECT_EQ(tamed.flags, ST_NOSUID | ST_NODEV | ST_NOEXEC);
  EXPECT_FALSE(tamed.device_opens);
  EXPECT_FALSE(tamed.runs);
  mount_with("");
  Seen root_fs = look();
  EXPECT_EQ(root_fs.flags, 0u);
  EXPECT_TRUE(root_fs.device_opens);
  EXPECT_TRUE(root_fs.runs);
  mount_with(",nosuid,suid,nodev,dev");  // the last word wins, as mount(8) reads options
  EXPECT_EQ(look().flags, 0u);
  EXPECT_FALSE(test::is_mounted(mnt));
}

// Two different images sharing one 256 MiB object: its pages are cached once.
TEST(MountComposefs, SharedObjectIsCachedOnce) {
  CFS_REQUIRE_MOUNTS();
  test::TempDir tmp;
  ASSERT_EQ(test::make_images_sharing_an_object(tmp.path(), 256 << 20), "");
  auto store = tmp / "store";
  auto m1 = tmp / "m1", m2 = tmp / "m2";
  fs::create_directory(m1);
  fs::create_directory(m2);
  ASSERT_EQ(run({tool("mount.composefs"), "-o", "basedir=" + store.string(), (tmp / "1.cfs").string(), m1.string()}).status, 0);
  Mounted mm1(m1);
  ASSERT_EQ(run({tool("mount.composefs"), "-o", "basedir=" + store.string(), (tmp / "2.cfs").string(), m2.string()}).status, 0);
  Mounted mm2(m2);
  EXPECT_EQ(fs::file_size(m1 / "big"), 256u << 20);
  long grown = test::cached_growth_reading(m1 / "big", m2 / "big", 200 * 1024, 384 * 1024);
  RecordProperty("cached_growth_kib", std::to_string(grown));
  std::cout << "Cached: grew by " << grown / 1024 << " MiB for two reads of a 256 MiB object\n";
  EXPECT_GT(grown, 200 * 1024);
  EXPECT_LT(grown, 384 * 1024);
}

}  // namespace
}  // namespace cfs
