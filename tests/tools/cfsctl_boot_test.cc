// cfsctl --bootable (composefs-rs 0.9's boot transform, boot.md §3.1-3.2): compute-id with and
// without a repository, create-image, and oci pull / compute-id / dump / mount / inspect, with
// an SELinux policy inside the image. No root needed.
#include <fcntl.h>
#include <gtest/gtest.h>

#include <map>
#include <sys/stat.h>

#include <sstream>

#include "support/oci_image.h"
#include "support/support.h"

namespace cfs {
namespace {

namespace fs = test::fs;
using test::cfsctl;
using test::run;
using test::tool;

const std::string kConfig = "SELINUX=enforcing\nSELINUXTYPE=targeted\n";
// Over 64 bytes: an object in the repository, not inline.
const std::string kFileContexts =
    "/.*\tsystem_u:object_r:default_t:s0\n"
    "/usr(/.*)?\tsystem_u:object_r:usr_t:s0\n"
    "/usr/bin(/.*)?\tsystem_u:object_r:bin_t:s0\n"
    "/etc(/.*)? -d system_u:object_r:etc_t:s0\n";
const std::string kPolicyDir = "etc/selinux/targeted/contexts/files";

void set_mtime(const fs::path& p, long sec, long nsec) {
  struct timespec t[2] = {{sec, nsec}, {sec, nsec}};
  ASSERT_EQ(::utimensat(AT_FDCWD, p.c_str(), t, AT_SYMLINK_NOFOLLOW), 0) << p;
}

void bootable_tree(const fs::path& dir) {
  fs::create_directories(dir / "usr" / "bin");
  fs::create_directories(dir / "usr" / "lib");
  fs::create_directories(dir / "boot");
  fs::create_directories(dir / "sysroot" / "ostree");
  fs::create_directories(dir / kPolicyDir);
  test::write_file(dir / "usr" / "bin" / "tool", std::string(100, 't'));
  test::write_file(dir / "boot" / "vmlinuz", "kernel");
  fs::create_hard_link(dir / "boot" / "vmlinuz", dir / "usr" / "lib" / "vmlinuz");
  test::write_file(dir / "etc" / "selinux" / "config", kConfig);
  test::write_file(dir / kPolicyDir / "file_contexts", kFileContexts);
  set_mtime(dir / "usr", 1000, 5);
  set_mtime(dir / "boot", 7, 700);
}

std::string line_of(const std::string& dump, const std::string& path) {
  std::istringstream in(dump);
  for (std::string l; std::getline(in, l);) {
    if (l.starts_with(path + " ")) return l;
  }
  return "";
}

TEST(CfsctlBoot, ComputeIdAndCreateImage) {
  test::TempDir tmp;
  bootable_tree(tmp / "tree");
  auto plain = run({tool("cfsctl").string(), "--no-repo", "compute-id", (tmp / "tree").string()});
  auto no_repo = run(
      {tool("cfsctl").string(), "--no-repo", "compute-id", "--bootable", (tmp / "tree").string()});
  ASSERT_EQ(no_repo.status, 0) << no_repo.err;
  EXPECT_EQ(no_repo.out.size(), 129U);
  EXPECT_NE(no_repo.out, plain.out);
  fs::path repo = tmp / "repo";
  ASSERT_EQ(cfsctl(repo, {"init", "--insecure"}).status, 0);
  EXPECT_EQ(cfsctl(repo, {"compute-id", "--bootable", (tmp / "tree").string()}).out, no_repo.out);
  auto created = cfsctl(repo, {"create-image", "--bootable", (tmp / "tree").string(), "boot"});
  ASSERT_EQ(created.status, 0) << created.err;
  EXPECT_EQ(created.out, "sha512:" + no_repo.out);
  auto dump = cfsctl(repo, {"dump-files", "boot", "/boot", "/sysroot", "/usr", "/etc"});
  ASSERT_EQ(dump.status, 0) << dump.err;
  // /boot and /sysroot emptied, with /usr's mtime; the kernel lives on under /usr alone.
  EXPECT_NE(line_of(dump.out, "/boot").find(" 40755 2 0 0 0 1000.700 "), std::string::npos)
      << dump.out;
  EXPECT_EQ(line_of(dump.out, "/boot/vmlinuz"), "");
  EXPECT_EQ(line_of(dump.out, "/sysroot/ostree"), "");
  EXPECT_NE(line_of(dump.out, "/usr/lib/vmlinuz").find(" 100644 1 "), std::string::npos)
      << dump.out;
  // Labels: the last matching line wins; -d lines only for directories.
  EXPECT_NE(line_of(dump.out, "/usr/bin/tool").find("security.selinux=system_u:object_r:bin_t:s0"),
            std::string::npos)
      << dump.out;
  EXPECT_NE(
      line_of(dump.out, "/usr/lib/vmlinuz").find("security.selinux=system_u:object_r:usr_t:s0"),
      std::string::npos);
  EXPECT_NE(line_of(dump.out, "/etc").find("security.selinux=system_u:object_r:etc_t:s0"),
            std::string::npos);
  EXPECT_NE(line_of(dump.out, "/etc/selinux/config")
                .find("security.selinux=system_u:object_r:default_t:s0"),
            std::string::npos);
}

TEST(CfsctlBoot, Errors) {
  test::TempDir tmp;
  bootable_tree(tmp / "tree");
  fs::remove_all(tmp / "tree" / "sysroot");
  auto r = run(
      {tool("cfsctl").string(), "--no-repo", "compute-id", "--bootable", (tmp / "tree").string()});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("cannot make the image bootable: it has no /sysroot directory"),
            std::string::npos)
      << r.err;
  fs::create_directories(tmp / "tree" / "sysroot");
  test::write_file(tmp / "tree" / kPolicyDir / "file_contexts", kFileContexts + "/x -q ctx\n");
  r = run(
      {tool("cfsctl").string(), "--no-repo", "compute-id", "--bootable", (tmp / "tree").string()});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(
      r.err.find("/etc/selinux/targeted/contexts/files/file_contexts:5: invalid file type -q"),
      std::string::npos)
      << r.err;
  // No policy: labels are removed, and the ID is that of the same tree without /etc/selinux.
  fs::remove_all(tmp / "tree" / "etc" / "selinux");
  r = run(
      {tool("cfsctl").string(), "--no-repo", "compute-id", "--bootable", (tmp / "tree").string()});
  EXPECT_EQ(r.status, 0) << r.err;
}

// An OCI layout in dir/layout (tag latest) of a bootable tree with an SELinux policy.
std::string bootable_layout(const test::TempDir& tmp) {
  std::string layer = test::make_tar(
      {test::dir("usr/", 1000), test::dir("usr/bin/", 1000),
       test::file("usr/bin/tool", std::string(100, 't'), 1000), test::dir("boot/", 5),
       test::file("boot/vmlinuz", "kernel"), test::dir("sysroot/", 6), test::dir("sysroot/ostree/"),
       test::dir("etc/"), test::dir("etc/selinux/"), test::file("etc/selinux/config", kConfig),
       test::dir("etc/selinux/targeted/"), test::dir("etc/selinux/targeted/contexts/"),
       test::dir(kPolicyDir + "/"), test::file(kPolicyDir + "/file_contexts", kFileContexts)});
  test::write_layout(tmp / "layout", {{layer}}, "latest");
  return "oci:" + (tmp / "layout").string() + ":latest";
}

// A repository of EROFS format 2 names its boot image as composefs-rs does for V2
// (composefs.image.boot): another ID than V1's for the same tree.
TEST(CfsctlBoot, FormatV2BootImages) {
  test::TempDir tmp;
  std::string source = bootable_layout(tmp);
  std::map<std::string, std::string> ids;
  for (const char* version : {"1", "2"}) {
    fs::path repo = tmp / (std::string("repo") + version);
    ASSERT_EQ(cfsctl(repo, {"init", "--insecure", "--erofs-version", version}).status, 0);
    auto r = cfsctl(repo, {"oci", "pull", "--bootable", source, "boot"});
    ASSERT_EQ(r.status, 0) << version << ": " << r.err;
    auto id = cfsctl(repo, {"oci", "compute-id", "--bootable", "boot"});
    ASSERT_EQ(id.status, 0) << id.err;
    EXPECT_NE(r.out.find("Boot image: " + id.out), std::string::npos) << r.out;
    ids[version] = id.out;
    EXPECT_EQ(cfsctl(repo, {"gc"}).status, 0);
    EXPECT_TRUE(fs::exists(repo / "images" / id.out.substr(0, 128))) << "kept by gc";
  }
  EXPECT_NE(ids["1"], ids["2"]);
}

TEST(CfsctlBoot, OciPullComputeIdDumpMountAndGc) {
  test::TempDir tmp;
  std::string source = bootable_layout(tmp);
  fs::path repo = tmp / "repo";
  ASSERT_EQ(cfsctl(repo, {"init", "--insecure"}).status, 0);
  ASSERT_EQ(cfsctl(repo, {"oci", "pull", source, "plain"}).status, 0);
  fs::create_directories(tmp / "mnt");
  auto r = cfsctl(repo, {"oci", "mount", "--bootable", "plain", (tmp / "mnt").string()});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("No boot EROFS image linked — try pulling with --bootable"),
            std::string::npos)
      << r.err;

  auto boot_id = cfsctl(repo, {"oci", "compute-id", "--bootable", "plain"});
  ASSERT_EQ(boot_id.status, 0) << boot_id.err;
  EXPECT_NE(boot_id.out, cfsctl(repo, {"oci", "compute-id", "plain"}).out);
  r = cfsctl(repo, {"oci", "pull", "--bootable", source, "boot"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("\nBoot image: " + boot_id.out), std::string::npos) << r.out;
  // Cached: a second pull names the same image; inspect shows it; both tags see it (one manifest).
  EXPECT_NE(cfsctl(repo, {"oci", "pull", "--bootable", source, "boot"})
                .out.find("Boot image: " + boot_id.out),
            std::string::npos);
  auto inspect = cfsctl(repo, {"oci", "inspect", "plain"});
  EXPECT_NE(inspect.out.find("\"composefs_boot_erofs\": \"" + boot_id.out.substr(0, 128) + "\""),
            std::string::npos)
      << inspect.out;
  auto dump = cfsctl(repo, {"oci", "dump", "--bootable", "boot"});
  EXPECT_EQ(line_of(dump.out, "/boot/vmlinuz"), "");
  EXPECT_NE(line_of(dump.out, "/boot").find(" 1000.0 "), std::string::npos) << dump.out;
  EXPECT_NE(line_of(dump.out, "/usr/bin/tool").find("security.selinux=system_u:object_r:bin_t:s0"),
            std::string::npos)
      << dump.out;
  EXPECT_NE(line_of(dump.out, "/").find("security.selinux=system_u:object_r:default_t:s0"),
            std::string::npos)
      << dump.out;
  // gc keeps the boot image (a named ref of the config stream); fsck is clean.
  ASSERT_EQ(cfsctl(repo, {"gc"}).status, 0);
  EXPECT_TRUE(fs::exists(repo / "images" / boot_id.out.substr(0, 128)));
  EXPECT_EQ(cfsctl(repo, {"fsck"}).status, 0);
  EXPECT_EQ(cfsctl(repo, {"oci", "fsck"}).status, 0);
  // Untagged, the boot image goes with the rest.
  ASSERT_EQ(cfsctl(repo, {"oci", "untag", "boot"}).status, 0);
  ASSERT_EQ(cfsctl(repo, {"oci", "untag", "plain"}).status, 0);
  ASSERT_EQ(cfsctl(repo, {"gc"}).status, 0);
  EXPECT_FALSE(fs::exists(repo / "images" / boot_id.out.substr(0, 128)));
}

}  // namespace
}  // namespace cfs
