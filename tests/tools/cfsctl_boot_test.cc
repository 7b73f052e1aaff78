// cfsctl --bootable (composefs-rs 0.9's boot transform, boot.md §3.1-3.2): compute-id with and
// without a repository, create-image, and oci pull / compute-id / dump / mount / inspect, with
// an SELinux policy inside the image. No root needed.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <map>
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

// compute-karg (boot.md §3.3): the bootable image's ID in composefs-rs's kernel argument form.
// As composefs-rs 0.9 decides: the hash is the repository's (--hash or SHA-512 without one),
// the EROFS version --erofs-version or 1 (never the repository's), '?' from --insecure only.
TEST(CfsctlBoot, ComputeKarg) {
  test::TempDir tmp;
  bootable_tree(tmp / "tree");
  std::string tree = (tmp / "tree").string();
  auto no_repo = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {tool("cfsctl").string(), "--no-repo"});
    auto r = run(args);
    EXPECT_EQ(r.status, 0) << r.err;
    return r.out;
  };
  auto id = [&](std::vector<std::string> global, std::vector<std::string> opts = {}) {
    global.push_back("compute-id");
    global.push_back("--bootable");
    global.insert(global.end(), opts.begin(), opts.end());
    global.push_back(tree);
    std::string out = no_repo(global);
    return out.substr(0, out.size() - 1);
  };
  struct Case {
    std::vector<std::string> global;
    std::string karg;
  } cases[] = {
      {{}, "composefs.digest=v1-sha512-12:" + id({})},
      {{"--hash", "sha256"}, "composefs.digest=v1-sha256-12:" + id({"--hash", "sha256"})},
      {{"--erofs-version", "1"}, "composefs.digest=v1-sha512-12:" + id({})},
      {{"--erofs-version", "0"}, "composefs.digest=v1-sha512-12:" + id({"--erofs-version", "0"})},
      {{"--insecure"}, "composefs.digest=?v1-sha512-12:" + id({})},
      {{"--erofs-version", "2"}, "composefs=" + id({"--erofs-version", "2"})},
      {{"--erofs-version", "2", "--hash", "sha256", "--insecure"},
       "composefs=?" + id({"--erofs-version", "2", "--hash", "sha256"})},
  };
  for (const Case& c : cases) {
    std::vector<std::string> args = c.global;
    args.insert(args.end(), {"compute-karg", tree});
    EXPECT_EQ(no_repo(args), c.karg + "\n");
  }
  EXPECT_NE(id({"--erofs-version", "0"}), id({}));
  // --no-propagate-usr-to-root: the root keeps its own metadata, as compute-id's.
  EXPECT_EQ(no_repo({"compute-karg", "--no-propagate-usr-to-root", tree}),
            "composefs.digest=v1-sha512-12:" + id({}, {"--no-propagate-usr-to-root"}) + "\n");
  EXPECT_NE(id({}, {"--no-propagate-usr-to-root"}), id({}));

  // A repository: its hash, but neither its EROFS version nor its (insecure) mode.
  fs::path repo = tmp / "repo";
  ASSERT_EQ(cfsctl(repo, {"init", "--insecure", "--algorithm", "fsverity-sha256-12",
                          "--erofs-version", "2"})
                .status,
            0);
  auto r = cfsctl(repo, {"compute-karg", tree});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "composefs.digest=v1-sha256-12:" + id({"--hash", "sha256"}) + "\n");

  // Always bootable: a tree without /sysroot is refused; compute-karg takes no --xattrs or
  // --bootable (composefs-rs's clap rejects them, exit 2).
  r = run(
      {tool("cfsctl").string(), "--no-repo", "compute-karg", "--xattrs", "keep-user-xattrs", tree});
  EXPECT_EQ(r.status, 2) << r.err;
  r = run({tool("cfsctl").string(), "--no-repo", "compute-karg", "--bootable", tree});
  EXPECT_EQ(r.status, 2) << r.err;
  fs::remove_all(tmp / "tree" / "sysroot");
  r = run({tool("cfsctl").string(), "--no-repo", "compute-karg", tree});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("no /sysroot directory"), std::string::npos) << r.err;
}

// create-dumpfile: the directory as composefs-rs prints it (composefs-dump(5), its dumpfile
// writer): depth first in name order, small files inline with no object, directories' nlink
// 2 + subdirectories, later names of a file as "@120000" lines; --bootable and --xattrs as
// compute-id's.
TEST(CfsctlBoot, CreateDumpfile) {
  test::TempDir tmp;
  fs::path d = tmp / "tree";
  fs::create_directories(d / "usr" / "bin");
  fs::create_directories(d / "etc" / "sub");
  test::write_file(d / "usr" / "bin" / "small", "hi\n");
  test::write_file(d / "usr" / "bin" / "empty", "");
  test::write_file(d / "usr" / "bin" / "big", std::string(100, 'b'));
  fs::create_hard_link(d / "usr" / "bin" / "big", d / "etc" / "big2");
  fs::create_symlink("../usr/bin/small", d / "etc" / "link");
  for (const char* p :
       {"usr/bin/small", "usr/bin/empty", "usr/bin/big", "etc/sub", "etc", "usr/bin", "usr"}) {
    set_mtime(d / p, 1000, 5);
  }
  ASSERT_EQ(::chmod((d / "usr" / "bin" / "small").c_str(), 0755), 0);
  std::string uid = std::to_string(::getuid()), gid = std::to_string(::getgid());
  auto r = run(
      {tool("cfsctl").string(), "--no-repo", "--hash", "sha256", "create-dumpfile", d.string()});
  ASSERT_EQ(r.status, 0) << r.err;
  std::string big = "d5/3b9a6ae28edc9b4a4a8bb7f3ba9e1a5b0ea2d6a02ecae08ef46bdd26bc4f1b";
  auto own = [&](const std::string& rest) { return " " + uid + " " + gid + " " + rest; };
  std::string link_target = "../usr/bin/small";
  std::vector<std::string> expected = {
      "/ 0 40755 4" + own("0 1000.5 - - -"),
      "/etc 0 40755 3" + own("0 1000.5 - - -"),
      "/etc/big2 100 100644 2" + own("0 1000.5 "),  // object path and digest checked below
      "/etc/link 16 120777 1",
      "/etc/sub 0 40755 2" + own("0 1000.5 - - -"),
      "/usr 0 40755 3" + own("0 1000.5 - - -"),
      "/usr/bin 0 40755 2" + own("0 1000.5 - - -"),
      "/usr/bin/big 0 @120000 - - - - 0.0 /etc/big2 - -",
      "/usr/bin/empty 0 100644 1" + own("0 1000.5 - - -"),
      "/usr/bin/small 3 100755 1" + own("0 1000.5 - hi\\n -"),
  };
  std::istringstream in(r.out);
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  ASSERT_EQ(lines.size(), expected.size()) << r.out;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    EXPECT_TRUE(lines[i].starts_with(expected[i])) << lines[i] << "\n  expected: " << expected[i];
  }
  // The external file: "<xx>/<rest> - <hex>", its fs-verity digest (the same as compute-id's).
  std::string object = lines[2].substr(expected[2].size());
  ASSERT_EQ(object.size(), 2 + 1 + 62 + 3 + 64) << object;
  EXPECT_EQ(object.substr(0, 2) + object.substr(3, 62), object.substr(68));
  EXPECT_EQ(object.substr(65, 3), " - ");
  EXPECT_NE(lines[3].find(" ../usr/bin/small - -"), std::string::npos) << lines[3];

  // --bootable: /boot and /sysroot emptied, labelled from the directory's policy.
  bootable_tree(tmp / "boot");
  r = run({tool("cfsctl").string(), "--no-repo", "create-dumpfile", "--bootable",
           (tmp / "boot").string()});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(line_of(r.out, "/boot/vmlinuz"), "");
  EXPECT_NE(line_of(r.out, "/boot").find(" 40755 2 "), std::string::npos) << r.out;
  EXPECT_NE(line_of(r.out, "/usr/bin/tool").find("security.selinux=system_u:object_r:bin_t:s0"),
            std::string::npos)
      << r.out;
  // No repository is needed; anything but a directory is an error.
  r = run({tool("cfsctl").string(), "--no-repo", "create-dumpfile", (tmp / "missing").string()});
  EXPECT_EQ(r.status, 1);
}

// oci pull --bootable --expected-digest (boot.md §3.6): the boot image a UKI names, made by
// another composefs-rs with other defaults, is found by trying allowlist-only then
// keep-user-xattrs, each in EROFS V1 then V2; the first match is stored and named by the
// config. The layer carries a user.* xattr, so the two modes give different images.
TEST(CfsctlBoot, OciPullExpectedDigest) {
  test::TempDir tmp;
  test::TarMember tool_file = test::file("usr/bin/tool", std::string(100, 't'), 1000);
  tool_file.pax["SCHILY.xattr.user.origin"] = "build";
  std::string layer = test::make_tar(
      {test::dir("usr/", 1000), test::dir("usr/bin/", 1000), tool_file, test::dir("boot/", 5),
       test::dir("sysroot/", 6), test::dir("etc/"), test::dir("etc/selinux/"),
       test::file("etc/selinux/config", kConfig), test::dir("etc/selinux/targeted/"),
       test::dir("etc/selinux/targeted/contexts/"), test::dir(kPolicyDir + "/"),
       test::file(kPolicyDir + "/file_contexts", kFileContexts)});
  test::write_layout(tmp / "layout", {{layer}}, "latest");
  std::string source = "oci:" + (tmp / "layout").string() + ":latest";

  // What each combination gives, from a repository that made none of them.
  fs::path ref = tmp / "ref";
  ASSERT_EQ(cfsctl(ref, {"init", "--insecure"}).status, 0);
  ASSERT_EQ(cfsctl(ref, {"oci", "pull", source, "img"}).status, 0);
  std::map<std::string, std::string> id;
  for (const char* mode : {"allowlist-only", "keep-user-xattrs"}) {
    for (const char* version : {"1", "2"}) {
      auto r = cfsctl(ref, {"--erofs-version", version, "oci", "compute-id", "--bootable",
                            "--xattrs", mode, "img"});
      ASSERT_EQ(r.status, 0) << r.err;
      id[std::string(mode) + " V" + version] = r.out.substr(0, r.out.size() - 1);
    }
  }
  ASSERT_EQ(id.size(), 4u);
  for (const auto& [a, x] : id) {
    for (const auto& [b, y] : id) EXPECT_TRUE(a == b || x != y) << a << " = " << b;
  }

  // A V1 repository recovers the keep-user-xattrs V2 image (the last tried).
  fs::path repo = tmp / "repo";
  ASSERT_EQ(cfsctl(repo, {"init", "--insecure"}).status, 0);
  std::string want = id["keep-user-xattrs V2"];
  auto r = cfsctl(repo, {"oci", "pull", "--bootable", "--expected-digest", want, source, "boot"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("tagged   boot\n"), std::string::npos) << r.out;
  EXPECT_NE(
      r.out.find("\nBoot image: " + want + " (xattr-mode=keep-user-xattrs, format-version=V2)\n"),
      std::string::npos)
      << r.out;
  EXPECT_TRUE(fs::exists(repo / "images" / want));
  // Named by the config (under composefs-rs's name for that mode), so gc keeps it and fsck is
  // clean; the default boot image was not made.
  auto inspect = cfsctl(repo, {"oci", "inspect", "boot"});
  ASSERT_EQ(cfsctl(repo, {"gc"}).status, 0);
  EXPECT_TRUE(fs::exists(repo / "images" / want));
  EXPECT_FALSE(fs::exists(repo / "images" / id["allowlist-only V1"]));
  EXPECT_EQ(cfsctl(repo, {"fsck"}).status, 0);
  EXPECT_EQ(cfsctl(repo, {"oci", "fsck"}).status, 0);
  // Again: found among the config's names.
  r = cfsctl(repo, {"oci", "pull", "--bootable", "--expected-digest", want, source, "boot"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("Boot image: " + want + " (xattr-mode=keep-user-xattrs, format-version=V2)"),
            std::string::npos);

  // The first in composefs-rs's order: allowlist-only V1 (also in a V2 repository).
  fs::path repo2 = tmp / "repo2";
  ASSERT_EQ(cfsctl(repo2, {"init", "--insecure", "--erofs-version", "2"}).status, 0);
  r = cfsctl(repo2,
             {"oci", "pull", "--bootable", "--expected-digest", id["allowlist-only V1"], source});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("Boot image: " + id["allowlist-only V1"] +
                       " (xattr-mode=allowlist-only, format-version=V1)"),
            std::string::npos)
      << r.out;

  // No match: one line naming every combination and its ID; the pull and tag stay done.
  std::string other(128, 'a');
  r = cfsctl(repo2, {"oci", "pull", "--bootable", "--expected-digest", other, source, "none"});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.out.find("tagged   none"), std::string::npos) << r.out;
  std::string msg =
      "Error: No boot image configuration matched expected digest " + other +
      " (tried 4 mode/version combinations: xattr-mode=allowlist-only, format-version=V1: " +
      id["allowlist-only V1"] +
      " (cached); xattr-mode=allowlist-only, format-version=V2: " + id["allowlist-only V2"] +
      "; xattr-mode=keep-user-xattrs, format-version=V1: " + id["keep-user-xattrs V1"] +
      "; xattr-mode=keep-user-xattrs, format-version=V2: " + id["keep-user-xattrs V2"] + ")\n";
  EXPECT_EQ(r.err, msg);
  EXPECT_EQ(cfsctl(repo2, {"oci", "inspect", "none"}).status, 0);

  // Checked before anything is pulled: the repository's full-length hex; --bootable required.
  r = cfsctl(repo, {"oci", "pull", "--bootable", "--expected-digest", want.substr(0, 64), source,
                    "early"});
  EXPECT_EQ(r.status, 1);
  EXPECT_TRUE(r.err.starts_with("Error: Parsing --expected-digest\n")) << r.err;
  r = cfsctl(repo, {"oci", "pull", "--bootable", "--expected-digest", "zz" + want.substr(2), source,
                    "early"});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(cfsctl(repo, {"oci", "inspect", "early"}).status, 0) << "nothing pulled";
  r = cfsctl(repo, {"oci", "pull", "--expected-digest", want, source, "early"});
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("requires '--bootable'"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace cfs
