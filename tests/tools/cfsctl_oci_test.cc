// cfsctl oci with local sources (OCI layouts, docker archives made by tests/support/oci_image):
// composefs-rs's pinned image IDs, outputs and exit codes, tags and gc, hostile layers, and pulls
// killed at random moments. No root, no network (the registry tests are integration tests).
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <random>
#include <set>
#include <thread>

#include "support/oci_image.h"
#include "support/support.h"

extern char** environ;

namespace cfs {
namespace {

namespace fs = test::fs;
using test::run;
using test::tool;

const std::string kV1Sha512 =
    "d06f1f6a73f62ed48e05ce9442ff045cdf2a9f5ba1ec623795de3d6177a253d91076459795d94f55d8c3d71dab458bb3fc0071255a50c0a4896d86ffdc870b9a";
const std::string kV2Sha512 =  // composefs-rs's test_oci_pull_and_inspect pins it (a V2 repository)
    "f7684c21050615c02cec250e0c7d4118fb0ff6340af5039e06f2f372a7614fff25dfd38cf7f28ad67d8b86e86371b7deafa9ae4bf543630322aee6196417de92";

using test::cfsctl;

// The spec's two-layer model vector: an opaque whiteout, files added under a lower directory.
std::vector<std::string> model_layers() {
  return {test::make_tar({test::dir("usr/", 1000), test::file("usr/a", std::string(100, 'A'), 1000), test::dir("etc/", 1000),
                          test::file("etc/x", "x", 1000), test::dir("etc/sub/", 1000), test::file("etc/sub/y", "y", 1000)}),
          test::make_tar({test::file("usr/b", std::string(100, 'B'), 2000), test::file("etc/.wh..wh..opq", "", 2000),
                          test::file("etc/z", "z", 2000)})};
}

std::set<std::string> object_files(const fs::path& repo) {
  std::set<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(repo / "objects")) {
    if (e.is_regular_file()) out.insert(fs::relative(e.path(), repo / "objects").string());
  }
  return out;
}

TEST(CfsctlOci, PinnedImageIdsFromALayout) {
  test::TempDir tmp;
  test::WrittenImage img = test::write_layout(tmp / "layout", {{test::conformance_layer()}}, "latest");
  fs::path repo = test::init_insecure_repo(tmp / "repo");
  auto r = cfsctl(repo, {"oci", "pull", "oci:" + (tmp / "layout").string() + ":latest", "test-image"});
  ASSERT_EQ(r.status, 0) << r.err;
  std::istringstream lines(r.out);
  std::vector<std::string> l;
  for (std::string s; std::getline(lines, s);) l.push_back(s);
  ASSERT_EQ(l.size(), 5U) << r.out;
  EXPECT_EQ(l[0], "manifest " + img.manifest_digest);
  EXPECT_EQ(l[1], "config   " + img.config_digest);
  EXPECT_EQ(l[2].substr(0, 9), "verity   ");
  EXPECT_EQ(l[2].size(), 9U + 128U);
  EXPECT_EQ(l[3], "tagged   test-image");
  EXPECT_EQ(l[4], "objects  0 new + 0 already present objects; 0 B stored, 22 B inlined");
  EXPECT_EQ(cfsctl(repo, {"oci", "compute-id", "test-image"}).out, kV1Sha512 + "\n");
  EXPECT_EQ(cfsctl(repo, {"oci", "compute-id", "@" + img.config_digest}).out, kV1Sha512 + "\n");
  // The image is stored and linked under that ID, and named by the config.
  EXPECT_TRUE(fs::is_symlink(repo / "images" / kV1Sha512));
  auto inspect = cfsctl(repo, {"oci", "inspect", "test-image"});
  EXPECT_NE(inspect.out.find("\"composefs_erofs\": \"" + kV1Sha512 + "\""), std::string::npos) << inspect.out;
  // The tree composefs-rs builds: root from /usr, the hard link kept.
  auto dump = cfsctl(repo, {"oci", "dump", "test-image"});
  EXPECT_EQ(dump.out,
            "/ 0 40755 1 0 0 0 1234567890.0 - - -\n"
            "/hello-link.txt 22 100644 2 0 0 0 1234567890.0 - hello\\x20from\\x20test\\x20layer\\n -\n"
            "/hello.txt 0 @120000 - - - - 0.0 /hello-link.txt - -\n"
            "/usr 0 40755 1 0 0 0 1234567890.0 - - -\n") << dump.out;
  // SHA-256 repository: the model vector (checked against mkcomposefs 1.0.8 by the spec's author).
  std::vector<test::Layer> model;
  for (const std::string& t : model_layers()) model.push_back({t});
  test::WrittenImage m = test::write_layout(tmp / "model", model, "model");
  fs::path r256 = test::init_insecure_repo(tmp / "r256", "fsverity-sha256-12");
  r = cfsctl(r256, {"oci", "pull", "oci:" + (tmp / "model").string()});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("tagged   oci:" + (tmp / "model").string() + "\n"), std::string::npos) << "the tag defaults to IMAGE";
  EXPECT_NE(r.out.find("objects  2 new + 0 already present objects; 200 B stored, 3 B inlined"), std::string::npos) << r.out;
  EXPECT_EQ(cfsctl(r256, {"oci", "compute-id", "@" + m.config_digest}).out,
            "2ff68dbbe821ce1c27042d2e6c3e8d10379043509a223412b4f8bdeafcf2852d\n");
}

// Format V2 repositories: `init --erofs-version 2` pulls V2 images (config ref composefs.image)
// under composefs-rs's pinned V2 ID; meta.json's `extra: [2]` adds the V2 image beside the
// default V1 one; the global --erofs-version picks either for compute-id and inspect.
TEST(CfsctlOci, FormatV2Repositories) {
  test::TempDir tmp;
  test::WrittenImage img = test::write_layout(tmp / "layout", {{test::conformance_layer()}}, "latest");
  std::string source = "oci:" + (tmp / "layout").string() + ":latest";
  fs::path repo = tmp / "repo";
  ASSERT_EQ(cfsctl(repo, {"init", "--insecure", "--erofs-version", "2"}).status, 0);
  auto r = cfsctl(repo, {"oci", "pull", source, "test-image"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(fs::is_symlink(repo / "images" / kV2Sha512));
  EXPECT_FALSE(fs::exists(repo / "images" / kV1Sha512));
  EXPECT_EQ(cfsctl(repo, {"oci", "compute-id", "test-image"}).out, kV2Sha512 + "\n");
  EXPECT_EQ(cfsctl(repo, {"--erofs-version", "1", "oci", "compute-id", "test-image"}).out, kV1Sha512 + "\n");
  auto inspect = cfsctl(repo, {"oci", "inspect", "test-image"});
  EXPECT_NE(inspect.out.find("\"composefs_erofs\": \"" + kV2Sha512 + "\""), std::string::npos) << inspect.out;
  inspect = cfsctl(repo, {"--erofs-version", "1", "oci", "inspect", "test-image"});
  EXPECT_NE(inspect.out.find("\"composefs_erofs\": null"), std::string::npos) << "no V1 image: " << inspect.out;

  // Default V1 with V2 as an extra format: both images, each under its config ref.
  fs::path dual = test::init_insecure_repo(tmp / "dual");
  std::string meta = test::read_file(dual / "meta.json");
  std::string v1_only = "\"default\": 1\n";
  ASSERT_NE(meta.find(v1_only), std::string::npos) << meta;
  meta.replace(meta.find(v1_only), v1_only.size(), "\"default\": 1,\n    \"extra\": [2]\n");
  test::write_file(dual / "meta.json", meta);
  r = cfsctl(dual, {"oci", "pull", source, "test-image"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(fs::is_symlink(dual / "images" / kV1Sha512));
  EXPECT_TRUE(fs::is_symlink(dual / "images" / kV2Sha512));
  inspect = cfsctl(dual, {"--erofs-version", "2", "oci", "inspect", "test-image"});
  EXPECT_NE(inspect.out.find("\"composefs_erofs\": \"" + kV2Sha512 + "\""), std::string::npos) << inspect.out;
  inspect = cfsctl(dual, {"oci", "inspect", "test-image"});
  EXPECT_NE(inspect.out.find("\"composefs_erofs\": \"" + kV1Sha512 + "\""), std::string::npos) << inspect.out;

  // A format meta.json names that no writer knows is refused when the repository is opened.
  meta.replace(meta.find("[2]"), 3, "[3]");
  test::write_file(dual / "meta.json", meta);
  r = cfsctl(dual, {"oci", "images"});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("unknown EROFS format version 3"), std::string::npos) << r.err;
}

TEST(CfsctlOci, EveryCompressionAndDockerArchivesGiveTheSameImage) {
  test::TempDir tmp;
  std::vector<std::string> tars = model_layers();
  fs::path repo = test::init_insecure_repo(tmp / "repo", "fsverity-sha256-12");
  std::set<std::string> ids;
  for (std::string comp : {"gzip", "zstd", "none"}) {
    fs::path dir = tmp / ("layout-" + comp);
    test::write_layout(dir, {{tars[0], comp}, {tars[1], comp}}, "t");
    auto r = cfsctl(repo, {"oci", "pull", "oci:" + dir.string() + ":t", comp});
    ASSERT_EQ(r.status, 0) << comp << ": " << r.err;
    ids.insert(cfsctl(repo, {"oci", "compute-id", comp}).out);
  }
  test::write_docker_archive(tmp / "archive.tar", tars, "example.com/model:1");
  auto r = cfsctl(repo, {"oci", "pull", "docker-archive:" + (tmp / "archive.tar").string() + ":example.com/model:1", "archive"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("objects  0 new + 0 already present objects"), std::string::npos) << "layers known by diff_id: " << r.out;
  ids.insert(cfsctl(repo, {"oci", "compute-id", "archive"}).out);
  fs::path fresh = test::init_insecure_repo(tmp / "fresh", "fsverity-sha256-12");
  r = cfsctl(fresh, {"oci", "pull", "docker-archive:" + (tmp / "archive.tar").string(), "archive"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("objects  2 new + 0 already present objects"), std::string::npos) << r.out;
  ids.insert(cfsctl(fresh, {"oci", "compute-id", "archive"}).out);
  EXPECT_EQ(ids, std::set<std::string>{"2ff68dbbe821ce1c27042d2e6c3e8d10379043509a223412b4f8bdeafcf2852d\n"});
}

TEST(CfsctlOci, MultiMemberAndMultiFrameLayers) {
  test::TempDir tmp;
  std::vector<std::string> tars = model_layers();
  fs::path dir = tmp / "layout";
  fs::create_directories(dir / "blobs" / "sha256");
  // Hand-written layout: layer 1 as 5 gzip members, layer 2 as zstd frames with skippable frames.
  std::string gz = test::gzip(tars[0], 5), zs = test::zstd(tars[1], 4, true);
  auto put = [&](const std::string& b) {
    std::string d = test::sha256_digest(b);
    test::write_file(dir / "blobs" / "sha256" / d.substr(7), b);
    return d;
  };
  std::string config = "{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" +
                       test::sha256_digest(tars[0]) + "\",\"" + test::sha256_digest(tars[1]) + "\"]}}";
  std::string manifest = "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"" +
                         put(config) + "\",\"size\":" + std::to_string(config.size()) +
                         "},\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"" + put(gz) +
                         "\",\"size\":" + std::to_string(gz.size()) +
                         "},{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+zstd\",\"digest\":\"" + put(zs) +
                         "\",\"size\":" + std::to_string(zs.size()) + "}]}";
  std::string md = put(manifest);
  test::write_file(dir / "index.json", "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
                                      "\"digest\":\"" + md + "\",\"size\":" + std::to_string(manifest.size()) + "}]}");
  fs::path repo = test::init_insecure_repo(tmp / "repo", "fsverity-sha256-12");
  auto r = cfsctl(repo, {"oci", "pull", "oci:" + dir.string(), "multi"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(cfsctl(repo, {"oci", "compute-id", "multi"}).out, "2ff68dbbe821ce1c27042d2e6c3e8d10379043509a223412b4f8bdeafcf2852d\n");
}

// A multi-platform image: index.json names an index whose entries are per platform (one an
// attestation); the pull takes this machine's (amd64 here; the test picks the host's name).
TEST(CfsctlOci, ManifestListsResolveToThisPlatform) {
  test::TempDir tmp;
  fs::path dir = tmp / "layout";
  test::WrittenImage ours = test::write_layout(dir, {{test::conformance_layer()}}, "ours");
  test::WrittenImage other = test::write_layout(dir, {{model_layers()[0]}}, "other");
  std::string arch = run({"uname", "-m"}).out == "aarch64\n" ? "arm64" : "amd64";
  std::string wrong = arch == "amd64" ? "arm64" : "amd64";
  auto entry = [&](const std::string& digest, const std::string& os, const std::string& a) {
    std::string m = test::read_file(dir / "blobs" / "sha256" / digest.substr(7));
    return "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"" + digest + "\",\"size\":" +
           std::to_string(m.size()) + ",\"platform\":{\"os\":\"" + os + "\",\"architecture\":\"" + a + "\"}}";
  };
  std::string index = "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":[" +
                      entry(other.manifest_digest, "unknown", "unknown") + "," + entry(other.manifest_digest, "linux", wrong) + "," +
                      entry(ours.manifest_digest, "linux", arch) + "]}";
  std::string index_digest = test::sha256_digest(index);
  test::write_file(dir / "blobs" / "sha256" / index_digest.substr(7), index);
  test::write_file(dir / "index.json", "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"application/vnd.oci.image.index.v1+json\","
                                      "\"digest\":\"" + index_digest + "\",\"size\":" + std::to_string(index.size()) +
                                      ",\"annotations\":{\"org.opencontainers.image.ref.name\":\"multi\"}}]}");
  fs::path repo = test::init_insecure_repo(tmp / "repo");
  auto r = cfsctl(repo, {"oci", "pull", "oci:" + dir.string() + ":multi", "multi"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("manifest " + ours.manifest_digest), std::string::npos) << r.out;
  EXPECT_EQ(cfsctl(repo, {"oci", "compute-id", "multi"}).out, kV1Sha512 + "\n");
  // No entry for this platform: a clear error.
  std::string none = "{\"schemaVersion\":2,\"manifests\":[" + entry(other.manifest_digest, "linux", wrong) + "]}";
  std::string none_digest = test::sha256_digest(none);
  test::write_file(dir / "blobs" / "sha256" / none_digest.substr(7), none);
  test::write_file(dir / "index.json", "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"application/vnd.oci.image.index.v1+json\","
                                      "\"digest\":\"" + none_digest + "\",\"size\":" + std::to_string(none.size()) + "}]}");
  r = cfsctl(repo, {"oci", "pull", "oci:" + dir.string(), "none"});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("no image for linux/" + arch + " in the index"), std::string::npos) << r.err;
}

TEST(CfsctlOci, TagsImagesInspectAndGc) {
  test::TempDir tmp;
  std::string base = test::make_tar({test::dir("usr/"), test::file("usr/shared", std::string(5000, 's'))});
  std::string only_a = test::make_tar({test::file("usr/a", std::string(3000, 'a'))});
  std::string only_b = test::make_tar({test::file("usr/b", std::string(3000, 'b'))});
  test::WrittenImage a = test::write_layout(tmp / "layout", {{base}, {only_a}}, "a");
  test::WrittenImage b = test::write_layout(tmp / "layout", {{base}, {only_b}}, "b");
  fs::path repo = test::init_insecure_repo(tmp / "repo");
  EXPECT_EQ(cfsctl(repo, {"oci", "images"}).out, "No images found\n");
  ASSERT_EQ(cfsctl(repo, {"oci", "pull", "oci:" + (tmp / "layout").string() + ":a", "a"}).status, 0);
  auto r = cfsctl(repo, {"oci", "pull", "oci:" + (tmp / "layout").string() + ":b", "b"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("objects  1 new + 0 already present objects; 2.93 KiB stored"), std::string::npos)
      << "the shared layer is not fetched again: " << r.out;
  auto images = cfsctl(repo, {"oci", "images"});
  EXPECT_NE(images.out.find("│ a    ┆ " + a.manifest_digest.substr(7, 12) + " ┆ amd64 ┆ 2      ┆ 0    │"), std::string::npos) << images.out;
  auto json = cfsctl(repo, {"oci", "images", "--json"});
  EXPECT_NE(json.out.find("\"manifest_digest\": \"" + b.manifest_digest + "\""), std::string::npos) << json.out;
  EXPECT_EQ(cfsctl(repo, {"oci", "inspect", "--manifest", "a"}).out,
            test::read_file(tmp / "layout" / "blobs" / "sha256" / a.manifest_digest.substr(7)) + "\n");
  EXPECT_EQ(cfsctl(repo, {"oci", "inspect", "--config", "@" + a.manifest_digest}).out,
            test::read_file(tmp / "layout" / "blobs" / "sha256" / a.config_digest.substr(7)) + "\n");
  EXPECT_EQ(cfsctl(repo, {"oci", "inspect", "--manifest", "--config", "a"}).status, 2);
  r = cfsctl(repo, {"oci", "tag", a.manifest_digest, "nested/name%"});
  EXPECT_EQ(r.out, "Tagged " + a.manifest_digest + " as nested/name%\n");
  EXPECT_TRUE(fs::is_symlink(repo / "streams" / "refs" / "oci" / "nested%2Fname%25"));
  EXPECT_EQ(fs::read_symlink(repo / "streams" / "refs" / "oci" / "a"), fs::path("../../oci-manifest-" + a.manifest_digest));
  EXPECT_EQ(cfsctl(repo, {"oci", "compute-id", "nested/name%"}).out, cfsctl(repo, {"oci", "compute-id", "a"}).out);
  EXPECT_EQ(cfsctl(repo, {"oci", "untag", "nested/name%"}).out, "Removed tag nested/name%\n");
  r = cfsctl(repo, {"oci", "untag", "nested/name%"});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("Failed to remove tag nested/name%"), std::string::npos) << r.err;

  // untag b + gc: what only b used goes, a stays whole.
  std::set<std::string> before = object_files(repo);
  std::string a_id = cfsctl(repo, {"oci", "compute-id", "a"}).out;
  ASSERT_EQ(cfsctl(repo, {"oci", "untag", "b"}).status, 0);
  r = cfsctl(repo, {"gc"});
  ASSERT_EQ(r.status, 0) << r.err;
  std::set<std::string> after = object_files(repo);
  EXPECT_LT(after.size(), before.size());
  // gone: b's file object, b's layer stream, its config and manifest (each object and stream), its image
  EXPECT_EQ(before.size() - after.size(), 7U) << r.out;
  EXPECT_FALSE(fs::exists(repo / "streams" / ("oci-layer-" + b.diff_ids[1])));
  EXPECT_TRUE(fs::exists(repo / "streams" / ("oci-layer-" + a.diff_ids[0])));
  EXPECT_EQ(cfsctl(repo, {"oci", "compute-id", "a"}).out, a_id);
  r = cfsctl(repo, {"oci", "fsck"});
  EXPECT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("oci images: 1/1 ok"), std::string::npos) << r.out;
  EXPECT_EQ(cfsctl(repo, {"fsck"}).status, 0);
}

// gc killed right after each of its unlinks in turn, while it removes an untagged image: fsck
// passes, pulling that image again succeeds (no layer is reused whose object is gone, no link
// is left to a removed object) and gives the same image, and the next gc completes the work.
TEST(CfsctlOci, GcKilledAtEveryUnlinkLeavesAConsistentRepository) {
  test::TempDir tmp;
  std::string base = test::make_tar({test::dir("usr/"), test::file("usr/shared", std::string(5000, 's'))});
  std::string only_b = test::make_tar({test::file("usr/b", std::string(3000, 'b')), test::file("usr/c", std::string(4000, 'c'))});
  test::write_layout(tmp / "layout", {{base}}, "a");
  test::WrittenImage b = test::write_layout(tmp / "layout", {{base}, {only_b}}, "b");
  fs::path pristine = test::init_insecure_repo(tmp / "pristine");
  for (const char* tag : {"a", "b"}) {
    ASSERT_EQ(cfsctl(pristine, {"oci", "pull", "oci:" + (tmp / "layout").string() + ":" + tag, tag}).status, 0);
  }
  std::string b_id = cfsctl(pristine, {"oci", "compute-id", "b"}).out;
  ASSERT_EQ(cfsctl(pristine, {"oci", "untag", "b"}).status, 0);
  const char* asan = std::getenv("ASAN_OPTIONS");  // the preloaded library comes before ASan's
  std::vector<std::string> env = {"LD_PRELOAD=" CFS_KILL_AT_UNLINK_LIB,
                                  "ASAN_OPTIONS=" + std::string(asan != nullptr ? asan : "") + ":verify_asan_link_order=0"};
  int kills = 0;
  for (int n = 1; n < 100; ++n) {
    SCOPED_TRACE("gc killed after unlink " + std::to_string(n));
    fs::path repo = tmp / "repo";
    fs::remove_all(repo);
    fs::copy(pristine, repo, fs::copy_options::recursive | fs::copy_options::copy_symlinks);
    env.push_back("CFS_KILL_AT_UNLINK=" + std::to_string(n));
    auto gc = cfsctl(repo, {"gc"}, "", env);
    env.pop_back();
    if (gc.status == 0) break;  // it finished before the n-th unlink
    ASSERT_EQ(gc.status, 128 + SIGKILL) << gc.err;
    ++kills;
    auto r = cfsctl(repo, {"fsck"});
    EXPECT_EQ(r.status, 0) << r.out;
    r = cfsctl(repo, {"oci", "pull", "oci:" + (tmp / "layout").string() + ":b", "b"});
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(cfsctl(repo, {"oci", "compute-id", "b"}).out, b_id);
    EXPECT_EQ(cfsctl(repo, {"oci", "fsck"}).status, 0);
    ASSERT_EQ(cfsctl(repo, {"oci", "untag", "b"}).status, 0);
    ASSERT_EQ(cfsctl(repo, {"gc"}).status, 0);
    r = cfsctl(repo, {"fsck"});
    EXPECT_EQ(r.status, 0) << r.out;
  }
  EXPECT_GE(kills, 10) << "b's image, streams and objects: each unlink is a crash point";
  // A layer whose link outlived its object (an older gc killed halfway) is fetched again.
  fs::path repo = tmp / "repo";
  fs::remove_all(repo);
  fs::copy(pristine, repo, fs::copy_options::recursive | fs::copy_options::copy_symlinks);
  fs::path layer = repo / "streams" / ("oci-layer-" + b.diff_ids[1]);
  ASSERT_TRUE(fs::remove(layer.parent_path() / fs::read_symlink(layer)));
  auto r = cfsctl(repo, {"oci", "pull", "oci:" + (tmp / "layout").string() + ":b", "b"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(cfsctl(repo, {"oci", "compute-id", "b"}).out, b_id);
  EXPECT_EQ(cfsctl(repo, {"oci", "fsck"}).status, 0);
}

TEST(CfsctlOci, FsckFindsBrokenImages) {
  test::TempDir tmp;
  test::WrittenImage img = test::write_layout(tmp / "layout", {{test::conformance_layer()}}, "latest");
  fs::path repo = test::init_insecure_repo(tmp / "repo");
  ASSERT_EQ(cfsctl(repo, {"oci", "pull", "oci:" + (tmp / "layout").string(), "good"}).status, 0);
  ASSERT_EQ(cfsctl(repo, {"oci", "tag", "sha256:" + std::string(64, 'a'), "dangling"}).status, 0);
  auto r = cfsctl(repo, {"oci", "fsck"});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.out.find("oci images: 1/2 ok"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("fsck: ref-resolve-failed: dangling: "), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("Error: OCI integrity check failed"), std::string::npos);
  auto j = cfsctl(repo, {"oci", "fsck", "--json"});
  EXPECT_EQ(j.status, 0);
  EXPECT_NE(j.out.find("\"images_corrupted\": 1"), std::string::npos) << j.out;
  ASSERT_EQ(cfsctl(repo, {"oci", "untag", "dangling"}).status, 0);
  EXPECT_EQ(cfsctl(repo, {"oci", "fsck", "good"}).status, 0);
  // The config object's bytes changed: the digest check names it.
  for (const auto& e : fs::recursive_directory_iterator(repo / "objects")) {
    if (e.is_regular_file() && test::read_file(e.path()) == test::read_file(tmp / "layout" / "blobs" / "sha256" / img.config_digest.substr(7))) {
      fs::permissions(e.path(), fs::perms::owner_write, fs::perm_options::add);
      std::ofstream(e.path(), std::ios::app) << " ";
    }
  }
  r = cfsctl(repo, {"oci", "fsck"});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.out.find("fsck: config-digest-mismatch: good: expected " + img.config_digest), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("object-digest-mismatch"), std::string::npos) << r.out;
}

// A pull that fails leaves nothing tagged and a repository that passes fsck.
void expect_refused(const fs::path& repo, const std::string& source, const std::string& message) {
  auto r = cfsctl(repo, {"oci", "pull", source, "hostile"});
  EXPECT_EQ(r.status, 1) << source << ": " << r.out;
  EXPECT_NE(r.err.find(message), std::string::npos) << r.err;
  if (r.err.find("Caused by") == std::string::npos) {  // cfsctl's own two-part errors aside
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "one line: " << r.err;
  }
  std::size_t first = r.err.find("layer sha256:");
  if (first != std::string::npos) {
    EXPECT_EQ(r.err.find("layer sha256:", first + 1), std::string::npos) << "the layer named twice: " << r.err;
  }
  EXPECT_FALSE(fs::exists(repo / "streams" / "refs" / "oci" / "hostile"));
  EXPECT_EQ(cfsctl(repo, {"fsck"}).status, 0);
}

TEST(CfsctlOci, HostileImagesAreRefused) {
  test::TempDir tmp;
  fs::path repo = test::init_insecure_repo(tmp / "repo");
  int n = 0;
  auto layout = [&](const std::vector<test::TarMember>& members) {
    fs::path dir = tmp / ("l" + std::to_string(n++));
    test::write_layout(dir, {{test::make_tar(members)}}, "t");
    return "oci:" + dir.string();
  };
  expect_refused(repo, layout({test::dir("usr/"), test::file("../../etc/passwd", "x")}), "a path leaves the layer ('..')");
  expect_refused(repo, layout({test::dir("usr/"), test::file("missing/x", "x")}), "/missing/x: its parent directory does not exist");
  expect_refused(repo, layout({test::dir("usr/"), test::hardlink("l", "nowhere")}), "/l: hard link to /nowhere, which does not exist");
  expect_refused(repo, layout({test::file("x", "no usr")}), "no /usr directory");
  expect_refused(repo, layout({test::dir("usr/"), test::file("usr/" + std::string(300, 'n'), "x")}), "a name longer than 255 bytes");
  // A NUL in a PAX linkpath (fsck, oci fsck and FUSE refused the image for ever); a PAX uid of
  // 2^32 (it wrapped to 0: a set-uid root file).
  test::TarMember nul_link = test::symlink("usr/l", "x");
  nul_link.pax = {{"linkpath", std::string("/etc/\0shadow", 12)}};
  expect_refused(repo, layout({test::dir("usr/"), nul_link}), "/usr/l: a link target with a NUL byte: '/etc/\\x00shadow'");
  test::TarMember setuid = test::file("usr/su", "x");
  setuid.mode = 04755;
  setuid.pax = {{"uid", "4294967296"}};
  expect_refused(repo, layout({test::dir("usr/"), setuid}), "/usr/su: uid 4294967296 out of range");
  // A blob that is not what its digest says; a diff_id that does not match; a truncated layer.
  std::string tar = test::make_tar({test::dir("usr/"), test::file("usr/big", std::string(100000, 'b'))});
  test::WrittenImage img = test::write_layout(tmp / "corrupt", {{tar}}, "t");
  fs::path blob = tmp / "corrupt" / "blobs" / "sha256" / img.blob_digests[0].substr(7);
  std::string good = test::read_file(blob);
  std::string bad = good;
  bad[9] ^= 1;  // gzip's OS byte: decompresses the same, but the blob's digest differs
  test::write_file(blob, bad);
  expect_refused(repo, "oci:" + (tmp / "corrupt").string(), "the blob's digest is");
  bad = good;
  bad[bad.size() / 2] ^= 0x40;  // inside the deflate data
  test::write_file(blob, bad);
  expect_refused(repo, "oci:" + (tmp / "corrupt").string(), "layer sha256:");
  test::write_file(blob, good.substr(0, good.size() / 2));
  expect_refused(repo, "oci:" + (tmp / "corrupt").string(), "truncated");
  test::write_file(blob, good + "more");
  expect_refused(repo, "oci:" + (tmp / "corrupt").string(), "the blob is larger than its descriptor says");
  std::vector<test::Layer> wrong = {{tar}};
  test::WrittenImage w = test::write_layout(tmp / "wrongdiff", wrong, "t");
  std::string config_path = (tmp / "wrongdiff" / "blobs" / "sha256" / w.config_digest.substr(7)).string();
  std::string config = test::read_file(config_path);
  config.replace(config.find(w.diff_ids[0]), 71, "sha256:" + std::string(64, '0'));
  std::string new_digest = test::sha256_digest(config);
  test::write_file((tmp / "wrongdiff" / "blobs" / "sha256" / new_digest.substr(7)).string(), config);
  std::string manifest_path = (tmp / "wrongdiff" / "blobs" / "sha256" / w.manifest_digest.substr(7)).string();
  std::string manifest = test::read_file(manifest_path);
  manifest.replace(manifest.find(w.config_digest), 71, new_digest);
  std::string new_manifest = test::sha256_digest(manifest);
  test::write_file((tmp / "wrongdiff" / "blobs" / "sha256" / new_manifest.substr(7)).string(), manifest);
  std::string index = test::read_file(tmp / "wrongdiff" / "index.json");
  index.replace(index.find(w.manifest_digest), 71, new_manifest);
  index.replace(index.find(std::to_string(test::read_file(manifest_path).size())), std::to_string(manifest.size()).size(),
                std::to_string(manifest.size()));
  test::write_file(tmp / "wrongdiff" / "index.json", index);
  expect_refused(repo, "oci:" + (tmp / "wrongdiff").string(), "not the diff_id");
  // A manifest whose bytes are not what the index names it by.
  test::WrittenImage named = test::write_layout(tmp / "renamed", {{tar}}, "t");
  std::string mpath = (tmp / "renamed" / "blobs" / "sha256" / named.manifest_digest.substr(7)).string();
  std::string mbytes = test::read_file(mpath);
  test::write_file(mpath, mbytes.substr(0, mbytes.size() - 1) + " }");
  expect_refused(repo, "oci:" + (tmp / "renamed").string(), "does not have that digest");
  // Invalid JSON and odd references.
  test::write_file(tmp / "wrongdiff" / "index.json", "{\"manifests\": [");
  expect_refused(repo, "oci:" + (tmp / "wrongdiff").string(), "invalid JSON");
  expect_refused(repo, "nothing", "Missing ':' in nothing");
  expect_refused(repo, "ftp:x", "Unknown transport 'ftp'");
  expect_refused(repo, "docker:x", "Missing // in docker:// in docker:x");
  expect_refused(repo, "oci:", "Invalid empty name in oci:");
  expect_refused(repo, "docker://Bad_Name", "invalid repository name");
  expect_refused(repo, "docker-daemon:x", "the docker-daemon: transport is not supported");
  expect_refused(repo, "containers-storage:[vfs@/x]img", "the vfs storage driver is not supported");
  expect_refused(repo, "containers-storage:[/x", "missing ']'");
  expect_refused(repo, "containers-storage:[" + tmp.path().string() + "]img", "no image img in containers-storage " + tmp.path().string());
  expect_refused(repo, "containers-storage:[" + tmp.path().string() + "]@xyz", "not an image ID: @xyz");
  expect_refused(repo, "oci-archive:" + (tmp / "missing.tar").string(), "No such file or directory");
  expect_refused(repo, "dir:" + tmp.path().string(), "manifest.json: No such file or directory");
  auto r = cfsctl(repo, {"oci", "pull", "--local-fetch", "sometimes", "containers-storage:x", "y"});
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_NE(r.err.find("sometimes"), std::string::npos) << r.err;
}

// Older `docker save` writes a repeated layer's <id>/layer.tar as a symlink to another member
// (skopeo reads such archives): followed inside the archive, relative to the member's
// directory, chains too; links that leave the archive or loop are refused.
TEST(CfsctlOci, DockerArchivesWithSymlinkedLayers) {
  test::TempDir tmp;
  std::vector<std::string> model = model_layers();
  std::vector<std::string> tars = {model[0], model[1], model[0], model[0]};
  fs::path repo = test::init_insecure_repo(tmp / "repo", "fsverity-sha256-12");
  test::write_layout(tmp / "layout", {{tars[0]}, {tars[1]}, {tars[2]}, {tars[3]}}, "t");
  ASSERT_EQ(cfsctl(repo, {"oci", "pull", "oci:" + (tmp / "layout").string(), "layout"}).status, 0);
  std::string id = cfsctl(repo, {"oci", "compute-id", "layout"}).out;
  test::write_docker_archive(tmp / "legacy.tar", tars, "example.com/legacy:1", {{2, "../0/layer.tar"}, {3, "./../2//layer.tar"}});
  fs::path fresh = test::init_insecure_repo(tmp / "fresh", "fsverity-sha256-12");
  auto r = cfsctl(fresh, {"oci", "pull", "docker-archive:" + (tmp / "legacy.tar").string(), "legacy"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(cfsctl(fresh, {"oci", "compute-id", "legacy"}).out, id);
  int n = 0;
  auto archive = [&](const std::map<std::size_t, std::string>& links) {
    fs::path file = tmp / ("hostile" + std::to_string(n++) + ".tar");
    test::write_docker_archive(file, tars, "example.com/legacy:1", links);
    return "docker-archive:" + file.string();
  };
  expect_refused(fresh, archive({{1, "../../etc/passwd"}}), "1/layer.tar: a symlink that leaves the archive (../../etc/passwd)");
  expect_refused(fresh, archive({{1, "/etc/passwd"}}), "1/layer.tar: a symlink that leaves the archive (/etc/passwd)");
  expect_refused(fresh, archive({{1, "../2/layer.tar"}, {2, "../1/layer.tar"}}), "1/layer.tar: a symlink loop");
  expect_refused(fresh, archive({{1, "../9/layer.tar"}}), "no member 9/layer.tar (a symlink from 1/layer.tar)");
}

// SIGKILL at random moments of pulls; afterwards fsck passes and a new pull completes, reusing
// what was stored.
TEST(CfsctlOci, KilledPullsLeaveAConsistentRepository) {
  test::TempDir tmp;
  std::vector<test::TarMember> files{test::dir("usr/")};
  std::mt19937 random(7);
  for (int i = 0; i < 3000; ++i) files.push_back(test::file("usr/f" + std::to_string(i), std::string(200 + random() % 20000, 'a' + i % 26)));
  std::vector<test::Layer> layers;
  for (int l = 0; l < 3; ++l) {
    std::vector<test::TarMember> part{files[0]};
    for (std::size_t i = 1 + static_cast<std::size_t>(l); i < files.size(); i += 3) part.push_back(files[i]);
    layers.push_back({test::make_tar(part)});
  }
  test::write_layout(tmp / "layout", layers, "t");
  fs::path repo = test::init_insecure_repo(tmp / "repo");
  std::string source = "oci:" + (tmp / "layout").string();
  auto full = run({tool("cfsctl").string(), "--repo", (tmp / "ref").string(), "init", "--insecure"});
  ASSERT_EQ(full.status, 0);
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_EQ(cfsctl(tmp / "ref", {"oci", "pull", source, "t"}).status, 0);
  auto duration = std::chrono::steady_clock::now() - t0;
  std::string id = cfsctl(tmp / "ref", {"oci", "compute-id", "t"}).out;
  for (int round = 0; round < 6; ++round) {
    std::vector<std::string> args = {tool("cfsctl").string(), "--repo", repo.string(), "oci", "pull", source, "t"};
    std::vector<char*> argv;
    for (std::string& s : args) argv.push_back(s.data());
    argv.push_back(nullptr);
    pid_t pid;
    posix_spawn_file_actions_t quiet;
    posix_spawn_file_actions_init(&quiet);
    posix_spawn_file_actions_addopen(&quiet, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    ASSERT_EQ(::posix_spawn(&pid, argv[0], &quiet, nullptr, argv.data(), environ), 0);
    posix_spawn_file_actions_destroy(&quiet);
    std::this_thread::sleep_for(duration * (static_cast<double>(random() % 100) / 100.0));
    ::kill(pid, SIGKILL);
    int status;
    ::waitpid(pid, &status, 0);
    auto f = cfsctl(repo, {"fsck"});
    EXPECT_EQ(f.status, 0) << "round " << round << ": " << f.out;
  }
  auto r = cfsctl(repo, {"oci", "pull", source, "t"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(cfsctl(repo, {"oci", "compute-id", "t"}).out, id);
  EXPECT_EQ(cfsctl(repo, {"oci", "fsck"}).status, 0);
}

}  // namespace
}  // namespace cfs
