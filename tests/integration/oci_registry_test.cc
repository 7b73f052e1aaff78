// cfsctl oci pull from a real registry: Debian's docker-registry started here, images made by
// umoci from files of this machine and pushed by skopeo. What is mounted must equal what umoci
// unpacks, after composefs-rs's documented rules (root from /usr, /run emptied, only
// security.capability kept); shared layers are fetched once and stored once.
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <fstream>
#include <regex>
#include <set>

#include "support/fs_compare.h"
#include "support/oci_image.h"
#include "support/registry.h"
#include "support/support.h"

namespace cfs {
namespace {

namespace fs = test::fs;
using test::run;
using test::tool;

#define CFS_REQUIRE_REGISTRY() \
  CFS_REQUIRE(test::LocalRegistry::available(), "docker-registry, skopeo, umoci or htpasswd is not installed")

void must(const test::Run& r, const std::string& what) {
  ASSERT_EQ(r.status, 0) << what << ": " << r.out << r.err;
}

// A tree from this machine's files: zoneinfo (symlinks, hard links), a capability, a user
// xattr (dropped by the rules), an empty file, /run content (emptied by the rules).
void machine_tree(const fs::path& root) {
  fs::create_directories(root / "usr" / "share");
  must(run({"cp", "-a", "/usr/share/zoneinfo", (root / "usr" / "share").string()}), "cp zoneinfo");
  fs::create_directories(root / "usr" / "bin");
  must(run({"cp", "-a", "/usr/bin/ls", "/usr/bin/cat", (root / "usr" / "bin").string()}), "cp bin");
  must(run({"setcap", "cap_net_raw+ep", (root / "usr" / "bin" / "cat").string()}), "setcap");
  ::setxattr((root / "usr" / "bin" / "ls").c_str(), "user.note", "x", 1, 0);
  fs::create_hard_link(root / "usr" / "bin" / "ls", root / "usr" / "bin" / "dir");
  fs::create_directories(root / "etc");
  test::write_file(root / "etc" / "hostname", "composefs\n");
  test::write_file(root / "etc" / "empty", "");
  fs::create_directories(root / "run" / "lock");
  test::write_file(root / "run" / "lock" / "junk", "junk");
}

// umoci's unpacked rootfs turned into what composefs-rs's rules make of the same image.
void apply_rules(const fs::path& rootfs) {
  struct stat usr {};
  ASSERT_EQ(::lstat((rootfs / "usr").c_str(), &usr), 0);
  for (const auto& e : fs::directory_iterator(rootfs / "run")) fs::remove_all(e.path());
  struct timespec t[2] = {usr.st_mtim, usr.st_mtim};
  ::utimensat(AT_FDCWD, (rootfs / "run").c_str(), t, AT_SYMLINK_NOFOLLOW);
  ::chmod(rootfs.c_str(), usr.st_mode & 07777);
  ::lchown(rootfs.c_str(), usr.st_uid, usr.st_gid);
  ::utimensat(AT_FDCWD, rootfs.c_str(), t, AT_SYMLINK_NOFOLLOW);
  std::vector<fs::path> all{rootfs};
  for (const auto& e : fs::recursive_directory_iterator(rootfs)) all.push_back(e.path());
  for (const fs::path& p : all) {
    for (const auto& [name, value] : test::xattrs_of(p.string())) {
      if (name != "security.capability") ::lremovexattr(p.c_str(), name.c_str());
    }
  }
}

struct Images {
  fs::path layout;
};

// L:base from the machine tree; L:derived = base + a layer that removes files and adds one.
Images make_images(const fs::path& tmp) {
  Images i{tmp / "layout"};
  must(run({"umoci", "init", "--layout", i.layout.string()}), "umoci init");
  must(run({"umoci", "new", "--image", i.layout.string() + ":base"}), "umoci new");
  must(run({"umoci", "unpack", "--image", i.layout.string() + ":base", (tmp / "b1").string()}), "umoci unpack");
  machine_tree(tmp / "b1" / "rootfs");
  must(run({"umoci", "repack", "--image", i.layout.string() + ":base", (tmp / "b1").string()}), "umoci repack");
  must(run({"umoci", "unpack", "--image", i.layout.string() + ":base", (tmp / "b2").string()}), "umoci unpack base");
  fs::remove_all(tmp / "b2" / "rootfs" / "usr" / "share" / "zoneinfo" / "Europe");
  fs::remove(tmp / "b2" / "rootfs" / "etc" / "hostname");
  test::write_file(tmp / "b2" / "rootfs" / "etc" / "derived", std::string(10000, 'd'));
  must(run({"umoci", "repack", "--image", i.layout.string() + ":derived", (tmp / "b2").string()}), "umoci repack derived");
  return i;
}

std::set<std::string> objects(const fs::path& repo) {
  std::set<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(repo / "objects")) {
    if (e.is_regular_file()) out.insert(e.path().string());
  }
  return out;
}

TEST(OciRegistry, PullMountsWhatUmociUnpacksAndSharesLayers) {
  CFS_REQUIRE_REGISTRY();
  CFS_REQUIRE_MOUNTS();
  test::TempDir tmp;
  Images img = make_images(tmp.path());
  test::LocalRegistry registry(tmp / "registry", "tester", "s3cret");
  for (std::string tag : {"base", "derived"}) {
    must(run({"skopeo", "copy", "--quiet", "--dest-tls-verify=false", "--dest-creds", "tester:s3cret",
              "oci:" + img.layout.string() + ":" + tag, "docker://" + registry.host() + "/test/img:" + tag}),
         "skopeo copy " + tag);
  }
  test::write_file(tmp / "auth.json", "{\"auths\":{\"" + registry.host() + "\":{\"auth\":\"dGVzdGVyOnMzY3JldA==\"}}}");
  std::vector<std::string> env = {"CONTAINERS_REGISTRIES_CONF=" + registry.registries_conf().string(),
                                  "REGISTRY_AUTH_FILE=" + (tmp / "auth.json").string()};
  fs::path repo = tmp / "repo";
  auto cfsctl = [&](std::vector<std::string> args, std::vector<std::string> e = {}) {
    args.insert(args.begin(), {tool("cfsctl").string(), "--repo", repo.string()});
    if (e.empty()) e = env;
    return run(args, "", e);
  };
  must(cfsctl({"init", "--insecure"}), "init");
  std::string base_ref = "docker://" + registry.host() + "/test/img:base";
  // Without credentials, and with wrong ones: a clear refusal, nothing stored under a tag.
  auto r = cfsctl({"oci", "pull", base_ref, "base"}, {"CONTAINERS_REGISTRIES_CONF=" + registry.registries_conf().string(),
                                                      "REGISTRY_AUTH_FILE=/nonexistent", "HOME=/nonexistent"});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("the registry wants credentials"), std::string::npos) << r.err;
  r = cfsctl({"oci", "pull", "--creds", "tester:wrong", base_ref, "base"});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("HTTP 401"), std::string::npos) << r.err;
  // Plain HTTP only when registries.conf says so.
  r = cfsctl({"oci", "pull", base_ref, "base"}, {"CONTAINERS_REGISTRIES_CONF=/nonexistent", "REGISTRY_AUTH_FILE=" + (tmp / "auth.json").string()});
  EXPECT_EQ(r.status, 1);
  EXPECT_FALSE(fs::exists(repo / "streams" / "refs" / "oci" / "base"));

  r = cfsctl({"oci", "pull", base_ref, "base"});
  ASSERT_EQ(r.status, 0) << r.err;
  std::set<std::string> after_base = objects(repo);
  must(run({"umoci", "unpack", "--image", img.layout.string() + ":base", (tmp / "ref").string()}), "umoci unpack ref");
  apply_rules(tmp / "ref" / "rootfs");
  fs::create_directories(tmp / "mnt");
  must(cfsctl({"oci", "mount", "base", (tmp / "mnt").string()}), "oci mount");
  int compared = test::compare_trees(tmp / "ref" / "rootfs", tmp / "mnt", true);
  EXPECT_GT(compared, 500);
  struct stat a {}, b {};
  ::lstat((tmp / "ref" / "rootfs").c_str(), &a);
  ::lstat((tmp / "mnt").c_str(), &b);
  EXPECT_EQ(a.st_mode, b.st_mode);
  EXPECT_EQ(a.st_mtim.tv_sec, b.st_mtim.tv_sec);
  EXPECT_EQ(test::xattrs_of((tmp / "mnt" / "usr" / "bin" / "cat").string()).count("security.capability"), 1U);
  ::umount2((tmp / "mnt").c_str(), MNT_DETACH);

  // The derived image: only its new layer is fetched, only its new file is stored.
  std::string log_before = registry.log();
  r = cfsctl({"oci", "pull", "docker://" + registry.host() + "/test/img:derived", "derived"});
  ASSERT_EQ(r.status, 0) << r.err;
  std::string log = registry.log().substr(log_before.size());
  std::regex blob_get(R"re("GET /v2/test/img/blobs/sha256:[0-9a-f]{64} HTTP[^"]*" 200)re");
  auto gets = std::distance(std::sregex_iterator(log.begin(), log.end(), blob_get), std::sregex_iterator());
  EXPECT_EQ(gets, 2) << "the config and the one new layer: " << log;
  EXPECT_NE(r.out.find("objects  1 new + 0 already present objects"), std::string::npos) << r.out;
  must(run({"umoci", "unpack", "--image", img.layout.string() + ":derived", (tmp / "ref2").string()}), "umoci unpack derived");
  apply_rules(tmp / "ref2" / "rootfs");
  must(cfsctl({"oci", "mount", "derived", (tmp / "mnt").string()}), "oci mount derived");
  EXPECT_GT(test::compare_trees(tmp / "ref2" / "rootfs", tmp / "mnt", true), 100);
  EXPECT_FALSE(fs::exists(tmp / "mnt" / "usr" / "share" / "zoneinfo" / "Europe"));
  ::umount2((tmp / "mnt").c_str(), MNT_DETACH);

  // untag + gc removes what only derived used, nothing else.
  std::set<std::string> with_both = objects(repo);
  must(cfsctl({"oci", "untag", "derived"}), "untag");
  must(cfsctl({"gc"}), "gc");
  std::set<std::string> after_gc = objects(repo);
  for (const std::string& o : after_base) EXPECT_TRUE(after_gc.count(o)) << "base's object removed: " << o;
  EXPECT_LT(after_gc.size(), with_both.size());
  must(cfsctl({"oci", "fsck"}), "oci fsck");
  must(cfsctl({"oci", "mount", "base", (tmp / "mnt").string()}), "mount after gc");
  EXPECT_EQ(test::compare_trees(tmp / "ref" / "rootfs", tmp / "mnt", true), compared);
  ::umount2((tmp / "mnt").c_str(), MNT_DETACH);

  // Docker schema 2 (skopeo converts on push): Docker media types, the same image ID.
  must(run({"skopeo", "copy", "--quiet", "--format", "v2s2", "--dest-tls-verify=false", "--dest-creds", "tester:s3cret",
            "oci:" + img.layout.string() + ":base", "docker://" + registry.host() + "/test/docker:base"}),
       "skopeo copy v2s2");
  r = cfsctl({"oci", "pull", "docker://" + registry.host() + "/test/docker:base", "docker"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(cfsctl({"oci", "inspect", "--manifest", "docker"}).out.find("application/vnd.docker.distribution.manifest.v2+json"),
            std::string::npos);
  EXPECT_EQ(cfsctl({"oci", "compute-id", "docker"}).out, cfsctl({"oci", "compute-id", "base"}).out);

  // The same image from a docker archive and from the layout: the same image ID.
  must(run({"skopeo", "copy", "--quiet", "oci:" + img.layout.string() + ":base", "docker-archive:" + (tmp / "a.tar").string() + ":test/img:base"}),
       "skopeo docker-archive");
  std::string id = cfsctl({"oci", "compute-id", "base"}).out;
  fs::path other = tmp / "other";
  must(run({tool("cfsctl").string(), "--repo", other.string(), "init", "--insecure"}), "init other");
  must(run({tool("cfsctl").string(), "--repo", other.string(), "oci", "pull", "docker-archive:" + (tmp / "a.tar").string(), "a"}), "pull archive");
  must(run({tool("cfsctl").string(), "--repo", other.string(), "oci", "pull", "oci:" + img.layout.string() + ":base", "l"}), "pull layout");
  EXPECT_EQ(run({tool("cfsctl").string(), "--repo", other.string(), "oci", "compute-id", "a"}).out, id);
  EXPECT_EQ(run({tool("cfsctl").string(), "--repo", other.string(), "oci", "compute-id", "l"}).out, id);
}

}  // namespace
}  // namespace cfs
