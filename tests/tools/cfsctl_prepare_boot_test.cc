// cfsctl oci prepare-boot and prepare-boot (composefs-rs 0.9's boot entries, boot.md §3.4),
// boot-entries, remove-boot-entry and gc --bootdir: Type 1 entries from /usr/lib/modules and
// from the image's own loader entries, UKIs checked against their .cmdline, two images side by
// side, and hostile entries refused before anything is written. No root needed.
#include <gtest/gtest.h>

#include <cstdint>
#include <sstream>

#include "support/oci_image.h"
#include "support/support.h"

namespace cfs {
namespace {

namespace fs = test::fs;
using test::cfsctl;
using test::run;
using test::tool;

const std::string kKver = "6.1.0-27-amd64";
const std::string kKernel = std::string(5000, 'k') + "vmlinuz";  // an object (over 64 bytes)
const std::string kInitrd = "initramfs";                         // inline in the image

// The files under `dir`, relative ("a/b"), sorted; directories end with '/'.
std::vector<std::string> listing(const fs::path& dir) {
  std::vector<std::string> out;
  if (!fs::exists(dir)) return out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    out.push_back(fs::relative(e.path(), dir).string() + (e.is_directory() ? "/" : ""));
  }
  std::sort(out.begin(), out.end());
  return out;
}

// A root a bootable image can be made of, with a kernel in /usr/lib/modules/<kver>/.
void kernel_tree(const fs::path& d, const std::string& kernel = kKernel, bool initramfs = true) {
  for (const char* sub : {"boot", "sysroot", "etc", "usr/bin"}) fs::create_directories(d / sub);
  fs::path modules = d / "usr" / "lib" / "modules" / kKver;
  fs::create_directories(modules);
  test::write_file(modules / "vmlinuz", kernel);
  if (initramfs) test::write_file(modules / "initramfs.img", kInitrd);
  test::write_file(d / "usr" / "bin" / "tool", std::string(100, 't'));
}

std::string trimmed(std::string s) {
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

// create-image --bootable of `tree`, no name: the image's hex ID.
std::string create_bootable(const fs::path& repo, const fs::path& tree) {
  auto r = cfsctl(repo, {"create-image", "--bootable", tree.string()});
  EXPECT_EQ(r.status, 0) << r.err;
  return trimmed(r.out).substr(7);  // "sha512:"
}

std::string modules_entry(const std::string& id, const std::string& options) {
  return "# File created by composefs\ntitle todoOS\nversion 0-todo\nlinux /" + id +
         "/vmlinuz\ninitrd /" + id + "/initramfs.img\noptions " + options + "\n";
}

// A PE file with these sections (the layout of lib/boot/pe_test.cc).
std::string make_pe(const std::vector<std::pair<std::string, std::string>>& sections) {
  auto put32 = [](std::string& b, std::size_t at, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) b[at + i] = static_cast<char>(v >> (8 * i));
  };
  const std::size_t pe = 0x40, table = pe + 24;
  std::string b(table + 40 * sections.size(), '\0');
  b[0] = 'M';
  b[1] = 'Z';
  put32(b, 0x3c, pe);
  b.replace(pe, 4, std::string("PE\0\0", 4));
  b[pe + 6] = static_cast<char>(sections.size());
  for (std::size_t i = 0; i < sections.size(); ++i) {
    std::size_t h = table + 40 * i;
    b.replace(h, sections[i].first.size(), sections[i].first);
    put32(b, h + 8, static_cast<std::uint32_t>(sections[i].second.size()));
    put32(b, h + 16, static_cast<std::uint32_t>(sections[i].second.size()));
    put32(b, h + 20, static_cast<std::uint32_t>(b.size()));
    b += sections[i].second;
  }
  return b;
}

TEST(CfsctlPrepareBoot, PlainImageType1FromUsrLibModules) {
  test::TempDir tmp;
  kernel_tree(tmp / "tree");
  fs::path repo = tmp / "sysroot" / "composefs", boot = tmp / "boot";
  fs::create_directories(boot);
  ASSERT_EQ(cfsctl(repo, {"init", "--insecure"}).status, 0);
  std::string id = create_bootable(repo, tmp / "tree");
  auto r = cfsctl(repo, {"prepare-boot", id, "--bootdir", boot.string(), "--cmdline", "rw",
                         "--cmdline", "console=ttyS0"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "");
  std::string e = "composefs-1-" + kKver;
  EXPECT_EQ(listing(boot),
            (std::vector<std::string>{e + "/", e + "/initramfs.img", e + "/vmlinuz", "loader/",
                                      "loader/entries/", "loader/entries/" + e + ".conf"}));
  EXPECT_EQ(test::read_file(boot / e / "vmlinuz"), kKernel);
  EXPECT_EQ(test::read_file(boot / e / "initramfs.img"), kInitrd);
  EXPECT_EQ(test::read_file(boot / "loader" / "entries" / (e + ".conf")),
            modules_entry(e, "composefs.digest=?v1-sha512-12:" + id + " rw console=ttyS0"));
  // composefs-setup-root's state, beside the repository.
  fs::path state = tmp / "sysroot" / "state" / "deploy" / id;
  EXPECT_EQ(listing(state), (std::vector<std::string>{"etc/", "etc/upper/", "etc/work/", "var/"}));
  // The same entry by its ref name, with --entry-id: composefs-rs's layout under that ID.
  ASSERT_EQ(cfsctl(repo, {"create-image", "--bootable", (tmp / "tree").string(), "os"}).status, 0);
  r = cfsctl(repo, {"prepare-boot", "os", "--bootdir", boot.string(), "--entry-id", "example"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(test::read_file(boot / "loader" / "entries" / "example.conf"),
            modules_entry("example", "composefs.digest=?v1-sha512-12:" + id));
  EXPECT_EQ(test::read_file(boot / "example" / "vmlinuz"), kKernel);
}

// The karg's form follows the repository's EROFS versions: V1 only gives composefs.digest=v1-…,
// V2 composefs=…; '?' marks an insecure repository; a SHA-256 repository names its hash.
TEST(CfsctlPrepareBoot, KargForms) {
  test::TempDir tmp;
  kernel_tree(tmp / "tree");
  struct Case {
    std::vector<std::string> init;
    std::string prefix;
  } cases[] = {
      {{"--erofs-version", "1"}, "composefs.digest=?v1-sha512-12:"},
      {{"--erofs-version", "2"}, "composefs=?"},
      {{"--algorithm", "fsverity-sha256-12"}, "composefs.digest=?v1-sha256-12:"},
      {{"--algorithm", "fsverity-sha256-12", "--erofs-version", "2"}, "composefs=?"},
  };
  int n = 0;
  for (const Case& c : cases) {
    fs::path repo = tmp / ("repo" + std::to_string(++n)), boot = tmp / ("boot" + std::to_string(n));
    fs::create_directories(boot);
    std::vector<std::string> init = {"init", "--insecure"};
    init.insert(init.end(), c.init.begin(), c.init.end());
    ASSERT_EQ(cfsctl(repo, init).status, 0);
    auto created = cfsctl(repo, {"create-image", "--bootable", (tmp / "tree").string()});
    std::string id = trimmed(created.out).substr(created.out.find(':') + 1);
    auto r = cfsctl(repo, {"prepare-boot", id, "--bootdir", boot.string(), "--entry-id", "e"});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(test::read_file(boot / "loader" / "entries" / "e.conf"),
              modules_entry("e", c.prefix + id))
        << c.prefix;
  }
}

// Two images: two entries, the newest first (systemd-boot's default); gc --bootdir keeps every
// image an entry names; removing the newest entry falls back to the first and lets gc drop its
// image.
TEST(CfsctlPrepareBoot, SwitchRollbackAndGc) {
  test::TempDir tmp;
  kernel_tree(tmp / "one");
  kernel_tree(tmp / "two", std::string(6000, '2'));
  fs::path repo = tmp / "repo", boot = tmp / "boot";
  fs::create_directories(boot);
  ASSERT_EQ(cfsctl(repo, {"init", "--insecure"}).status, 0);
  std::string one = create_bootable(repo, tmp / "one"), two = create_bootable(repo, tmp / "two");
  ASSERT_NE(one, two);
  ASSERT_EQ(cfsctl(repo, {"prepare-boot", one, "--bootdir", boot.string()}).status, 0);
  ASSERT_EQ(cfsctl(repo, {"prepare-boot", two, "--bootdir", boot.string()}).status, 0);
  std::string e1 = "composefs-1-" + kKver, e2 = "composefs-2-" + kKver;
  EXPECT_EQ(test::read_file(boot / e1 / "vmlinuz"), kKernel);
  EXPECT_EQ(test::read_file(boot / e2 / "vmlinuz"), std::string(6000, '2'));
  auto list =
      run({tool("cfsctl").string(), "boot-entries", "--bootdir", boot.string(), "--no-trunc"});
  ASSERT_EQ(list.status, 0) << list.err;
  std::size_t at2 = list.out.find(e2), at1 = list.out.find(e1);
  ASSERT_NE(at2, std::string::npos) << list.out;
  EXPECT_LT(at2, at1) << "newest first:\n" << list.out;
  EXPECT_NE(list.out.find(two), std::string::npos) << list.out;
  EXPECT_NE(list.out.find("/" + e1 + "/vmlinuz"), std::string::npos) << list.out;

  // No ref names either image: only the entries keep them.
  auto gc = cfsctl(repo, {"gc", "--bootdir", boot.string()});
  ASSERT_EQ(gc.status, 0) << gc.err;
  EXPECT_TRUE(fs::exists(repo / "images" / one));
  EXPECT_TRUE(fs::exists(repo / "images" / two));
  EXPECT_EQ(cfsctl(repo, {"fsck"}).status, 0);

  auto rm = run({tool("cfsctl").string(), "remove-boot-entry", "--bootdir", boot.string(), e2});
  ASSERT_EQ(rm.status, 0) << rm.err;
  EXPECT_NE(rm.out.find("loader/entries/" + e2 + ".conf"), std::string::npos) << rm.out;
  EXPECT_EQ(listing(boot),
            (std::vector<std::string>{e1 + "/", e1 + "/initramfs.img", e1 + "/vmlinuz", "loader/",
                                      "loader/entries/", "loader/entries/" + e1 + ".conf"}));
  gc = cfsctl(repo, {"gc", "--bootdir", boot.string()});
  ASSERT_EQ(gc.status, 0) << gc.err;
  EXPECT_TRUE(fs::exists(repo / "images" / one));
  EXPECT_FALSE(fs::exists(repo / "images" / two));
  // The next entry still sorts above every earlier one.
  ASSERT_EQ(cfsctl(repo, {"prepare-boot", one, "--bootdir", boot.string()}).status, 0);
  EXPECT_TRUE(fs::exists(boot / "loader" / "entries" / ("composefs-2-" + kKver + ".conf")));
  rm = run({tool("cfsctl").string(), "remove-boot-entry", "--bootdir", boot.string(), "nonesuch"});
  EXPECT_EQ(rm.status, 1);
  EXPECT_NE(rm.err.find("no boot entry nonesuch in"), std::string::npos) << rm.err;
  // Without --bootdir nothing keeps the images.
  ASSERT_EQ(cfsctl(repo, {"gc"}).status, 0);
  EXPECT_FALSE(fs::exists(repo / "images" / one));
}

TEST(CfsctlPrepareBoot, PlainImageErrorsWriteNothing) {
  test::TempDir tmp;
  fs::path repo = tmp / "repo", boot = tmp / "boot";
  fs::create_directories(boot);
  ASSERT_EQ(cfsctl(repo, {"init", "--insecure"}).status, 0);
  auto fails = [&](const std::string& name, const std::string& message,
                   std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"prepare-boot", name, "--bootdir", boot.string()};
    args.insert(args.end(), extra.begin(), extra.end());
    auto r = cfsctl(repo, args);
    EXPECT_EQ(r.status, 1) << name;
    EXPECT_EQ(r.err, "Error: " + message + "\n") << name;
    EXPECT_EQ(listing(boot), std::vector<std::string>{}) << name;
    EXPECT_FALSE(fs::exists(tmp / "state")) << name;
  };
  // No kernel at all.
  kernel_tree(tmp / "none");
  fs::remove_all(tmp / "none" / "usr" / "lib" / "modules");
  fails(create_bootable(repo, tmp / "none"),
        "No boot entries! (no /boot/loader/entries/*.conf, no *.efi UKI, no "
        "/usr/lib/modules/<kver>/vmlinuz in "
        "the image)");
  // A kernel without initramfs.img.
  kernel_tree(tmp / "noinitrd", kKernel, false);
  fails(create_bootable(repo, tmp / "noinitrd"),
        "kernel " + kKver + " has no initramfs.img in /usr/lib/modules/" + kKver);
  // Not made with --bootable.
  kernel_tree(tmp / "plain");
  test::write_file(tmp / "plain" / "boot" / "vmlinuz", "x");
  ASSERT_EQ(cfsctl(repo, {"create-image", (tmp / "plain").string(), "plain"}).status, 0);
  fails("plain",
        "image plain was not made with --bootable (its /boot and /sysroot are not empty "
        "directories)");
  // A bad entry ID; no boot directory.
  kernel_tree(tmp / "ok");
  std::string ok = create_bootable(repo, tmp / "ok");
  fails(ok, "invalid boot entry ID '../x': it contains '/'", {"--entry-id", "../x"});
  auto r = cfsctl(repo, {"prepare-boot", ok, "--bootdir", (tmp / "missing").string()});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "Error: boot directory " + (tmp / "missing").string() +
                       ": No such file or directory\n");
}

// An OCI layout (tag latest) of a bootable root whose /boot holds `boot_members`.
std::string layout(const fs::path& dir, const std::vector<test::TarMember>& boot_members,
                   bool kernel = true) {
  std::vector<test::TarMember> m = {test::dir("usr/", 1000),
                                    test::dir("usr/bin/", 1000),
                                    test::file("usr/bin/tool", std::string(100, 't'), 1000),
                                    test::dir("boot/", 5),
                                    test::dir("sysroot/", 6),
                                    test::dir("etc/")};
  if (kernel) {
    for (const char* d : {"usr/lib/", "usr/lib/modules/"}) m.push_back(test::dir(d));
    m.push_back(test::dir("usr/lib/modules/" + kKver + "/"));
    m.push_back(test::file("usr/lib/modules/" + kKver + "/vmlinuz", kKernel));
    m.push_back(test::file("usr/lib/modules/" + kKver + "/initramfs.img", kInitrd));
  }
  m.insert(m.end(), boot_members.begin(), boot_members.end());
  test::write_layout(dir, {{test::make_tar(m)}}, "latest");
  return "oci:" + dir.string() + ":latest";
}

// oci prepare-boot as composefs-rs's examples/bls/build runs it: the boot image stored and named
// by the config (gc keeps it while tagged), the entry of /usr/lib/modules under --entry-id.
TEST(CfsctlPrepareBoot, OciType1FromUsrLibModules) {
  test::TempDir tmp;
  fs::path repo = tmp / "repo", boot = tmp / "efi";
  fs::create_directories(boot);
  ASSERT_EQ(cfsctl(repo, {"init", "--insecure"}).status, 0);
  ASSERT_EQ(cfsctl(repo, {"oci", "pull", layout(tmp / "l", {}), "os"}).status, 0);
  std::string id = trimmed(cfsctl(repo, {"oci", "compute-id", "--bootable", "os"}).out);
  auto r = cfsctl(repo, {"oci", "prepare-boot", "os", "--bootdir", boot.string(),
                         "--entry-id=example", "--cmdline", "rw"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(test::read_file(boot / "loader" / "entries" / "example.conf"),
            modules_entry("example", "composefs.digest=?v1-sha512-12:" + id + " rw"));
  EXPECT_EQ(test::read_file(boot / "example" / "vmlinuz"), kKernel);
  EXPECT_EQ(test::read_file(boot / "example" / "initramfs.img"), kInitrd);
  EXPECT_TRUE(fs::is_directory(tmp / "state" / "deploy" / id / "etc" / "upper"));
  auto inspect = cfsctl(repo, {"oci", "inspect", "os"});
  EXPECT_NE(inspect.out.find("\"composefs_boot_erofs\": \"" + id + "\""), std::string::npos)
      << inspect.out;
  ASSERT_EQ(cfsctl(repo, {"gc"}).status, 0);
  EXPECT_TRUE(fs::exists(repo / "images" / id));
  EXPECT_EQ(cfsctl(repo, {"oci", "fsck"}).status, 0);
  // Untagged, the entry alone keeps the image (gc --bootdir).
  ASSERT_EQ(cfsctl(repo, {"oci", "untag", "os"}).status, 0);
  ASSERT_EQ(cfsctl(repo, {"gc", "--bootdir", boot.string()}).status, 0);
  EXPECT_TRUE(fs::exists(repo / "images" / id));
  ASSERT_EQ(
      run({tool("cfsctl").string(), "remove-boot-entry", "--bootdir", boot.string(), "example"})
          .status,
      0);
  ASSERT_EQ(cfsctl(repo, {"gc", "--bootdir", boot.string()}).status, 0);
  EXPECT_FALSE(fs::exists(repo / "images" / id));
}

// The image's own /boot/loader/entries/*.conf (paths from the image's root, as composefs-rs
// looks them up) comes first; relocated under the entry ID, its options kept, the karg added.
TEST(CfsctlPrepareBoot, OciType1FromLoaderEntries) {
  test::TempDir tmp;
  std::string conf =
      "title Debian\nversion 12\nlinux /boot/vmlinuz-x\ninitrd /boot/initrd.img-x\noptions quiet "
      "composefs=old\n";
  std::string source =
      layout(tmp / "l", {test::dir("boot/loader/"), test::dir("boot/loader/entries/"),
                         test::file("boot/loader/entries/debian.conf", conf),
                         test::file("boot/vmlinuz-x", std::string(300, 'v')),
                         test::file("boot/initrd.img-x", "initrd")});
  fs::path repo = tmp / "repo", boot = tmp / "efi";
  fs::create_directories(boot);
  ASSERT_EQ(cfsctl(repo, {"init", "--insecure", "--erofs-version", "2"}).status, 0);
  ASSERT_EQ(cfsctl(repo, {"oci", "pull", source, "os"}).status, 0);
  std::string id = trimmed(cfsctl(repo, {"oci", "compute-id", "--bootable", "os"}).out);
  auto r = cfsctl(repo, {"oci", "prepare-boot", "os", "--bootdir", boot.string()});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(test::read_file(boot / "loader" / "entries" / "composefs-1-debian.conf"),
            "title Debian\nversion 12\nlinux /composefs-1-debian/vmlinuz-x\ninitrd "
            "/composefs-1-debian/initrd.img-x\noptions quiet composefs=?" +
                id + "\n");
  EXPECT_EQ(test::read_file(boot / "composefs-1-debian" / "vmlinuz-x"), std::string(300, 'v'));
  EXPECT_EQ(test::read_file(boot / "composefs-1-debian" / "initrd.img-x"), "initrd");
}

TEST(CfsctlPrepareBoot, OciHostileLoaderEntriesWriteNothing) {
  test::TempDir tmp;
  struct Case {
    std::string conf;
    std::string error;
  } cases[] = {
      {"linux ../../etc/shadow\n",
       "/boot/loader/entries/evil.conf: linux ../../etc/shadow is not an absolute path without . "
       "or .. components"},
      {"linux /boot/../../etc/shadow\n",
       "/boot/loader/entries/evil.conf: linux /boot/../../etc/shadow is not an "
       "absolute path without . or .. components"},
      {"linux /boot/vmlinuz\ninitrd /etc/missing\n",
       "/boot/loader/entries/evil.conf: initrd /etc/missing is not a regular file of the image"},
  };
  int n = 0;
  for (const Case& c : cases) {
    fs::path dir = tmp / std::to_string(++n);
    std::string source =
        layout(dir / "l", {test::dir("boot/loader/"), test::dir("boot/loader/entries/"),
                           test::file("boot/loader/entries/evil.conf", c.conf),
                           test::file("boot/vmlinuz", "v")});
    fs::path repo = dir / "repo", boot = dir / "efi";
    fs::create_directories(boot);
    ASSERT_EQ(cfsctl(repo, {"init", "--insecure"}).status, 0);
    ASSERT_EQ(cfsctl(repo, {"oci", "pull", source, "os"}).status, 0);
    auto r = cfsctl(repo, {"oci", "prepare-boot", "os", "--bootdir", boot.string()});
    EXPECT_EQ(r.status, 1);
    EXPECT_EQ(r.err, "Error: " + c.error + "\n");
    EXPECT_EQ(listing(boot), std::vector<std::string>{});
    EXPECT_FALSE(fs::exists(dir / "state"));
  }
}

// A UKI in /boot/EFI/Linux is copied only when its own .cmdline names the boot image; the
// transform empties /boot, so the UKI does not change the ID it must carry.
TEST(CfsctlPrepareBoot, OciUki) {
  test::TempDir tmp;
  fs::path repo = tmp / "repo";
  ASSERT_EQ(cfsctl(repo, {"init", "--insecure"}).status, 0);
  ASSERT_EQ(cfsctl(repo, {"oci", "pull", layout(tmp / "plain", {}, false), "plain"}).status, 0);
  std::string id = trimmed(cfsctl(repo, {"oci", "compute-id", "--bootable", "plain"}).out);
  auto uki_image = [&](const std::string& name, const std::string& uki) {
    ASSERT_EQ(cfsctl(repo, {"oci", "pull",
                            layout(tmp / name,
                                   {test::dir("boot/EFI/"), test::dir("boot/EFI/Linux/"),
                                    test::file("boot/EFI/Linux/debian.efi", uki)},
                                   false),
                            name})
                  .status,
              0);
  };
  auto prepare = [&](const std::string& name, const fs::path& boot,
                     std::vector<std::string> extra = {}) {
    fs::create_directories(boot);
    std::vector<std::string> args = {"oci", "prepare-boot", name, "--bootdir", boot.string()};
    args.insert(args.end(), extra.begin(), extra.end());
    return cfsctl(repo, args);
  };
  std::string good = make_pe(
      {{".osrel", "ID=debian\n"}, {".cmdline", "composefs.digest=v1-sha512-12:" + id + " rw"}});
  uki_image("good", good);
  auto r = prepare("good", tmp / "b1");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(listing(tmp / "b1"),
            (std::vector<std::string>{"EFI/", "EFI/Linux/", "EFI/Linux/composefs-1-debian.efi"}));
  EXPECT_EQ(test::read_file(tmp / "b1" / "EFI" / "Linux" / "composefs-1-debian.efi"), good);
  auto list = run({tool("cfsctl").string(), "boot-entries", "--bootdir", (tmp / "b1").string()});
  EXPECT_NE(list.out.find("composefs-1-debian"), std::string::npos) << list.out;
  EXPECT_NE(list.out.find(id.substr(0, 12)), std::string::npos) << list.out;
  ASSERT_EQ(cfsctl(repo, {"oci", "untag", "good"}).status, 0);
  ASSERT_EQ(cfsctl(repo, {"oci", "untag", "plain"}).status, 0);
  ASSERT_EQ(cfsctl(repo, {"gc", "--bootdir", (tmp / "b1").string()}).status, 0);
  EXPECT_TRUE(fs::exists(repo / "images" / id)) << "the UKI's karg is a gc root";

  uki_image("good", good);  // tagged again (untagged above)
  r = prepare("good", tmp / "b2", {"--cmdline", "rw"});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "Error: Can't add --cmdline args to UKIs\n");
  std::string other(128, 'a');
  uki_image("wrong", make_pe({{".cmdline", "composefs.digest=v1-sha512-12:" + other}}));
  r = prepare("wrong", tmp / "b3");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err,
            "Error: /boot/EFI/Linux/debian.efi: The UKI has the wrong composefs digest (is '" +
                other + "', should be one of [" + id + "])\n");
  uki_image("nokarg", make_pe({{".cmdline", "quiet"}}));
  r = prepare("nokarg", tmp / "b4");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("UKI .cmdline has no composefs karg"), std::string::npos) << r.err;
  uki_image("truncated", good.substr(0, 100));
  r = prepare("truncated", tmp / "b5");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(
      r.err,
      "Error: /boot/EFI/Linux/debian.efi: not a PE file: the section table runs past the end\n");
  for (const char* b : {"b2", "b3", "b4", "b5"})
    EXPECT_EQ(listing(tmp / b), std::vector<std::string>{}) << b;
  // A UKI in the boot directory that cannot be read stops gc before it removes anything.
  test::write_file(tmp / "b1" / "EFI" / "Linux" / "broken.efi", "MZ");
  r = cfsctl(repo, {"gc", "--bootdir", (tmp / "b1").string()});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("EFI/Linux/broken.efi cannot be read (nothing removed): not a PE file"),
            std::string::npos)
      << r.err;
}

}  // namespace
}  // namespace cfs
