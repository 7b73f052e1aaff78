// cfsctl as a user runs it: outputs, exit codes and on-disk effects (docs/repository.md,
// ../shared/spec/cfsctl.md), against composefs-rs's pinned image IDs. No root needed.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>

#include <zstd.h>

#include "base/digest.h"
#include "support/support.h"
#include "verity/fsverity.h"

namespace cfs {
namespace {

namespace fs = test::fs;
using test::run;
using test::tool;

using test::cfsctl;

void set_mtime(const fs::path& p, long sec) {
  struct timespec t[2] = {{sec, 0}, {sec, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, p.c_str(), t, AT_SYMLINK_NOFOLLOW), 0) << p;
}

// composefs-rs's CLI test layer as a directory: usr/ (empty), hello.txt (22 bytes) and a hard
// link to it, everything mode 0644/0755, mtime 1234567890 (../shared/spec/oci-import.md §13).
void conformance_tree(const fs::path& dir) {
  fs::create_directories(dir / "usr");
  test::write_file(dir / "hello.txt", "hello from test layer\n");
  fs::create_hard_link(dir / "hello.txt", dir / "hello-link.txt");
  ::chmod((dir / "hello.txt").c_str(), 0644);
  ::chmod((dir / "usr").c_str(), 0755);
  ::chmod(dir.c_str(), 0755);
  set_mtime(dir / "hello.txt", 1234567890);
  set_mtime(dir / "usr", 1234567890);
  set_mtime(dir, 1234567890);
}

// A tree with files over 64 bytes (objects), small ones (inline), a hard link and /run.
void sample_tree(const fs::path& dir, const std::string& salt) {
  fs::create_directories(dir / "usr" / "bin");
  fs::create_directories(dir / "run" / "tmp");
  fs::create_directories(dir / "etc");
  test::write_file(dir / "usr" / "bin" / "tool", std::string(100000, 't') + salt);
  test::write_file(dir / "usr" / "bin" / "small", "small " + salt);
  test::write_file(dir / "etc" / "config", std::string(5000, 'c') + salt);
  test::write_file(dir / "run" / "tmp" / "junk", "not in the image");
  fs::create_hard_link(dir / "usr" / "bin" / "tool", dir / "etc" / "tool-link");
}

std::set<std::string> object_files(const fs::path& repo) {
  std::set<std::string> out;
  if (!fs::exists(repo / "objects")) return out;
  for (const auto& e : fs::recursive_directory_iterator(repo / "objects")) {
    if (e.is_regular_file()) out.insert(fs::relative(e.path(), repo / "objects").string());
  }
  return out;
}

TEST(Cfsctl, InitWritesComposefsRsMetadata) {
  test::TempDir tmp;
  auto repo = tmp / "a" / "repo";
  auto r = cfsctl(repo, {"init", "--insecure"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "Initialized composefs repository at " + repo.string() +
                       "\n  algorithm: fsverity-sha512-12\n  verity:    not required (insecure)\n");
  EXPECT_EQ(test::read_file(repo / "meta.json"),
            "{\n  \"version\": 1,\n  \"algorithm\": \"fsverity-sha512-12\",\n  \"features\": {\n"
            "    \"compatible\": [],\n    \"read-only-compatible\": [\n      \"v1_erofs\"\n    ],\n"
            "    \"incompatible\": []\n  },\n  \"erofs_formats\": {\n    \"default\": 1\n  }\n}\n");
  EXPECT_EQ(fs::status(repo).permissions() & fs::perms::all, fs::perms::owner_all);
  r = cfsctl(repo, {"init", "--insecure"});
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.out, "Repository already initialized at " + repo.string() + "\n");
  r = cfsctl(repo, {"init", "--insecure", "--algorithm", "fsverity-sha256-12"});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("repository already initialized with different configuration (algorithm: fsverity-sha512-12, "
                       "erofs_version: V1); cannot re-initialize with (algorithm: fsverity-sha256-12, erofs_version: V1)"),
            std::string::npos) << r.err;
  r = cfsctl(repo, {"init", "--ensure", "--algorithm", "fsverity-sha256-12"});
  EXPECT_NE(r.err.find("does not match expected"), std::string::npos) << r.err;
  r = cfsctl(repo, {"init", "--algorithm", "fsverity-md5-12"});
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("unsupported hash algorithm 'md5' (expected sha256 or sha512)"), std::string::npos) << r.err;
  // A secure repository needs fs-verity on meta.json: where the filesystem has none, init fails.
  if (run({"fsverity", "enable", (repo / "meta.json").string()}).status != 0) {
    r = cfsctl(tmp / "secure", {"init"});
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find("enabling verity on meta.json"), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(tmp / "secure" / "meta.json"));
  }
  auto r256 = cfsctl(tmp / "r256", {"init", "--insecure", "--algorithm", "fsverity-sha256-12", "--erofs-version", "0"});
  ASSERT_EQ(r256.status, 0) << r256.err;
  EXPECT_NE(test::read_file(tmp / "r256" / "meta.json").find("\"read-only-compatible\": [],"), std::string::npos);
}

TEST(Cfsctl, ImageIdsAreComposefsRsIds) {
  test::TempDir tmp;
  conformance_tree(tmp / "tree");
  auto r = run({tool("cfsctl").string(), "--no-repo", "compute-id", (tmp / "tree").string()});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "d06f1f6a73f62ed48e05ce9442ff045cdf2a9f5ba1ec623795de3d6177a253d91076459795d94f55d8c3d71dab458bb3fc0071255a50c0a4896d86ffdc870b9a\n");
  r = run({tool("cfsctl").string(), "--no-repo", "--hash", "sha256", "compute-id", (tmp / "tree").string()});
  EXPECT_EQ(r.out, "ca4c0cedfe7cf4e19090b65126e5b2ccc2e7fb4eef2af2a1bcdebe7488d5790b\n");
  // Without a usable repository it falls back to SHA-512 (an uninitialised directory too).
  fs::create_directory(tmp / "empty");
  EXPECT_EQ(cfsctl(tmp / "empty", {"compute-id", (tmp / "tree").string()}).out.size(), 129u);
  // create-image stores it under that ID, and again gives the same.
  auto repo = tmp / "repo";
  ASSERT_EQ(cfsctl(repo, {"init", "--insecure"}).status, 0);
  r = cfsctl(repo, {"create-image", (tmp / "tree").string(), "conf"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "sha512:d06f1f6a73f62ed48e05ce9442ff045cdf2a9f5ba1ec623795de3d6177a253d91076459795d94f55d8c3d71dab458bb3fc0071255a50c0a4896d86ffdc870b9a\n");
  EXPECT_EQ(cfsctl(repo, {"create-image", (tmp / "tree").string()}).out, r.out);
  std::string hex = r.out.substr(7, 128);
  EXPECT_EQ(fs::read_symlink(repo / "images" / hex), fs::path("../objects/" + hex.substr(0, 2) + "/" + hex.substr(2)));
  EXPECT_EQ(fs::read_symlink(repo / "images" / "refs" / "conf"), fs::path("../" + hex));
  EXPECT_EQ(test::sha256_hex(test::read_file(repo / "images" / hex)),
            test::sha256_hex(test::read_file(repo / "objects" / hex.substr(0, 2) / hex.substr(2))));
  // Format V2: composefs-rs's pinned V2 ID, from --erofs-version 2 or a V2 repository.
  const std::string v2 =
      "f7684c21050615c02cec250e0c7d4118fb0ff6340af5039e06f2f372a7614fff25dfd38cf7f28ad67d8b86e86371b7deafa9ae4bf543630322aee6196417de92";
  r = run({tool("cfsctl").string(), "--no-repo", "--erofs-version", "2", "compute-id", (tmp / "tree").string()});
  EXPECT_EQ(r.out, v2 + "\n") << r.err;
  auto repo2 = tmp / "repo2";
  ASSERT_EQ(cfsctl(repo2, {"init", "--insecure", "--erofs-version", "2"}).status, 0);
  std::string meta = test::read_file(repo2 / "meta.json");
  EXPECT_NE(meta.find("\"read-only-compatible\": [],"), std::string::npos) << meta;
  EXPECT_NE(meta.find("\"default\": 2"), std::string::npos) << meta;
  r = cfsctl(repo2, {"create-image", (tmp / "tree").string()});
  EXPECT_EQ(r.out, "sha512:" + v2 + "\n") << r.err;
  EXPECT_EQ(cfsctl(repo2, {"compute-id", (tmp / "tree").string()}).out, hex + "\n") << "compute-id ignores the repository format";
}

TEST(Cfsctl, CreateImageStoresObjectsAndListsThem) {
  test::TempDir tmp;
  sample_tree(tmp / "tree", "1");
  auto repo = tmp / "repo";
  ASSERT_EQ(cfsctl(repo, {"init", "--insecure"}).status, 0);
  EXPECT_EQ(cfsctl(repo, {"images"}).out, "No images found\n");
  EXPECT_EQ(cfsctl(repo, {"images", "--json"}).out, "{\n  \"images\": []\n}\n");
  auto r = cfsctl(repo, {"create-image", (tmp / "tree").string(), "nested/name"});
  ASSERT_EQ(r.status, 0) << r.err;
  std::string hex = r.out.substr(7, 128);
  EXPECT_EQ(fs::read_symlink(repo / "images" / "refs" / "nested" / "name"), fs::path("../../" + hex));
  // the objects: the image and the two files over 64 bytes (the hard link is one)
  EXPECT_EQ(object_files(repo).size(), 3u);
  r = cfsctl(repo, {"image-objects", "refs/nested/name"});
  ASSERT_EQ(r.status, 0) << r.err;
  std::istringstream lines(r.out);
  int n = 0;
  for (std::string line; std::getline(lines, line); ++n) {
    ASSERT_EQ(line.size(), 7u + 128) << line;
    EXPECT_TRUE(fs::exists(repo / "objects" / line.substr(7, 2) / line.substr(9))) << line;
  }
  EXPECT_EQ(n, 2);
  EXPECT_EQ(cfsctl(repo, {"image-objects", hex}).out, r.out) << "by its hex";
  EXPECT_EQ(cfsctl(repo, {"images"}).out,
            "┌─────────────┬──────────────┐\n│ NAME        ┆ DIGEST       │\n╞═════════════╪══════════════╡\n"
            "│ nested/name ┆ " + hex.substr(0, 12) + " │\n└─────────────┴──────────────┘\n");
  EXPECT_NE(cfsctl(repo, {"images", "--no-trunc"}).out.find(hex), std::string::npos);
  // A tree without /usr is refused before anything is stored.
  fs::create_directories(tmp / "nousr" / "etc");
  test::write_file(tmp / "nousr" / "etc" / "big", std::string(1000, 'x'));
  auto before = object_files(repo);
  r = cfsctl(repo, {"create-image", (tmp / "nousr").string()});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("has no usr directory"), std::string::npos) << r.err;
  EXPECT_EQ(object_files(repo), before) << "a refused create-image stored objects";
  // --erofs-version 2: the V2 image of the same tree, one more object.
  r = cfsctl(repo, {"--erofs-version", "2", "create-image", (tmp / "tree").string()});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(object_files(repo).size(), before.size() + 1);
  std::string v2 = test::read_file(repo / "images" / r.out.substr(7, 128));
  ASSERT_GE(v2.size(), 16u);
  EXPECT_EQ(v2.substr(12, 4), std::string("\2\0\0\0", 4)) << "composefs_version 2";
  EXPECT_EQ(cfsctl(repo, {"create-image", "--no-propagate-usr-to-root", (tmp / "nousr").string()}).status, 0);
  r = cfsctl(repo, {"image-objects", "nested/name"});  // with a '/', only images/NAME is looked at
  EXPECT_NE(r.err.find("image not found: nested/name"), std::string::npos) << r.err;
  r = cfsctl(repo, {"image-objects", "nonexistent"});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("image not found: nonexistent"), std::string::npos) << r.err;
  // import-image stores stdin as it is
  r = cfsctl(repo, {"import-image", "imported"}, test::read_file(repo / "images" / hex));
  EXPECT_EQ(r.out, "sha512:" + hex + "\n");
  EXPECT_EQ(fs::read_symlink(repo / "images" / "refs" / "imported"), fs::path("../" + hex));
}

TEST(Cfsctl, Sha256Repository) {
  test::TempDir tmp;
  sample_tree(tmp / "tree", "2");
  auto repo = tmp / "repo";
  ASSERT_EQ(cfsctl(repo, {"init", "--insecure", "--algorithm", "fsverity-sha256-12"}).status, 0);
  auto r = cfsctl(repo, {"create-image", (tmp / "tree").string(), "x"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(r.out.starts_with("sha256:")) << r.out;
  EXPECT_EQ(r.out.size(), 7u + 64 + 1);
  for (const std::string& o : object_files(repo)) EXPECT_EQ(o.size(), 2u + 1 + 62) << o;
  EXPECT_EQ(cfsctl(repo, {"compute-id", (tmp / "tree").string()}).out, r.out.substr(7));
  r = cfsctl(repo, {"--hash", "sha512", "images"});
  std::vector<std::string> args = {tool("cfsctl").string(), "--repo", repo.string(), "--hash", "sha512", "images"};
  r = run(args);
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("repository is configured for fsverity-sha256-12 (from meta.json) but --hash sha512 was specified"),
            std::string::npos) << r.err;
}

TEST(Cfsctl, UsageErrorsAndMissingRepositories) {
  test::TempDir tmp;
  auto r = run({tool("cfsctl").string()});
  EXPECT_EQ(r.status, 2);
  r = run({tool("cfsctl").string(), "--repo", "a", "--user", "images"});
  EXPECT_EQ(r.status, 2);
  r = cfsctl(tmp / "repo", {"gc", "--bogus"});
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("unexpected argument '--bogus'"), std::string::npos) << r.err;
  r = cfsctl(tmp / "nonexistent", {"images"});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("Error: opening repository " + (tmp / "nonexistent").string()), std::string::npos) << r.err;
  fs::create_directory(tmp / "bare");
  r = cfsctl(tmp / "bare", {"images"});
  EXPECT_NE(r.err.find("tried to infer algorithm from objects"), std::string::npos) << r.err;
  r = cfsctl(tmp / "bare", {"--no-upgrade", "images"});
  EXPECT_NE(r.err.find("must be initialized with `cfsctl init`"), std::string::npos) << r.err;
  EXPECT_EQ(run({tool("cfsctl").string(), "--version"}).out, "cfsctl 0.9.0\n");
  r = cfsctl(tmp / "repo", {"--no-repo", "images"});
  EXPECT_EQ(r.status, 1);
  r = cfsctl(tmp / "repo", {"merkle", "--min-size", "8M"});
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("invalid value '8M' for '--min-size <BYTES>'"), std::string::npos) << r.err;
}

// gc keeps exactly what the refs need: random create / tag / untag / gc sequences against a
// model of which images are named.
TEST(Cfsctl, GcKeepsWhatRefsNeed) {
  test::TempDir tmp;
  auto repo = tmp / "repo";
  ASSERT_EQ(cfsctl(repo, {"init", "--insecure"}).status, 0);
  std::mt19937 rng(12345);
  std::map<std::string, std::string> named;  // ref -> image hex
  std::map<std::string, std::set<std::string>> needs;  // image hex -> its objects (and itself)
  for (int step = 0; step < 40; ++step) {
    int what = static_cast<int>(rng() % 4);
    if (what <= 1) {  // create an image, named or not
      std::string salt = std::to_string(rng() % 6);
      auto dir = tmp / ("t" + std::to_string(step));
      sample_tree(dir, salt);
      std::string ref = what == 0 ? "ref" + std::to_string(rng() % 4) : "";
      std::vector<std::string> args = {"create-image", dir.string()};
      if (!ref.empty()) args.push_back(ref);
      auto r = cfsctl(repo, args);
      ASSERT_EQ(r.status, 0) << r.err;
      std::string hex = r.out.substr(7, 128);
      auto objs = cfsctl(repo, {"image-objects", hex});
      std::set<std::string>& n = needs[hex];
      n.insert(hex.substr(0, 2) + "/" + hex.substr(2));
      std::istringstream lines(objs.out);
      for (std::string l; std::getline(lines, l);) n.insert(l.substr(7, 2) + "/" + l.substr(9));
      if (!ref.empty()) named[ref] = hex;
      fs::remove_all(dir);
    } else if (what == 2 && !named.empty()) {  // untag
      auto it = std::next(named.begin(), static_cast<long>(rng() % named.size()));
      fs::remove(repo / "images" / "refs" / it->first);
      named.erase(it);
    } else {
      bool dry = rng() % 3 == 0;
      auto before = object_files(repo);
      auto r = cfsctl(repo, dry ? std::vector<std::string>{"gc", "--dry-run"} : std::vector<std::string>{"gc"});
      ASSERT_EQ(r.status, 0) << r.err;
      std::set<std::string> live;
      for (const auto& [ref, hex] : named) live.insert(needs[hex].begin(), needs[hex].end());
      auto after = object_files(repo);
      if (dry) {
        EXPECT_EQ(after, before) << "a dry run removes nothing";
        EXPECT_TRUE(r.out.starts_with("Dry run (no files deleted):\n")) << r.out;
      } else {
        EXPECT_EQ(after, live) << "step " << step;
        EXPECT_EQ(r.out.substr(0, r.out.find(" removed")), "Objects: " + std::to_string(before.size() - live.size()));
        for (const auto& e : fs::directory_iterator(repo / "images")) {
          if (e.path().filename() != "refs") {
            EXPECT_TRUE(fs::exists(e.path())) << "a dangling link is pruned";
          }
        }
      }
    }
  }
  auto r = cfsctl(repo, {"fsck"});
  EXPECT_EQ(r.status, 0) << r.out << r.err;
}

// An insecure repository in tmp/repo with images "a" and "b" of two sample trees: their IDs.
struct TwoImages {
  fs::path repo;
  std::string a, b;
};
TwoImages two_images(const test::TempDir& tmp) {
  TwoImages t{tmp / "repo", "", ""};
  EXPECT_EQ(cfsctl(t.repo, {"init", "--insecure"}).status, 0);
  sample_tree(tmp / "a", "a");
  sample_tree(tmp / "b", "b");
  t.a = cfsctl(t.repo, {"create-image", (tmp / "a").string(), "a"}).out.substr(7, 128);
  t.b = cfsctl(t.repo, {"create-image", (tmp / "b").string(), "b"}).out.substr(7, 128);
  return t;
}

// fsck names each kind of damage, and which images it hurts.
TEST(Cfsctl, FsckFindsEveryDamage) {
  test::TempDir tmp;
  auto [repo, a, b] = two_images(tmp);
  auto r = cfsctl(repo, {"fsck"});
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(r.out, "meta.json: ok\nobjects: 6/6 ok\nstreams: 0/0 ok\nimages: 2/2 ok\nstatus: ok\n");
  auto objects_of = [&](const std::string& hex) {
    std::vector<fs::path> out;
    std::istringstream lines(cfsctl(repo, {"image-objects", hex}).out);
    for (std::string l; std::getline(lines, l);) out.push_back(repo / "objects" / l.substr(7, 2) / l.substr(9));
    std::sort(out.begin(), out.end());
    return out;
  };
  auto oa = objects_of(a), ob = objects_of(b);
  ASSERT_EQ(oa.size(), 2u);
  ASSERT_EQ(ob.size(), 2u);
  {  // a flipped byte
    std::fstream f(oa[0], std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(10);
    f.put('!');
  }
  fs::resize_file(oa[1], 10);  // a truncated object
  fs::remove(ob[0]);           // a missing one
  fs::rename(ob[1], ob[1].parent_path() / std::string(126, 'e'));  // one under a wrong name
  {  // a corrupt image (its bytes changed: a digest mismatch and, here, unparsable)
    auto img = repo / "objects" / b.substr(0, 2) / b.substr(2);
    std::fstream f(img, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(1024);
    f.put('\0');
  }
  fs::create_symlink("../" + std::string(128, '0'), repo / "images" / "refs" / "dangling");
  r = cfsctl(repo, {"fsck"});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("Error: repository integrity check failed"), std::string::npos);
  auto has = [&](const std::string& s) { return r.out.find(s) != std::string::npos; };
  std::string rel_a0 = fs::relative(oa[0], repo).string(), rel_a1 = fs::relative(oa[1], repo).string();
  EXPECT_TRUE(has("fsck: object-digest-mismatch: " + rel_a0 + ": measured ")) << r.out;
  EXPECT_TRUE(has("fsck: object-digest-mismatch: " + rel_a1 + ": measured ")) << r.out;
  EXPECT_TRUE(has("fsck: object-digest-mismatch: " + fs::relative(ob[1].parent_path(), repo).string() + "/" +
                  std::string(126, 'e'))) << r.out;
  EXPECT_TRUE(has("fsck: image-invalid: images/" + b)) << r.out;
  EXPECT_TRUE(has("fsck: broken-symlink: images/refs/dangling")) << r.out;
  EXPECT_TRUE(has("affected image " + a + ": " + rel_a0 + " " + rel_a1)) << r.out;
  EXPECT_TRUE(has("affected image " + b + ":")) << r.out;
  EXPECT_TRUE(has("broken symlinks: 1")) << r.out;
  auto j = cfsctl(repo, {"fsck", "--json"});
  EXPECT_EQ(j.status, 0) << "--json reports, it does not fail";
  EXPECT_NE(j.out.find("\"ok\": false"), std::string::npos) << j.out;
  // with a's image intact but its object missing: image-missing-object names it
  fs::remove(oa[0]);
  r = cfsctl(repo, {"fsck"});
  EXPECT_TRUE(has("fsck: image-missing-object: images/" + a + ": ")) << r.out;
  EXPECT_TRUE(has("missing objects: ")) << r.out;
}

// Long operations show a progress line on a terminal, and nothing otherwise.
TEST(Cfsctl, ProgressOnlyOnATerminal) {
  test::TempDir tmp;
  auto repo = tmp / "repo";
  ASSERT_EQ(cfsctl(repo, {"init", "--insecure"}).status, 0);
  fs::create_directories(tmp / "tree" / "usr");
  for (int i = 0; i < 20; ++i) test::write_file(tmp / "tree" / "usr" / std::to_string(i), std::string(3 << 20, static_cast<char>('a' + i)));
  auto r = cfsctl(repo, {"create-image", (tmp / "tree").string(), "x"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.err, "");
  r = cfsctl(repo, {"fsck"});
  EXPECT_EQ(r.err, "");
  // script(1) gives the command a terminal; the report is still there after the line.
  std::string cmd = tool("cfsctl").string() + " --repo " + repo.string() + " fsck";
  r = run({"script", "-qec", cmd, "/dev/null"});
  CFS_REQUIRE(r.status != 127, "no script(1) to give cfsctl a terminal");
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("objects, "), std::string::npos) << "no progress line on a terminal";
  EXPECT_NE(r.out.find("status: ok"), std::string::npos) << r.out;
}

TEST(Cfsctl, DumpFiles) {
  test::TempDir tmp;
  auto repo = tmp / "repo";
  ASSERT_EQ(cfsctl(repo, {"init", "--insecure"}).status, 0);
  sample_tree(tmp / "tree", "d");
  fs::create_hard_link(tmp / "tree" / "usr" / "bin" / "tool", tmp / "tree" / "usr" / "bin" / "tool2");
  ASSERT_EQ(cfsctl(repo, {"create-image", (tmp / "tree").string(), "x"}).status, 0);
  auto r = cfsctl(repo, {"dump-files", "x", "/usr/bin"});
  ASSERT_EQ(r.status, 0) << r.err;
  std::istringstream lines(r.out);
  std::vector<std::string> l;
  for (std::string line; std::getline(lines, line);) l.push_back(line);
  ASSERT_EQ(l.size(), 4u) << r.out;
  EXPECT_TRUE(l[0].starts_with("/usr/bin ") && l[0].find(" 40755 2 ") != std::string::npos) << l[0];
  EXPECT_TRUE(l[1].starts_with("/usr/bin/small 7 100644 1 ")) << l[1];
  EXPECT_TRUE(l[1].ends_with(" - small\\x20d -")) << l[1];
  EXPECT_TRUE(l[2].starts_with("/usr/bin/tool 100001 100644 3 ")) << l[2];
  EXPECT_EQ(l[3], "/usr/bin/tool2 0 @120000 - - - - 0.0 /usr/bin/tool - -");
  r = cfsctl(repo, {"dump-files", "--backing-path-only", "x", "usr/bin/tool", "usr/bin/small"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(r.out.starts_with("usr/bin/tool ")) << r.out;
  EXPECT_NE(r.out.find("\nusr/bin/small inline\n"), std::string::npos) << r.out;
  for (const auto& [args, message] : std::vector<std::pair<std::vector<std::string>, std::string>>{
           {{"dump-files", "x", "/usr", "/nope"}, "/nope not found"},
           {{"dump-files", "x", "/usr/../etc"}, "invalid path component"},
           {{"dump-files", "x", "/"}, "invalid filename"},
           {{"dump-files", "--backing-path-only", "x", "/usr"}, "/usr is a directory"}}) {
    r = cfsctl(repo, args);
    EXPECT_EQ(r.status, 1);
    EXPECT_EQ(r.out, "") << "nothing printed before a failure";
    EXPECT_NE(r.err.find(message), std::string::npos) << r.err;
  }
}

// A composefs-rs splitstream (its documented layout): header, info section, the stream and
// object reference arrays, an empty stream, zstd-compressed named references.
std::string splitstream(const std::vector<Digest>& streams, const std::vector<Digest>& objects,
                        const std::string& named) {
  auto le64 = [](std::uint64_t v) {
    std::string b(8, '\0');
    for (int i = 0; i < 8; ++i) b[static_cast<std::size_t>(i)] = static_cast<char>(v >> (8 * i));
    return b;
  };
  std::string refs_s, refs_o;
  for (const Digest& d : streams) refs_s.append(reinterpret_cast<const char*>(d.data()), d.size());
  for (const Digest& d : objects) refs_o.append(reinterpret_cast<const char*>(d.data()), d.size());
  std::string z(ZSTD_compressBound(named.size()), '\0');
  z.resize(ZSTD_compress(z.data(), z.size(), named.data(), named.size(), 3));
  std::uint64_t info = 32, s0 = info + 80, o0 = s0 + refs_s.size(), n0 = o0 + refs_o.size(), end = n0 + z.size();
  std::string out = "SplitStream";
  out += std::string{'\0', '\0', '\0', '\x02', '\x0c'};
  out += le64(info) + le64(info + 80);
  out += le64(s0) + le64(o0) + le64(o0) + le64(n0) + le64(n0) + le64(n0) + le64(n0) + le64(end);
  out += le64(0x726579616c69636fULL) + le64(0);
  return out + refs_s + refs_o + z;
}

// An object in a SHA-512 repository, named by its digest.
Digest put_object(const fs::path& repo, const std::string& data) {
  Digest d = verity::digest_of(std::as_bytes(std::span(data)), HashAlgorithm::kSha512);
  std::string hex = to_hex(d);
  fs::create_directories(repo / "objects" / hex.substr(0, 2));
  test::write_file(repo / "objects" / hex.substr(0, 2) / hex.substr(2), data);
  return d;
}

// gc and fsck follow OCI content: a tag keeps its config stream, the layer stream the config
// names, and the objects the layer holds; untagged, all of it goes.
TEST(Cfsctl, GcAndFsckFollowStreams) {
  test::TempDir tmp;
  auto repo = tmp / "repo";
  ASSERT_EQ(cfsctl(repo, {"init", "--insecure"}).status, 0);
  Digest a = put_object(repo, std::string(5000, 'a')), b = put_object(repo, std::string(6000, 'b'));
  Digest stray = put_object(repo, "unreferenced");
  Digest layer = put_object(repo, splitstream({}, {a, b}, ""));
  Digest config = put_object(repo, splitstream({layer}, {}, std::string("0:sha256:layer\0", 15)));
  auto link = [&](const std::string& name, const Digest& d) {
    std::string hex = to_hex(d);
    fs::create_directories((repo / name).parent_path());
    fs::create_symlink(name.find("refs/") == std::string::npos ? "../objects/" + hex.substr(0, 2) + "/" + hex.substr(2)
                                                                : "../../oci-config-sha256:c",
                       repo / name);
  };
  link("streams/oci-layer-sha256:l", layer);
  link("streams/oci-config-sha256:c", config);
  link("streams/refs/oci/mytag", config);
  auto r = cfsctl(repo, {"fsck"});
  EXPECT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("streams: 2/2 ok"), std::string::npos) << r.out;
  r = cfsctl(repo, {"gc"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "Objects: 1 removed (12 bytes)\n") << "only the stray object";
  for (const Digest& d : {a, b, layer, config}) EXPECT_TRUE(fs::exists(repo / "objects" / object_path(d)));
  EXPECT_FALSE(fs::exists(repo / "objects" / object_path(stray)));
  // A missing layer object and a missing named stream are reported by name.
  fs::rename(repo / "objects" / object_path(a), tmp / "a");
  fs::rename(repo / "objects" / object_path(layer), tmp / "layer");
  r = cfsctl(repo, {"fsck"});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.out.find("fsck: missing-named-ref: streams/oci-config-sha256:c: ref sha256:layer: " + to_hex(layer)),
            std::string::npos) << r.out;
  EXPECT_NE(r.out.find("fsck: broken-symlink: streams/oci-layer-sha256:l"), std::string::npos) << r.out;
  fs::rename(tmp / "layer", repo / "objects" / object_path(layer));
  r = cfsctl(repo, {"fsck"});
  EXPECT_NE(r.out.find("fsck: missing-object-ref: streams/oci-layer-sha256:l: " + to_hex(a)), std::string::npos) << r.out;
  fs::rename(tmp / "a", repo / "objects" / object_path(a));
  // A corrupt stream a tag reaches stops gc before anything is removed.
  test::write_file(repo / "objects" / object_path(config), "SplitStream but not really");
  r = cfsctl(repo, {"gc"});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("nothing removed"), std::string::npos) << r.err;
  EXPECT_TRUE(fs::exists(repo / "objects" / object_path(a)));
  EXPECT_NE(cfsctl(repo, {"fsck"}).out.find("fsck: stream-open-failed: streams/oci-config-sha256:c"), std::string::npos);
  // Untagged: everything goes, and the stream links with it.
  fs::remove(repo / "streams" / "refs" / "oci" / "mytag");
  r = cfsctl(repo, {"gc"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("Objects: 4 removed"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Pruned symlinks: 0 images, 2 streams"), std::string::npos) << r.out;
  EXPECT_EQ(cfsctl(repo, {"fsck"}).status, 0);
}

// cfsctl, killed after `seconds`: a command that waits on a FIFO fails (status 137) instead of
// hanging the test run.
test::Run cfsctl_within(const fs::path& repo, std::vector<std::string> args, int seconds = 30) {
  args.insert(args.begin(), {"timeout", "-s", "KILL", std::to_string(seconds), tool("cfsctl").string(), "--repo", repo.string()});
  return run(args);
}

// A symlink at repo/NAME, as composefs-rs spells its links.
void link_object(const fs::path& repo, const std::string& name, const Digest& d) {
  std::string hex = to_hex(d);
  fs::create_directories((repo / name).parent_path());
  fs::create_symlink("../objects/" + hex.substr(0, 2) + "/" + hex.substr(2), repo / name);
}

void replace_with_fifo(const fs::path& p) {
  fs::remove(p);
  ASSERT_EQ(::mkfifo(p.c_str(), 0644), 0) << p;
}

// FIFOs where a repository has files (an object of an image, the image itself, a stream,
// meta.json) and a symlinked objects/xx: every command reports them or refuses clearly, and
// none waits on a FIFO (gc once did, holding the exclusive lock every other command waits for).
TEST(Cfsctl, FifosInARepositoryAreReportedNeverWaitedOn) {
  test::TempDir tmp;
  auto repo = tmp / "repo";
  ASSERT_EQ(cfsctl(repo, {"init", "--insecure"}).status, 0);
  sample_tree(tmp / "a", "a");
  std::string a = cfsctl(repo, {"create-image", (tmp / "a").string(), "a"}).out.substr(7, 128);
  Digest x = put_object(repo, std::string(5000, 'x'));
  Digest layer = put_object(repo, splitstream({}, {x}, ""));
  link_object(repo, "streams/oci-layer-sha256:l", layer);
  fs::create_directories(repo / "streams" / "refs" / "oci");
  fs::create_symlink("../../oci-layer-sha256:l", repo / "streams" / "refs" / "oci" / "t");
  ASSERT_EQ(cfsctl(repo, {"fsck"}).status, 0);
  fs::copy(repo, tmp / "pristine", fs::copy_options::recursive | fs::copy_options::copy_symlinks);
  auto restore = [&] {
    fs::remove_all(repo);
    fs::copy(tmp / "pristine", repo, fs::copy_options::recursive | fs::copy_options::copy_symlinks);
  };
  auto has = [](const test::Run& r, const std::string& s) { return r.out.find(s) != std::string::npos || r.err.find(s) != std::string::npos; };
  std::string image_object = "objects/" + a.substr(0, 2) + "/" + a.substr(2);
  std::istringstream lines(cfsctl(repo, {"image-objects", "a"}).out);
  std::string file_object;
  std::getline(lines, file_object);
  file_object = "objects/" + file_object.substr(7, 2) + "/" + file_object.substr(9);

  {  // a file object of image a: fsck reports it; gc and mounts do not open it
    SCOPED_TRACE("a FIFO file object");
    replace_with_fifo(repo / file_object);
    auto r = cfsctl_within(repo, {"fsck"});
    EXPECT_EQ(r.status, 1) << r.out << r.err;
    EXPECT_TRUE(has(r, "fsck: object-open-failed: " + file_object + ": refused: " + file_object + " is not a regular file")) << r.out;
    EXPECT_TRUE(has(r, "affected image " + a + ": " + file_object)) << r.out;
    r = cfsctl_within(repo, {"merkle"});
    EXPECT_EQ(r.status, 1) << r.err;
    EXPECT_TRUE(has(r, "is not a regular file")) << r.err;
    EXPECT_EQ(cfsctl_within(repo, {"gc"}).status, 0);
    EXPECT_TRUE(fs::is_fifo(repo / file_object)) << "it is live: gc keeps it";
    restore();
  }
  {  // the image's own object: fsck reports it (as an object and as an image); gc, image-objects refuse
    SCOPED_TRACE("a FIFO image");
    replace_with_fifo(repo / image_object);
    auto r = cfsctl_within(repo, {"fsck"});
    EXPECT_EQ(r.status, 1) << r.out << r.err;
    EXPECT_TRUE(has(r, "fsck: object-open-failed: " + image_object)) << r.out;
    EXPECT_TRUE(has(r, "fsck: image-open-failed: images/" + a + ": refused: " + image_object + " is not a regular file")) << r.out;
    r = cfsctl_within(repo, {"gc"});
    EXPECT_EQ(r.status, 1);
    EXPECT_TRUE(has(r, "(nothing removed)")) << r.err;
    EXPECT_TRUE(has(r, "is not a regular file")) << r.err;
    r = cfsctl_within(repo, {"image-objects", "a"});
    EXPECT_EQ(r.status, 1);
    EXPECT_TRUE(has(r, "is not a regular file")) << r.err;
    restore();
  }
  {  // a stream's object
    SCOPED_TRACE("a FIFO stream");
    replace_with_fifo(repo / "objects" / object_path(layer));
    auto r = cfsctl_within(repo, {"fsck"});
    EXPECT_EQ(r.status, 1) << r.out << r.err;
    EXPECT_TRUE(has(r, "fsck: stream-open-failed: streams/oci-layer-sha256:l: refused: objects/" + object_path(layer) +
                           " is not a regular file")) << r.out;
    r = cfsctl_within(repo, {"gc"});
    EXPECT_EQ(r.status, 1);
    EXPECT_TRUE(has(r, "stream oci-layer-sha256:l (nothing removed)")) << r.err;
    restore();
  }
  {  // meta.json: every command refuses it
    SCOPED_TRACE("a FIFO meta.json");
    replace_with_fifo(repo / "meta.json");
    for (const std::vector<std::string>& args : {std::vector<std::string>{"fsck"}, {"gc"}, {"images"}, {"image-objects", "a"}}) {
      auto r = cfsctl_within(repo, args);
      EXPECT_EQ(r.status, 1) << args[0] << ": " << r.err;
      EXPECT_TRUE(has(r, "refused: meta.json is not a regular file")) << args[0] << ": " << r.err;
    }
    restore();
  }
  {  // no meta.json, and the first object is a FIFO: the algorithm is still found by its name
    SCOPED_TRACE("a FIFO first object, no meta.json");
    fs::remove(repo / "meta.json");
    fs::create_directories(repo / "objects" / "00");
    ASSERT_EQ(::mkfifo((repo / "objects" / "00" / std::string(126, '0')).c_str(), 0644), 0);
    auto r = cfsctl_within(repo, {"fsck"});
    EXPECT_EQ(r.status, 1) << r.out << r.err;
    EXPECT_TRUE(has(r, "fsck: object-open-failed: objects/00/" + std::string(126, '0'))) << r.out;
    restore();
  }
  {  // a symlinked objects/xx: fsck reports it and checks the rest; gc refuses it
    SCOPED_TRACE("a symlinked objects/xx");
    std::string sub = file_object.substr(8, 2);
    fs::rename(repo / "objects" / sub, tmp / "moved");
    fs::create_directory_symlink(tmp / "moved", repo / "objects" / sub);
    auto r = cfsctl_within(repo, {"fsck"});
    EXPECT_EQ(r.status, 1) << r.out << r.err;
    EXPECT_TRUE(has(r, "fsck: unexpected-file-type: objects/" + sub + ": not a directory")) << r.out;
    EXPECT_TRUE(has(r, "fsck: image-missing-object: images/" + a)) << r.out;
    EXPECT_TRUE(has(r, "images: 1/1 ok")) << r.out;
    r = cfsctl_within(repo, {"gc"});
    EXPECT_EQ(r.status, 1);
    EXPECT_TRUE(has(r, "objects/" + sub)) << r.err;
    EXPECT_TRUE(fs::exists(tmp / "moved" / file_object.substr(11))) << "gc removed something beyond the link";
    fs::remove(repo / "objects" / sub);
    fs::remove_all(tmp / "moved");
    restore();
  }
}

// Links that lead elsewhere: an images/<A> link to another image's object or out of the
// repository, a streams/ link out of it, refs to something that is not images/<ID>. fsck
// reports each; a ref is never followed to what it does not name (no mount of an unchecked
// file), and an image whose images/<ID> link is foreign is refused.
TEST(Cfsctl, FsckFindsForeignLinksAndRefsOnlyNameImages) {
  test::TempDir tmp;
  auto [repo, a, b] = two_images(tmp);
  ASSERT_EQ(cfsctl(repo, {"fsck"}).status, 0);
  auto object_of = [](const std::string& hex) { return "objects/" + hex.substr(0, 2) + "/" + hex.substr(2); };
  auto relink = [&](const std::string& link, const std::string& target) {
    fs::remove(repo / link);
    fs::create_directories((repo / link).parent_path());
    fs::create_symlink(target, repo / link);
  };
  auto fsck_reports = [&](const std::string& what) {
    auto r = cfsctl(repo, {"fsck"});
    EXPECT_EQ(r.status, 1) << r.out;
    EXPECT_NE(r.out.find(what), std::string::npos) << r.out;
  };
  // images/<a> -> b's object: fsck names it, and a (by ref or ID) is refused, not b served.
  relink("images/" + a, "../" + object_of(b));
  fsck_reports("fsck: link-target-invalid: images/" + a + ": ../" + object_of(b) + " is not its object ../" + object_of(a));
  for (const std::string& name : {std::string("a"), a}) {
    auto r = cfsctl(repo, {"image-objects", name});
    EXPECT_EQ(r.status, 1) << name << ": " << r.out;
    EXPECT_NE(r.err.find("images/" + a + " does not link to its object"), std::string::npos) << r.err;
  }
  auto gc = cfsctl(repo, {"gc"});
  EXPECT_EQ(gc.status, 1);
  EXPECT_NE(gc.err.find("images/" + a + " does not link to its object"), std::string::npos) << gc.err;
  EXPECT_NE(gc.err.find("nothing removed"), std::string::npos) << gc.err;
  // ... or out of the repository, to a copy of a's object.
  fs::copy_file(repo / object_of(a), tmp / "outside");
  relink("images/" + a, (tmp / "outside").string());
  fsck_reports("fsck: link-target-invalid: images/" + a + ": " + (tmp / "outside").string());
  relink("images/" + a, "../" + object_of(a));
  ASSERT_EQ(cfsctl(repo, {"fsck"}).status, 0);
  // A stream link out of the repository.
  relink("streams/oci-layer-sha256:x", (tmp / "outside").string());
  fsck_reports("fsck: link-target-invalid: streams/oci-layer-sha256:x: " + (tmp / "outside").string());
  fs::remove(repo / "streams" / "oci-layer-sha256:x");
  // Refs to an object (a file whose name is not an image ID), to an image by an absolute path,
  // or to a file out of the repository: reported, and refused by name.
  for (const std::string& target : {"../../" + object_of(b), (repo / "images" / b).string(), (tmp / "outside").string()}) {
    SCOPED_TRACE(target);
    relink("images/refs/x", target);
    fsck_reports("fsck: link-target-invalid: images/refs/x: " + target);
    auto gc = cfsctl(repo, {"gc"});
    EXPECT_EQ(gc.status, 1);
    EXPECT_NE(gc.err.find("images/refs/x does not link to an entry of images/"), std::string::npos) << gc.err;
    for (const char* name : {"x", "refs/x"}) {
      auto r = cfsctl(repo, {"image-objects", name});
      EXPECT_EQ(r.status, 1) << name << ": " << r.out;
      EXPECT_NE(r.err.find("images/refs/x does not link to an image ID"), std::string::npos) << r.err;
      r = cfsctl(repo, {"dump-files", name, "/usr"});
      EXPECT_EQ(r.status, 1) << name << ": " << r.out;
    }
  }
  fs::remove(repo / "images" / "refs" / "x");
  // A nested ref is spelled with one "../" per level; a name with ".." is refused.
  relink("images/refs/n/m", "../../" + b);
  EXPECT_EQ(cfsctl(repo, {"fsck"}).status, 0);
  EXPECT_EQ(cfsctl(repo, {"image-objects", "refs/n/m"}).out, cfsctl(repo, {"image-objects", b}).out);
  relink("images/refs/n/m", "../" + b);
  fsck_reports("fsck: link-target-invalid: images/refs/n/m: ../" + b);
  auto r = cfsctl(repo, {"image-objects", "refs/../refs/a"});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("invalid name 'refs/../refs/a'"), std::string::npos) << r.err;
  // Nor is a ref written out of images/refs/, or anything stored for it.
  auto before = object_files(repo);
  for (const std::vector<std::string>& args : {std::vector<std::string>{"create-image", (tmp / "a").string(), "../../../evil"},
                                               {"import-image", "x/../../../../evil"}}) {
    r = cfsctl(repo, args);
    EXPECT_EQ(r.status, 1) << args[0];
    EXPECT_NE(r.err.find("invalid name"), std::string::npos) << r.err;
  }
  EXPECT_FALSE(fs::is_symlink(tmp / "evil"));
  EXPECT_EQ(object_files(repo), before);
}

}  // namespace
}  // namespace cfs
