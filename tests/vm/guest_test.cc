// What the kernel does with our images, asserted on Debian's own kernels: these tests run
// inside the VM (tests/vm/vm.sh, ctest label vm) as root, with /tmp on an ext4 filesystem
// made with fs-verity. On 6.12 every verification path is exercised for real (objects given
// fs-verity, overlayfs verity=require, tampered objects); on 6.1, which lacks overlayfs
// verity, data-only layers, file-backed EROFS and FUSE passthrough, everything mounts as far
// as the kernel allows and the rest is a clear error naming what is missing. fs-verity facts
// come from fsverity-utils, not from our code. Outside such a VM every test skips.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "libcomposefs/lcfs-mount.h"
#include "support/fs_compare.h"
#include "support/fuse_mount.h"
#include "support/oci_image.h"
#include "support/support.h"

namespace cfs {
namespace {

namespace fs = test::fs;
using test::run;
using test::tool;

std::pair<int, int> kernel_version() {
  utsname u{};
  ::uname(&u);
  int major = 0, minor = 0;
  std::sscanf(u.release, "%d.%d", &major, &minor);
  return {major, minor};
}
bool kernel_at_least(int major, int minor) { return kernel_version() >= std::pair(major, minor); }

// In the VM: root, and /tmp takes fs-verity.
bool verity_tmp() {
  test::TempDir tmp;
  test::write_file(tmp / "probe", "x");
  return ::geteuid() == 0 && run({"fsverity", "enable", (tmp / "probe").string()}).status == 0;
}
#define REQUIRE_VM() \
  if (!verity_tmp()) GTEST_SKIP() << "not in the VM: /tmp has no fs-verity (run through tests/vm/vm.sh)"

// The kernel's fs-verity digest of a file as fsverity-utils reports it, or "" when it has none.
std::string measured(const fs::path& file) {
  auto r = run({"fsverity", "measure", file.string()});
  if (r.status != 0) return "";
  return r.out.substr(0, r.out.find(' '));
}

std::string mount_options_of(const fs::path& mnt) {
  std::ifstream f("/proc/self/mountinfo");
  for (std::string line; std::getline(f, line);) {
    if (line.find(" " + mnt.string() + " ") != std::string::npos) return line;
  }
  return "";
}

class Unmount {
 public:
  explicit Unmount(fs::path dir) : dir_(std::move(dir)) {}
  ~Unmount() {
    while (test::is_mounted(dir_)) ::umount2(dir_.c_str(), MNT_DETACH);
  }

 private:
  fs::path dir_;
};

struct Built {
  fs::path src, store, image, mnt;  // mnt: an empty directory to mount on
  std::string digest;               // the image's fs-verity digest (hex)
};

// A tree with external objects and inline files, built into a store with fs-verity.
Built build(const test::TempDir& tmp) {
  Built b{tmp / "src", tmp / "store", tmp / "image.cfs", tmp / "mnt", ""};
  fs::create_directory(b.mnt);
  fs::create_directories(b.src / "d");
  fs::create_directories(b.src / "usr");  // cfsctl takes the root's metadata from /usr
  test::write_file(b.src / "big", test::patterned(300000));
  test::write_file(b.src / "d" / "other", test::patterned(20000) + "other");
  test::write_file(b.src / "small", "inline");
  auto r = run({tool("mkcomposefs"), "--digest-store=" + b.store.string(), b.src.string(), b.image.string()});
  EXPECT_EQ(r.status, 0) << r.err;
  r = run({tool("mkcomposefs"), "--print-digest-only", b.src.string()});
  b.digest = r.out.substr(0, r.out.find('\n'));
  return b;
}

// mount.composefs of the image on b.mnt with basedir= and more `options` (",verity,…").
test::Run mount_composefs(const Built& b, const std::string& options) {
  return run({tool("mount.composefs"), "-o", "basedir=" + b.store.string() + options, b.image.string(), b.mnt.string()});
}

// mount.composefs with `options` mounts a tree equal to the source, showing `shown` (a mount
// option) in mountinfo; unmounted again.
void expect_mount_equals_source(const Built& b, const std::string& options, const std::string& shown = "") {
  auto r = mount_composefs(b, options);
  ASSERT_EQ(r.status, 0) << r.err;
  Unmount u(b.mnt);
  EXPECT_NE(mount_options_of(b.mnt).find(shown), std::string::npos) << mount_options_of(b.mnt);
  EXPECT_GT(test::compare_trees(b.src, b.mnt), 0);
}

// lcfs_mount_options_s for the image's one store.
struct LibraryOptions {
  explicit LibraryOptions(const Built& b, std::uint32_t flags) : store(b.store.string()) {
    o.objdirs = dirs;
    o.n_objdirs = 1;
    o.flags = flags;
  }
  std::string store;
  const char* dirs[1] = {store.c_str()};
  lcfs_mount_options_s o{};
};

// The store file that holds `file`'s bytes (its object).
fs::path object_of(const Built& b, const std::string& file) {
  auto r = run({tool("composefs-info"), "dump", b.image.string()});
  for (std::size_t at = 0, end; (end = r.out.find('\n', at)) != std::string::npos; at = end + 1) {
    std::string line = r.out.substr(at, end - at);
    if (line.starts_with("/" + file + " ")) {
      // path size mode nlink uid gid rdev mtime payload content digest
      std::istringstream in(line);
      std::string f[9];
      for (auto& x : f) in >> x;
      return b.store / f[8];
    }
  }
  return {};
}

std::vector<fs::path> objects(const fs::path& store) {
  std::vector<fs::path> out;
  for (const auto& e : fs::recursive_directory_iterator(store)) {
    if (e.is_regular_file()) out.push_back(e.path());
  }
  return out;
}

// Replaces `object` by other bytes of the same length that carry fs-verity of their own.
void tamper_with_verity(const fs::path& object) {
  fs::path fake = object.string() + ".fake";
  std::string bytes = test::read_file(object);
  bytes[bytes.size() / 2] ^= 1;
  test::write_file(fake, bytes);
  ASSERT_EQ(run({"fsverity", "enable", fake.string()}).status, 0);
  fs::rename(fake, object);
}
// Replaces `object` by a copy of its own bytes without fs-verity.
void strip_verity(const fs::path& object) {
  fs::path copy = object.string() + ".copy";
  test::write_file(copy, test::read_file(object));
  fs::rename(copy, object);
}

// errno of reading a whole file (0: read).
int read_errno(const fs::path& file) {
  int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  char buf[65536];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) {
  }
  int err = n < 0 ? errno : 0;
  ::close(fd);
  return err;
}

// Bytes a process has read through read(2) and friends (/proc/PID/io rchar).
std::uint64_t bytes_read(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/io");
  for (std::string key; f >> key;) {
    std::uint64_t value = 0;
    f >> value;
    if (key == "rchar:") return value;
  }
  return 0;
}

// ---- 6.6 and later: overlayfs verity, enforced by the kernel ---------------------------------

#define REQUIRE_OVERLAY_VERITY() \
  REQUIRE_VM();                  \
  if (!kernel_at_least(6, 6)) GTEST_SKIP() << "overlayfs verity needs Linux 6.6"

TEST(KernelVerity, DigestStoreGivesEveryObjectFsVerity) {
  REQUIRE_VM();
  test::TempDir tmp;
  Built b = build(tmp);
  auto all = objects(b.store);
  ASSERT_EQ(all.size(), 2u);
  for (const fs::path& o : all) {
    std::string rel = fs::relative(o, b.store).string();
    EXPECT_EQ(measured(o), "sha256:" + rel.substr(0, 2) + rel.substr(3)) << rel;
  }
}

TEST(KernelVerity, MountRequiresVerityAndEqualsTheSource) {
  REQUIRE_OVERLAY_VERITY();
  test::TempDir tmp;
  Built b = build(tmp);
  expect_mount_equals_source(b, ",verity,digest=" + b.digest, "verity=require");
  // A wrong digest mounts nothing.
  std::string wrong = b.digest;
  wrong[0] = wrong[0] == '0' ? '1' : '0';
  auto r = mount_composefs(b, ",verity,digest=" + wrong);
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("wrong fs-verity"), std::string::npos) << r.err;
  EXPECT_FALSE(test::is_mounted(b.mnt));
}

TEST(KernelVerity, TamperedObjectReadsEioWhileTheRestReads) {
  REQUIRE_OVERLAY_VERITY();
  test::TempDir tmp;
  Built b = build(tmp);
  const fs::path& mnt = b.mnt;
  tamper_with_verity(object_of(b, "big"));
  auto r = mount_composefs(b, ",verity,digest=" + b.digest);
  ASSERT_EQ(r.status, 0) << r.err;
  Unmount u(mnt);
  EXPECT_EQ(read_errno(mnt / "big"), EIO);
  EXPECT_EQ(read_errno(mnt / "d" / "other"), 0);
  EXPECT_EQ(test::read_file(mnt / "small"), "inline");
}

TEST(KernelVerity, ObjectWithoutFsVerityIsRefused) {
  REQUIRE_OVERLAY_VERITY();
  test::TempDir tmp;
  Built b = build(tmp);
  const fs::path& mnt = b.mnt;
  strip_verity(object_of(b, "d/other"));
  auto r = mount_composefs(b, ",verity");
  Unmount u(mnt);
  if (r.status == 0) {  // refused when opened, if not at mount time
    EXPECT_EQ(read_errno(mnt / "d" / "other"), EIO);
  } else {
    EXPECT_NE(r.err.find("fs-verity"), std::string::npos) << r.err;
    EXPECT_FALSE(test::is_mounted(mnt));
  }
}

// ostree keeps files without fs-verity (.commitmeta signatures) in its object store: a verity
// mount of an image that names only objects with fs-verity must not be refused for them.
TEST(KernelVerity, UnrelatedFilesWithoutVerityInTheStoreDoNotMatter) {
  REQUIRE_OVERLAY_VERITY();
  test::TempDir tmp;
  Built b = build(tmp);
  // Sorted before the image's objects in every directory a sampler would look at first.
  for (const char* sub : {"00", "01", "0a"}) {
    fs::create_directories(b.store / sub);
    test::write_file(b.store / sub / "0000.commitmeta", "signature, no fs-verity");
  }
  expect_mount_equals_source(b, ",verity,digest=" + b.digest, "verity=require");
}

TEST(KernelVerity, LibraryRequireVerity) {
  REQUIRE_OVERLAY_VERITY();
  test::TempDir tmp;
  Built b = build(tmp);
  const fs::path& mnt = b.mnt;
  LibraryOptions lib(b, LCFS_MOUNT_FLAGS_REQUIRE_VERITY | LCFS_MOUNT_FLAGS_READONLY);
  lcfs_mount_options_s& o = lib.o;
  o.expected_fsverity_digest = b.digest.c_str();
  ASSERT_EQ(lcfs_mount_image(b.image.c_str(), mnt.c_str(), &o), 0) << std::strerror(errno);
  {
    Unmount u(mnt);
    EXPECT_NE(mount_options_of(mnt).find("verity=require"), std::string::npos);
    EXPECT_GT(test::compare_trees(b.src, mnt), 0);
  }
  // A store whose objects have no fs-verity: upstream's ENOVERITY, and nothing mounted.
  for (const fs::path& obj : objects(b.store)) strip_verity(obj);
  errno = 0;
  EXPECT_EQ(lcfs_mount_image(b.image.c_str(), mnt.c_str(), &o), -1);
  EXPECT_EQ(errno, ENOVERITY) << std::strerror(errno);
  EXPECT_FALSE(test::is_mounted(mnt));
}

TEST(KernelVerity, FuseRequireUsesTheKernelMeasurement) {
  REQUIRE_OVERLAY_VERITY();
  test::TempDir tmp;
  Built b = build(tmp);
  const fs::path& mnt = b.mnt;
  tamper_with_verity(object_of(b, "big"));
  test::FuseMount m(b.image, b.store.string(), mnt, {"verity=require"});
  ASSERT_TRUE(m.ok());
  // Verified by the kernel's measurement: the server reads none of the object's 20005 bytes
  // to check them (a computed digest would read them all), and passes the reads through.
  std::uint64_t before = bytes_read(m.pid());
  EXPECT_EQ(test::read_file(mnt / "d" / "other"), test::read_file(b.src / "d" / "other"));
  EXPECT_LT(bytes_read(m.pid()) - before, 4096u);
  EXPECT_EQ(read_errno(mnt / "big"), EIO);
  EXPECT_EQ(read_errno(mnt / "d" / "other"), 0);
  EXPECT_EQ(m.stop(), 0);
}

// A secure repository (no --insecure): objects get fs-verity, mounts require it, fsck trusts
// the kernel's measurements and finds an object whose fs-verity was never enabled.
TEST(KernelVerity, SecureRepository) {
  REQUIRE_OVERLAY_VERITY();
  test::TempDir tmp;
  Built b = build(tmp);
  auto repo = tmp / "repo";
  const fs::path& mnt = b.mnt;
  ASSERT_EQ(test::cfsctl(repo, {"init"}).status, 0);
  auto r = test::cfsctl(repo, {"create-image", b.src.string(), "os"});
  ASSERT_EQ(r.status, 0) << r.err;
  test::write_layout(tmp / "layout", {{test::make_tar({test::dir("usr"), test::file("usr/app", test::patterned(9000))})}}, "latest");
  r = test::cfsctl(repo, {"oci", "pull", "oci:" + (tmp / "layout").string() + ":latest", "app"});
  ASSERT_EQ(r.status, 0) << r.err;
  std::size_t n = 0;
  for (const fs::path& o : objects(repo / "objects")) {
    EXPECT_NE(measured(o), "") << o << " has no fs-verity";
    ++n;
  }
  EXPECT_GT(n, 3u);
  ASSERT_EQ((r = test::cfsctl(repo, {"mount", "os", mnt.string()})).status, 0) << r.err;
  {
    Unmount u(mnt);
    EXPECT_NE(mount_options_of(mnt).find("verity=require"), std::string::npos) << mount_options_of(mnt);
    EXPECT_GT(test::compare_trees(b.src, mnt, true), 0);
  }
  EXPECT_EQ((r = test::cfsctl(repo, {"fsck"})).status, 0) << r.out << r.err;
  // An object stored without fs-verity (copied in by hand): fsck names it.
  fs::path victim;  // "big"'s object (SHA-512 named: the repository's default)
  for (const fs::path& o : objects(repo / "objects")) {
    if (fs::file_size(o) == fs::file_size(b.src / "big")) victim = o;
  }
  ASSERT_FALSE(victim.empty());
  strip_verity(victim);
  r = test::cfsctl(repo, {"fsck"});
  EXPECT_NE(r.status, 0);
  EXPECT_NE((r.out + r.err).find(fs::relative(victim, repo / "objects").string()), std::string::npos) << r.out << r.err;
}

// ---- before 6.6: what the kernel cannot do is said before anything is mounted --------------

#define REQUIRE_OLD_KERNEL() \
  REQUIRE_VM();              \
  if (kernel_at_least(6, 6)) GTEST_SKIP() << "a kernel without overlayfs verity (before 6.6) is tested on 6.1"

TEST(OldKernel, MountsWithoutVerity) {
  REQUIRE_OLD_KERNEL();
  test::TempDir tmp;
  Built b = build(tmp);
  expect_mount_equals_source(b, ",digest=" + b.digest);
}

TEST(OldKernel, VerityIsAClearErrorBeforeMounting) {
  REQUIRE_OLD_KERNEL();
  test::TempDir tmp;
  Built b = build(tmp);
  const fs::path& mnt = b.mnt;
  auto r = mount_composefs(b, ",verity,digest=" + b.digest);
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("Linux 6.6"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("Invalid argument"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_FALSE(test::is_mounted(mnt));

  LibraryOptions lib(b, LCFS_MOUNT_FLAGS_REQUIRE_VERITY);
  lcfs_mount_options_s& o = lib.o;
  errno = 0;
  EXPECT_EQ(lcfs_mount_image(b.image.c_str(), mnt.c_str(), &o), -1);
  EXPECT_EQ(errno, EOPNOTSUPP) << std::strerror(errno);
  EXPECT_FALSE(test::is_mounted(mnt));
  // TRY_VERITY mounts without it.
  o.flags = LCFS_MOUNT_FLAGS_TRY_VERITY;
  ASSERT_EQ(lcfs_mount_image(b.image.c_str(), mnt.c_str(), &o), 0) << std::strerror(errno);
  Unmount u(mnt);
  EXPECT_GT(test::compare_trees(b.src, mnt), 0);
}

// cfsctl: an insecure repository mounts; a secure one requires verity, which 6.1 cannot give.
TEST(OldKernel, CfsctlMountsAsFarAsTheKernelAllows) {
  REQUIRE_OLD_KERNEL();
  test::TempDir tmp;
  Built b = build(tmp);
  const fs::path& mnt = b.mnt;
  for (bool secure : {false, true}) {
    SCOPED_TRACE(secure ? "secure" : "insecure");
    auto repo = tmp / (secure ? "secure" : "insecure");
    ASSERT_EQ(test::cfsctl(repo, secure ? std::vector<std::string>{"init"} : std::vector<std::string>{"init", "--insecure"}).status, 0);
    auto r = test::cfsctl(repo, {"create-image", b.src.string(), "os"});
    ASSERT_EQ(r.status, 0) << r.err;
    r = test::cfsctl(repo, {"mount", "os", mnt.string()});
    if (!secure) {
      ASSERT_EQ(r.status, 0) << r.err;
      Unmount u(mnt);
      EXPECT_GT(test::compare_trees(b.src, mnt, true), 0);
    } else {
      EXPECT_EQ(r.status, 1);
      EXPECT_NE(r.err.find("Linux 6.6"), std::string::npos) << r.err;
      EXPECT_FALSE(test::is_mounted(mnt));
    }
  }
}

TEST(OldKernel, FuseServesReadsItselfWithoutPassthrough) {
  REQUIRE_VM();
  if (kernel_at_least(6, 9)) GTEST_SKIP() << "FUSE passthrough exists from 6.9";
  test::TempDir tmp;
  Built b = build(tmp);
  const fs::path& mnt = b.mnt;
  test::FuseMount m(b.image, b.store.string(), mnt, {}, "", {}, tmp / "fuse.log");
  ASSERT_TRUE(m.ok());
  EXPECT_GT(test::compare_trees(b.src, mnt), 0);
  EXPECT_EQ(test::read_file(mnt / "big"), test::read_file(b.src / "big"));
  EXPECT_EQ(m.stop(), 0);
  std::string log = test::read_file(tmp / "fuse.log");
  EXPECT_NE(log.find("passthrough"), std::string::npos) << log;
  EXPECT_EQ(std::count(log.begin(), log.end(), '\n'), 1) << "said once: " << log;
}

// ---- composefs-setup-root on this kernel ------------------------------------------------------

// composefs-setup-root with `cmdline` on a sysroot holding a secure repository on the verity
// disk, in a private mount namespace: "status=N", then its stderr, or (on success) the new
// root's FSTYPE and OPTIONS and its file "from".
std::string setup_root(const fs::path& sys, const std::string& cmdline) {
  const char* script = R"sh(
mount --bind "$SYS" "$SYS" && mount -t tmpfs run /run || exit 1
if "$TOOL" --sysroot "$SYS" --config /nonexistent --cmdline "$CMDLINE" 2>/run/err >/dev/null; then
  echo status=0
  findmnt -rn -o FSTYPE,OPTIONS -M "$SYS" | tail -1
  cat "$SYS/from"
else
  echo "status=$?"
  cat /run/err
fi
)sh";
  test::Run r = run({"unshare", "-m", "--propagation", "private", "sh", "-c", script}, "",
                    {"SYS=" + sys.string(), "TOOL=" + tool("composefs-setup-root").string(),
                     "CMDLINE=" + cmdline});
  return r.out + r.err;
}

// From 6.6 a secure argument mounts with verity=require; before, it is one line saying what
// the kernel lacks and what to do, and the insecure form mounts (a loop device before 6.12).
TEST(SetupRootKernel, SecureAndInsecureArguments) {
  REQUIRE_VM();
  test::TempDir tmp;
  fs::path src = tmp / "src", sys = tmp / "sysroot";
  for (const char* d : {"etc", "var", "sysroot", "usr/bin"}) fs::create_directories(src / d);
  test::write_file(src / "usr" / "bin" / "tool", test::patterned(20000));
  test::write_file(src / "from", "image\n");
  ASSERT_EQ(test::cfsctl(sys / "composefs", {"init"}).status, 0);
  test::Run r = test::cfsctl(sys / "composefs", {"create-image", src.string()});
  ASSERT_EQ(r.status, 0) << r.err;
  std::string id = r.out.substr(r.out.find(':') + 1, 128);
  for (const char* d : {"etc", "var"}) fs::create_directories(sys / "state" / "deploy" / id / d);

  std::string secure = "composefs.digest=v1-sha512-12:" + id;
  std::string out = setup_root(sys, "quiet " + secure);
  if (kernel_at_least(6, 6)) {
    EXPECT_TRUE(out.starts_with("status=0\noverlay ro,")) << out;
    EXPECT_NE(out.find("verity=require"), std::string::npos) << out;
    EXPECT_TRUE(out.ends_with("\nimage\n")) << out;
  } else {
    EXPECT_EQ(out, "status=1\ncomposefs-setup-root: mounting the image: verity: this kernel's overlayfs (Linux " +
                       [] { utsname u{}; ::uname(&u); return std::string(u.release); }() +
                       ") cannot require fs-verity; that needs Linux 6.6 (boot a kernel that can, or "
                       "write ? after the argument's = to boot unverified) (" + secure + ")\n");
  }
  out = setup_root(sys, "composefs.digest=?v1-sha512-12:" + id);
  EXPECT_TRUE(out.starts_with("status=0\noverlay ro,")) << out;
  EXPECT_EQ(out.find("verity=require"), std::string::npos) << out;
  EXPECT_TRUE(out.ends_with("\nimage\n")) << out;
}

}  // namespace
}  // namespace cfs
