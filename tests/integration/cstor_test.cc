// cfsctl oci pull containers-storage: against real podman: an image pushed to a local
// docker-registry, `podman pull`ed (root) into a storage this test owns (--root/--runroot in a
// temporary directory), then pulled by cfsctl from there. It must give what `docker://` gives
// (manifest, image ID, tree), take podman's files by hard link on ext4 and by reflink on an XFS
// loop filesystem (no bytes copied), refuse zerocopy where neither works, and change nothing
// in the storage. Also oci-archive: and dir: (made by skopeo) against the layout.
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include "support/oci_image.h"
#include "support/registry.h"
#include "support/support.h"

namespace cfs {
namespace {

namespace fs = test::fs;
using test::run;
using test::tool;

void must(const test::Run& r, const std::string& what) {
  ASSERT_EQ(r.status, 0) << what << ": " << r.out << r.err;
}

bool have(const std::string& program) {
  return run({"sh", "-c", "command -v " + program}).status == 0;
}

// layout:base (zoneinfo: symlinks and hard links; a setuid file; a large file) and
// layout:derived (base + whiteouts of a directory and a file, a new file, a hard link to a
// file of the base layer), made by umoci.
fs::path make_layout(const fs::path& tmp) {
  fs::path layout = tmp / "layout";
  must(run({"umoci", "init", "--layout", layout.string()}), "umoci init");
  must(run({"umoci", "new", "--image", layout.string() + ":base"}), "umoci new");
  must(run({"umoci", "unpack", "--image", layout.string() + ":base", (tmp / "b1").string()}),
       "umoci unpack");
  fs::path r1 = tmp / "b1" / "rootfs";
  fs::create_directories(r1 / "usr" / "share");
  fs::create_directories(r1 / "usr" / "bin");
  must(run({"cp", "-a", "/usr/share/zoneinfo", (r1 / "usr" / "share").string()}), "cp zoneinfo");
  must(run({"cp", "-a", "/usr/bin/ls", "/usr/bin/cat", (r1 / "usr" / "bin").string()}), "cp bin");
  ::chmod((r1 / "usr" / "bin" / "cat").c_str(), 04755);
  fs::create_directories(r1 / "etc");
  test::write_file(r1 / "etc" / "hostname", "composefs\n");
  test::write_file(r1 / "etc" / "F\xc5\x91tan\xc3\xbas\xc3\xadtv\xc3\xa1ny.crt",
                   std::string(200, 'c'));  // messages escape it
  test::write_file(r1 / "usr" / "big", std::string(3 << 20, 'b') + "end");
  must(run({"umoci", "repack", "--image", layout.string() + ":base", (tmp / "b1").string()}),
       "umoci repack");
  must(run({"umoci", "unpack", "--image", layout.string() + ":base", (tmp / "b2").string()}),
       "umoci unpack base");
  fs::path r2 = tmp / "b2" / "rootfs";
  fs::remove_all(r2 / "usr" / "share" / "zoneinfo" / "Europe");
  fs::remove(r2 / "etc" / "hostname");
  test::write_file(r2 / "etc" / "derived", std::string(10000, 'd'));
  fs::create_hard_link(r2 / "usr" / "bin" / "ls", r2 / "usr" / "bin" / "ls-again");
  must(run({"umoci", "repack", "--image", layout.string() + ":derived", (tmp / "b2").string()}),
       "umoci repack derived");
  return layout;
}

// A storage.conf for a storage of the test's own (podman wants the driver and runroot said).
std::string storage_conf(const fs::path& root, const fs::path& run_root) {
  return "[storage]\ndriver = \"overlay\"\ngraphroot = \"" + root.string() + "\"\nrunroot = \"" +
         run_root.string() + "\"\n";
}

// podman with a storage of its own.
struct Podman {
  fs::path root, run_root;
  std::vector<std::string> env;
  test::Run operator()(std::vector<std::string> args) const {
    std::vector<std::string> argv = {"podman",
                                     "--root",
                                     root.string(),
                                     "--runroot",
                                     run_root.string(),
                                     "--tmpdir",
                                     (run_root / "libpod").string(),
                                     "--storage-driver",
                                     "overlay",
                                     "--cgroup-manager",
                                     "cgroupfs",
                                     "--events-backend",
                                     "file"};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv, "", env);
  }
  std::string ref(const std::string& name) const {
    return "containers-storage:[overlay@" + root.string() + "+" + run_root.string() + "]" + name;
  }
};

// Everything about the storage's files but link counts and ctimes (which a hard link changes).
std::string snapshot(const fs::path& root) {
  return run({"sh", "-c",
              "cd '" + root.string() +
                  "' && find . -printf '%P %y %m %s %T@ %l\\n' | sort && "
                  "find . -type f -print0 | sort -z | xargs -0 sha256sum"})
      .out;
}

std::set<ino_t> inodes_under(const fs::path& dir) {
  std::set<ino_t> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    struct stat st {};
    if (e.is_regular_file() && ::lstat(e.path().c_str(), &st) == 0) out.insert(st.st_ino);
  }
  return out;
}

// The inodes of `path` in the diff/ directories of the layers that hold it (a file a later
// layer changes, or re-adds, is in several).
std::set<ino_t> podman_inodes(const fs::path& root, const std::string& path) {
  std::set<ino_t> out;
  for (const auto& e : fs::directory_iterator(root / "overlay")) {
    struct stat st {};
    if (::lstat((e.path() / "diff" / path).c_str(), &st) == 0 && S_ISREG(st.st_mode))
      out.insert(st.st_ino);
  }
  return out;
}

// Whether some inode of `path` in podman's layers is one of `objects`.
bool linked_in(const std::set<ino_t>& objects, const fs::path& root, const std::string& path) {
  std::set<ino_t> ours = podman_inodes(root, path);
  EXPECT_FALSE(ours.empty()) << path;
  return std::any_of(ours.begin(), ours.end(), [&](ino_t i) { return objects.count(i) != 0; });
}

std::string line_of(const std::string& out, const std::string& prefix) {
  std::size_t at = out.find("\n" + prefix);
  if (at == std::string::npos) return out.starts_with(prefix) ? out.substr(0, out.find('\n')) : "";
  return out.substr(at + 1, out.find('\n', at + 1) - at - 1);
}

// Unmounts whatever podman left mounted under `dir` (it should leave nothing: checked).
std::vector<std::string> mounts_under(const fs::path& dir) {
  std::vector<std::string> out;
  std::ifstream in("/proc/self/mountinfo");
  for (std::string line; std::getline(in, line);) {
    std::istringstream f(line);
    std::string id, parent, dev, root, target;
    f >> id >> parent >> dev >> root >> target;
    if (target.starts_with(dir.string())) out.push_back(target);
  }
  return out;
}

class CstorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CFS_REQUIRE(test::LocalRegistry::available(),
                "docker-registry, skopeo, umoci or htpasswd is not installed");
    CFS_REQUIRE(have("podman"), "podman is not installed");
    CFS_REQUIRE(::geteuid() == 0,
                "podman pull into a test storage and hard links by descriptor need root");
  }
};

TEST_F(CstorTest, PullsWhatDockerGivesByHardLinkAndChangesNothing) {
  test::TempDir tmp;
  fs::path layout = make_layout(tmp.path());
  test::LocalRegistry registry(tmp / "registry");
  for (std::string tag : {"base", "derived"}) {
    must(run({"skopeo", "copy", "--quiet", "--dest-tls-verify=false",
              "oci:" + layout.string() + ":" + tag,
              "docker://" + registry.host() + "/test/img:" + tag}),
         "skopeo copy " + tag);
  }
  test::write_file(tmp / "storage.conf", storage_conf(tmp / "storage", tmp / "run"));
  std::vector<std::string> env = {
      "CONTAINERS_REGISTRIES_CONF=" + registry.registries_conf().string(),
      "CONTAINERS_STORAGE_CONF=" + (tmp / "storage.conf").string()};
  Podman podman{tmp / "storage", tmp / "run", env};
  std::string image = registry.host() + "/test/img:derived";
  must(podman({"pull", "--quiet", "--tls-verify=false", image}), "podman pull");
  std::string inspect =
      podman({"image", "inspect", image}).out;  // podman itself touches its lock files
  std::string before = snapshot(podman.root);
  ASSERT_FALSE(inspect.empty());

  auto cfsctl = [&](const fs::path& repo, std::vector<std::string> args) {
    args.insert(args.begin(), {tool("cfsctl").string(), "--repo", repo.string()});
    return run(args, "", env);
  };
  fs::path reg = tmp / "reg", cs = tmp / "cs";
  for (const fs::path& repo : {reg, cs}) must(cfsctl(repo, {"init", "--insecure"}), "init");
  test::Run from_registry = cfsctl(reg, {"oci", "pull", "docker://" + image, "img"});
  ASSERT_EQ(from_registry.status, 0) << from_registry.err;
  test::Run from_storage = cfsctl(cs, {"oci", "pull", podman.ref(image), "img"});
  ASSERT_EQ(from_storage.status, 0) << from_storage.err;
  // The same manifest, config, image ID and tree as the registry's.
  EXPECT_EQ(line_of(from_storage.out, "manifest"), line_of(from_registry.out, "manifest"));
  EXPECT_EQ(line_of(from_storage.out, "config"), line_of(from_registry.out, "config"));
  std::string id = cfsctl(reg, {"oci", "compute-id", "img"}).out;
  EXPECT_EQ(cfsctl(cs, {"oci", "compute-id", "img"}).out, id);
  std::string dump = cfsctl(reg, {"oci", "dump", "img"}).out;
  EXPECT_GT(dump.size(), 10000U);
  EXPECT_EQ(cfsctl(cs, {"oci", "dump", "img"}).out, dump);
  EXPECT_EQ(dump.find("/usr/share/zoneinfo/Europe/"), std::string::npos);
  EXPECT_NE(dump.find("/usr/bin/ls-again"), std::string::npos);
  must(cfsctl(cs, {"oci", "fsck"}), "oci fsck");
  // Hard links of podman's files (same inode), but never the setuid one: copied.
  std::string linked = line_of(from_storage.out, "linked");
  EXPECT_NE(linked.find("0 reflinked + "), std::string::npos) << from_storage.out;
  EXPECT_NE(linked.find(" + 1 copied"), std::string::npos) << from_storage.out;
  std::set<ino_t> objects = inodes_under(cs / "objects");
  EXPECT_TRUE(linked_in(objects, podman.root, "usr/big")) << "usr/big is not a hard link";
  EXPECT_TRUE(linked_in(objects, podman.root, "usr/bin/ls"));
  EXPECT_TRUE(linked_in(objects, podman.root, "etc/derived"));
  EXPECT_FALSE(linked_in(objects, podman.root, "usr/bin/cat"))
      << "a setuid file was linked into objects/";

  // disabled: the same image, every byte copied.
  fs::path copied = tmp / "copied";
  must(cfsctl(copied, {"init", "--insecure"}), "init");
  test::Run r =
      cfsctl(copied, {"oci", "pull", "--local-fetch", "disabled", podman.ref(image), "img"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(line_of(r.out, "linked"), "");
  EXPECT_EQ(cfsctl(copied, {"oci", "compute-id", "img"}).out, id);
  EXPECT_FALSE(linked_in(inodes_under(copied / "objects"), podman.root, "usr/big"));

  // Another filesystem (tmpfs): zerocopy refuses cleanly, auto copies.
  test::Tmpfs shm(tmp / "shm", "256m");
  ASSERT_TRUE(shm.ok());
  fs::path other = tmp / "shm" / "repo";
  must(cfsctl(other, {"init", "--insecure"}), "init");
  r = cfsctl(other, {"oci", "pull", "--local-fetch", "zerocopy", podman.ref(image), "img"});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("zerocopy refuses to copy"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("another filesystem"), std::string::npos) << r.err;
  EXPECT_EQ(cfsctl(other, {"oci", "compute-id", "img"}).status, 1) << "zerocopy left a tag";
  r = cfsctl(other, {"oci", "pull", podman.ref(image), "img"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(cfsctl(other, {"oci", "compute-id", "img"}).out, id);

  // Names and IDs as podman matches them; clear errors.
  std::string config =
      line_of(from_registry.out, "config").substr(std::string("config   sha256:").size());
  r = cfsctl(cs, {"oci", "pull", podman.ref("@" + config.substr(0, 12)), "by-id"});
  EXPECT_EQ(r.status, 0) << r.err;
  r = cfsctl(cs, {"oci", "pull", podman.ref("test/img:derived"), "short"});
  EXPECT_EQ(r.status, 0) << r.err;
  r = cfsctl(
      cs, {"oci", "pull", "containers-storage:" + image, "found"});  // the store storage.conf names
  EXPECT_EQ(r.status, 0) << r.err;
  r = cfsctl(cs, {"oci", "pull", podman.ref("no/such:image"), "x"});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("no image no/such:image in containers-storage " + podman.root.string()),
            std::string::npos)
      << r.err;

  // podman build of a Containerfile (COPY onto the base image): it pulls too.
  fs::create_directories(tmp / "ctx");
  test::write_file(tmp / "ctx" / "added", std::string(5000, 'a'));
  test::write_file(tmp / "ctx" / "Containerfile",
                   "FROM " + registry.host() + "/test/img:base\nCOPY added /etc/added\n");
  must(podman({"build", "--quiet", "--tls-verify=false", "-t", "localhost/built:1",
               (tmp / "ctx").string()}),
       "podman build");
  inspect = podman({"image", "inspect", image}).out;
  before = snapshot(podman.root);  // the build changed the storage; cfsctl must not
  r = cfsctl(cs, {"oci", "pull", podman.ref("built:1"), "built"});
  ASSERT_EQ(r.status, 0) << r.err;
  std::string built = cfsctl(cs, {"oci", "dump", "built"}).out;
  EXPECT_NE(built.find("/etc/added 5000 "), std::string::npos) << built.substr(0, 2000);
  EXPECT_NE(built.find("/etc/hostname "), std::string::npos);

  // Nothing in the storage changed, and podman still sees the image as it was.
  EXPECT_EQ(snapshot(podman.root), before);
  EXPECT_EQ(podman({"image", "inspect", image}).out, inspect);

  // A layer podman has not finished is refused clearly (on a copy of the storage).
  fs::path copy = tmp / "storage2";
  must(run({"cp", "-a", podman.root.string(), copy.string()}), "cp storage");
  std::string layers = test::read_file(copy / "overlay-layers" / "layers.json");
  std::size_t at = layers.find("\"id\":");
  ASSERT_NE(at, std::string::npos);
  layers.insert(at, "\"flags\":{\"incomplete\":true},");
  test::write_file(copy / "overlay-layers" / "layers.json", layers);
  r = cfsctl(copied, {"oci", "pull", "containers-storage:[" + copy.string() + "]" + image, "x"});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("is incomplete (podman is still writing it"), std::string::npos) << r.err;

  // A file of podman's changed behind its back (same size): the rebuilt tar fails the diff_id
  // check and nothing is tagged.
  fs::path tampered = tmp / "storage3";
  must(run({"cp", "-a", podman.root.string(), tampered.string()}), "cp storage");
  for (const auto& e : fs::directory_iterator(tampered / "overlay")) {
    if (fs::exists(e.path() / "diff" / "usr" / "big")) {
      std::string big = test::read_file(e.path() / "diff" / "usr" / "big");
      big.back() = 'X';
      test::write_file(e.path() / "diff" / "usr" / "big", big);
    }
  }
  fs::path fresh = tmp / "fresh";
  must(cfsctl(fresh, {"init", "--insecure"}), "init");
  r = cfsctl(fresh,
             {"oci", "pull", "containers-storage:[" + tampered.string() + "]" + image, "img"});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("not the diff_id"), std::string::npos) << r.err;
  EXPECT_EQ(cfsctl(fresh, {"oci", "compute-id", "img"}).status, 1);

  EXPECT_EQ(mounts_under(tmp.path()), std::vector<std::string>{(tmp / "shm").string()});
}

// On XFS (reflink=1, a loop filesystem made here) objects are reflinks: new inodes, shared
// extents, no data written.
TEST_F(CstorTest, ReflinksOnXfs) {
  CFS_REQUIRE(have("mkfs.xfs"), "mkfs.xfs (xfsprogs) is not installed");
  test::TempDir tmp;
  fs::path layout = make_layout(tmp.path());
  must(run({"truncate", "-s", "1G", (tmp / "xfs.img").string()}), "truncate");
  must(run({"mkfs.xfs", "-q", "-m", "reflink=1", (tmp / "xfs.img").string()}), "mkfs.xfs");
  fs::create_directories(tmp / "xfs");
  must(run({"mount", "-o", "loop", (tmp / "xfs.img").string(), (tmp / "xfs").string()}),
       "mount xfs");
  struct Unmount {
    fs::path dir;
    ~Unmount() { run({"umount", dir.string()}); }
  } unmount{tmp / "xfs"};
  test::write_file(tmp / "storage.conf", storage_conf(tmp / "xfs" / "storage", tmp / "run"));
  std::vector<std::string> env = {"CONTAINERS_STORAGE_CONF=" + (tmp / "storage.conf").string()};
  Podman podman{tmp / "xfs" / "storage", tmp / "run", env};
  must(run({"skopeo", "copy", "--quiet", "oci:" + layout.string() + ":derived",
            podman.ref("localhost/img:derived")},
           "", env),
       "skopeo copy to containers-storage");
  std::string ref = podman({"images", "--quiet", "--no-trunc"}).out;
  ASSERT_GE(ref.size(), 71U) << ref;
  ref = "@" + ref.substr(7, 64);
  std::string before = snapshot(podman.root);
  fs::path repo = tmp / "xfs" / "repo";
  must(run({tool("cfsctl").string(), "--repo", repo.string(), "init", "--insecure"}), "init");
  test::Run r = run({tool("cfsctl").string(), "--repo", repo.string(), "oci", "pull",
                     "--local-fetch", "zerocopy", podman.ref(ref), "img"},
                    "", env);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(line_of(r.out, "linked").find(" reflinked + 0 hard-linked + 0 copied"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(line_of(r.out, "linked").find("linked   0 reflinked"), std::string::npos) << r.out;
  EXPECT_FALSE(linked_in(inodes_under(repo / "objects"), podman.root, "usr/big"))
      << "a hard link, not a reflink";
  // The reflinked object shares podman's extents: filefrag reports them "shared".
  std::string frag = run({"sh", "-c",
                          "filefrag -v $(grep -rl end '" + (repo / "objects").string() +
                              "' | head -1) 2>&1; true"})
                         .out;
  EXPECT_NE(frag.find("shared"), std::string::npos) << frag;
  fs::path ref_repo = tmp / "xfs" / "ref";
  must(run({tool("cfsctl").string(), "--repo", ref_repo.string(), "init", "--insecure"}), "init");
  must(run({tool("cfsctl").string(), "--repo", ref_repo.string(), "oci", "pull",
            "oci:" + layout.string() + ":derived", "img"}),
       "pull layout");
  EXPECT_EQ(
      run({tool("cfsctl").string(), "--repo", repo.string(), "oci", "compute-id", "img"}).out,
      run({tool("cfsctl").string(), "--repo", ref_repo.string(), "oci", "compute-id", "img"}).out);
  EXPECT_EQ(snapshot(podman.root), before);
}

// A storage made by root (skopeo into containers-storage), read by the user nobody: how a
// rootless podman's store looks from outside its user namespace (its files belong to
// subordinate uids, here to root).
struct UserSetup {
  test::TempDir tmp;
  Podman podman;
  std::string ref;     // podman.ref(the image's ID)
  fs::path user_repo;  // nobody's repository, initialized

  UserSetup() {
    fs::permissions(tmp.path(), fs::perms::owner_all | fs::perms::group_exec |
                                    fs::perms::others_read | fs::perms::others_exec);
    fs::path layout = make_layout(tmp.path());
    test::write_file(tmp / "storage.conf", storage_conf(tmp / "storage", tmp / "run"));
    podman = Podman{tmp / "storage",
                    tmp / "run",
                    {"CONTAINERS_STORAGE_CONF=" + (tmp / "storage.conf").string()}};
    must(run({"skopeo", "copy", "--quiet", "oci:" + layout.string() + ":derived",
              podman.ref("localhost/img:derived")},
             "", podman.env),
         "skopeo copy to containers-storage");
    std::string id = podman({"images", "--quiet", "--no-trunc"}).out;
    EXPECT_GE(id.size(), 71U) << id;
    ref = podman.ref("@" + id.substr(7, 64));
    must(run({"chmod", "-R", "a+rX", podman.root.string(), podman.run_root.string()}), "chmod");
    fs::create_directory(tmp / "user");
    must(run({"chown", "nobody:nogroup", (tmp / "user").string()}), "chown");
    user_repo = tmp / "user" / "repo";
    must(as_nobody({"init", "--insecure"}), "init as nobody");
  }
  // cfsctl --repo <user_repo> as the user nobody.
  test::Run as_nobody(std::vector<std::string> args) const {
    std::vector<std::string> argv = {"setpriv",
                                     "--reuid=nobody",
                                     "--regid=nogroup",
                                     "--clear-groups",
                                     "env",
                                     "HOME=/nonexistent",
                                     test::tool_for_anyone("cfsctl").string(),
                                     "--repo",
                                     user_repo.string()};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv);
  }
};

// The user's pull of a storage it can read: copies (a user can hard-link neither by descriptor
// nor, under protected_hardlinks, files it does not own), the image root pulls.
TEST_F(CstorTest, UserPullsAStorageItCanReadByCopying) {
  UserSetup s;
  std::string before = snapshot(s.podman.root);
  fs::path root_repo = s.tmp / "root-repo";
  must(test::cfsctl(root_repo, {"init", "--insecure"}), "init");
  must(test::cfsctl(root_repo, {"oci", "pull", s.ref, "img"}), "pull as root");
  test::Run r = s.as_nobody({"oci", "pull", s.ref, "img"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(line_of(r.out, "linked"), "") << "something was linked:\n" << r.out;
  std::string id = test::cfsctl(root_repo, {"oci", "compute-id", "img"}).out;
  ASSERT_FALSE(id.empty());
  EXPECT_EQ(s.as_nobody({"oci", "compute-id", "img"}).out, id);
  EXPECT_EQ(s.as_nobody({"oci", "dump", "img"}).out,
            test::cfsctl(root_repo, {"oci", "dump", "img"}).out);
  std::set<ino_t> objects = inodes_under(s.user_repo / "objects");
  for (const char* path : {"usr/big", "usr/bin/ls", "etc/derived"})
    EXPECT_FALSE(linked_in(objects, s.podman.root, path)) << path << " was linked";
  must(s.as_nobody({"oci", "fsck"}), "oci fsck as nobody");
  EXPECT_EQ(snapshot(s.podman.root), before);
}

// A file the user cannot read (0600, root's): one line naming it and the command that reads
// it (the same pull inside `podman unshare`), exit 1, nothing tagged.
TEST_F(CstorTest, UserPullOfAFileItCannotReadNamesItAndTheCommandToRun) {
  UserSetup s;
  int closed = 0;
  for (const auto& e : fs::directory_iterator(s.podman.root / "overlay")) {
    if (fs::exists(e.path() / "diff" / "usr" / "big")) {
      fs::permissions(e.path() / "diff" / "usr" / "big",
                      fs::perms::owner_read | fs::perms::owner_write);
      ++closed;
    }
  }
  ASSERT_EQ(closed, 1);
  std::string before = snapshot(s.podman.root);
  // What names images: all but objects/ and streams/ (a layer finished before the failure
  // stays there, unreferenced, as after a failed registry pull).
  auto named = [&] {
    return run({"sh", "-c",
                "cd '" + s.user_repo.string() +
                    "' && find . -not -path './objects*' -not -path './streams*' | sort"})
        .out;
  };
  std::string names = named(), images = s.as_nobody({"oci", "images"}).out;
  test::Run r = s.as_nobody({"oci", "pull", s.ref, "img"});
  EXPECT_EQ(r.status, 1);
  std::string command = "podman unshare " + test::tool_for_anyone("cfsctl").string() + " --repo " +
                        s.user_repo.string() + " oci pull '" + s.ref + "' img";
  EXPECT_TRUE(r.err.starts_with("Error: layer sha256:")) << r.err;
  EXPECT_NE(r.err.find(": cannot read usr/big in containers-storage: Permission denied (files of a "
                       "rootless podman's store belong to its subordinate uids; run the pull in "
                       "podman's user namespace: "),
            std::string::npos)
      << r.err;
  EXPECT_TRUE(r.err.ends_with(": " + command + ")\n")) << r.err << "\nwanted: " << command;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_EQ(s.as_nobody({"oci", "compute-id", "img"}).status, 1) << "tagged anyway";
  EXPECT_EQ(s.as_nobody({"oci", "images"}).out, images);
  EXPECT_EQ(named(), names);
  EXPECT_EQ(snapshot(s.podman.root), before);
  // Root (who can read it) pulls the same storage.
  fs::path root_repo = s.tmp / "root-repo";
  must(test::cfsctl(root_repo, {"init", "--insecure"}), "init");
  must(test::cfsctl(root_repo, {"oci", "pull", s.ref, "img"}), "pull as root");
}

// oci-archive: and dir: (skopeo makes them from the layout) give the layout's image ID.
TEST(OciTransports, ArchiveAndDirGiveTheLayoutsId) {
  CFS_REQUIRE(test::LocalRegistry::available(), "skopeo or umoci is not installed");
  test::TempDir tmp;
  fs::path layout = make_layout(tmp.path());
  must(run({"skopeo", "copy", "--quiet", "oci:" + layout.string() + ":derived",
            "oci-archive:" + (tmp / "a.tar").string() + ":v1"}),
       "skopeo oci-archive");
  must(run({"skopeo", "copy", "--quiet", "oci:" + layout.string() + ":derived",
            "dir:" + (tmp / "d").string()}),
       "skopeo dir");
  fs::path repo = tmp / "repo";
  must(test::cfsctl(repo, {"init", "--insecure"}), "init");
  must(test::cfsctl(repo, {"oci", "pull", "oci:" + layout.string() + ":derived", "layout"}),
       "pull layout");
  std::string id = test::cfsctl(repo, {"oci", "compute-id", "layout"}).out;
  ASSERT_FALSE(id.empty());
  for (const std::string& src :
       {"oci-archive:" + (tmp / "a.tar").string() + ":v1",
        "oci-archive:" + (tmp / "a.tar").string(), "dir:" + (tmp / "d").string()}) {
    test::Run r = test::cfsctl(repo, {"oci", "pull", src, "x"});
    ASSERT_EQ(r.status, 0) << src << ": " << r.err;
    EXPECT_EQ(test::cfsctl(repo, {"oci", "compute-id", "x"}).out, id) << src;
  }
  test::Run r =
      test::cfsctl(repo, {"oci", "pull", "oci-archive:" + (tmp / "a.tar").string() + ":nope", "x"});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("no image tagged nope in OCI archive"), std::string::npos) << r.err;
  r = test::cfsctl(repo, {"oci", "pull", "dir:" + (tmp / "missing").string(), "x"});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("No such file or directory"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace cfs
