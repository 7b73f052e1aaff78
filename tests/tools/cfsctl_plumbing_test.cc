// cfsctl cat, oci layer, oci import-layer, oci copy and the seal check of oci fsck, with local
// OCI layouts: round trips (a pulled layer reassembles to its tar; importing that tar gives the
// same stream; a copy gives the same image ID and shares objects), outputs and exit codes.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "support/oci_image.h"
#include "support/support.h"

namespace cfs {
namespace {

namespace fs = test::fs;
using test::cfsctl;

// composefs-rs's pinned ID of the conformance layer's image (cfsctl_oci_test.cc).
const std::string kV1Sha512 =
    "d06f1f6a73f62ed48e05ce9442ff045cdf2a9f5ba1ec623795de3d6177a253d91076459795d94f55d8c3d71dab458b"
    "b3fc0071255a50c0a4896d86ffdc870b9a";

// A layer with a file kept as an object (over 64 bytes) and every kind of entry.
std::string object_layer() {
  return test::make_tar({test::dir("./"), test::dir("usr/"), test::dir("etc/"),
                         test::file("etc/big", std::string(5000, 'b')),
                         test::file("etc/small", "s"), test::symlink("etc/link", "big"),
                         test::hardlink("etc/again", "etc/big")});
}

fs::path pulled(const test::TempDir& tmp, const std::string& name,
                const std::vector<std::string>& tars,
                const std::map<std::string, std::string>& labels = {}) {
  std::vector<test::Layer> layers;
  for (const std::string& t : tars) layers.push_back({t});
  test::write_layout(tmp / ("layout-" + name), layers, "latest", labels);
  fs::path repo = test::init_insecure_repo(tmp / name);
  auto r = cfsctl(repo, {"oci", "pull", "oci:" + (tmp / ("layout-" + name)).string(), "img"});
  EXPECT_EQ(r.status, 0) << r.err;
  return repo;
}

std::size_t lines(const std::string& s) {
  return static_cast<std::size_t>(std::count(s.begin(), s.end(), '\n'));
}

TEST(CfsctlPlumbing, CatAndLayerGiveBackTheTar) {
  test::TempDir tmp;
  std::string tar = object_layer();
  std::string diff_id = test::sha256_digest(tar);
  fs::path repo = pulled(tmp, "repo", {tar});
  auto r = cfsctl(repo, {"cat", "oci-layer-" + diff_id});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(r.out == tar) << "cat differs from the layer's tar (" << r.out.size()
                            << " bytes, not " << tar.size() << ")";
  r = cfsctl(repo, {"oci", "layer", diff_id});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(r.out == tar);
  // A ref below streams/refs/ is followed to its stream: a tag's is the manifest as pulled.
  r = cfsctl(repo, {"cat", "refs/oci/img"});
  ASSERT_EQ(r.status, 0) << r.err;
  std::string manifest = cfsctl(repo, {"oci", "inspect", "img", "--manifest"}).out;
  EXPECT_EQ(r.out + "\n", manifest);

  r = cfsctl(repo, {"oci", "layer", diff_id, "--json"});
  ASSERT_EQ(r.status, 0) << r.err;
  for (std::string field :
       {"\"diffId\": \"" + diff_id + "\"", std::string("\"size\": ") + std::to_string(tar.size()),
        std::string("\"entryCount\": 7"), std::string("\"externalObjects\": 1"),
        std::string("\"externalSize\": 5000"),
        std::string("\"inlineSize\": ") + std::to_string(tar.size() - 5000)}) {
    EXPECT_NE(r.out.find(field), std::string::npos) << field << "\n" << r.out;
  }
  r = cfsctl(repo, {"oci", "layer", diff_id, "--dumpfile"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(lines(r.out), 7U) << r.out;
  EXPECT_EQ(r.out.substr(0, r.out.find('\n')), "- 0 40755 1 0 0 0 1234567890.0 - - -");
  EXPECT_NE(r.out.find("/etc/small 1 100644 1 0 0 0 1234567890.0 - s -\n"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("/etc/link 3 120777 1 0 0 0 1234567890.0 big - -\n"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("/etc/again 0 @120000 - - - - 0.0 /etc/big - -\n"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("/etc/big 5000 100644 1 0 0 0 1234567890.0 "), std::string::npos) << r.out;

  // Errors: one line, exit 1; usage errors exit 2.
  r = cfsctl(repo, {"oci", "layer", "sha256:" + std::string(64, '0')});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "Error: Layer sha256:" + std::string(64, '0') + " not found\n");
  r = cfsctl(repo, {"cat", "oci-layer-nothing"});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(lines(r.err), 1U) << r.err;
  EXPECT_NE(r.err.find("stream oci-layer-nothing not found"), std::string::npos) << r.err;
  EXPECT_EQ(cfsctl(repo, {"cat", "../meta.json"}).status, 1);
  EXPECT_EQ(cfsctl(repo, {"oci", "layer", diff_id, "--json", "--dumpfile"}).status, 2);
  EXPECT_EQ(cfsctl(repo, {"oci", "layer", "not-a-digest"}).status, 2);
}

TEST(CfsctlPlumbing, ImportLayerGivesThePulledStream) {
  test::TempDir tmp;
  std::string tar = object_layer();
  std::string diff_id = test::sha256_digest(tar);
  fs::path pulled_repo = pulled(tmp, "pulled", {tar});
  std::string json = cfsctl(pulled_repo, {"oci", "layer", diff_id, "--json"}).out;
  std::size_t at = json.find("\"verity\": \"") + 11;
  std::string verity = json.substr(at, json.find('"', at) - at);
  ASSERT_EQ(verity.size(), 128U) << json;

  fs::path repo = test::init_insecure_repo(tmp / "repo");
  // A tar that is not the diff_id's: refused, nothing linked.
  auto r = cfsctl(repo, {"oci", "import-layer", diff_id}, test::conformance_layer());
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err.substr(0, r.err.find('\n')), "Error: layer " + diff_id);
  EXPECT_NE(
      r.err.find("Caused by:\n    corrupt image: its uncompressed digest is " +
                 test::sha256_digest(test::conformance_layer()) + ", not the diff_id " + diff_id + "\n"),
      std::string::npos)
      << r.err;
  EXPECT_FALSE(fs::exists(repo / "streams" / ("oci-layer-" + diff_id)));
  EXPECT_EQ(cfsctl(repo, {"oci", "import-layer", "sha256:short"}, tar).status, 2);

  r = cfsctl(repo, {"oci", "import-layer", diff_id, "mylayer"}, tar);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "sha512:" + verity + "\n");
  EXPECT_TRUE(cfsctl(repo, {"cat", "refs/mylayer"}).out == tar);
  EXPECT_TRUE(cfsctl(repo, {"oci", "layer", diff_id}).out == tar);
  // Again: already there, stdin not read.
  r = cfsctl(repo, {"oci", "import-layer", diff_id}, "");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "sha512:" + verity + "\n");
  EXPECT_EQ(cfsctl(repo, {"fsck"}).status, 0);
}

// GNU tar's own format ("ustar  " magic, long names and link targets in ././@LongLink
// entries), as `tar --format=gnu` writes it: the names come through whole.
TEST(CfsctlPlumbing, GnuTarLongNamesImport) {
  test::TempDir tmp;
  std::string dir(120, 'd'), file(150, 'f'), target(200, 't');
  fs::create_directories(tmp / "tree" / dir);
  test::write_file(tmp / "tree" / dir / file, "long");
  fs::create_symlink(target, tmp / "tree/link");
  ASSERT_EQ(test::run({"tar", "--format=gnu", "-C", (tmp / "tree").string(), "-cf", (tmp / "gnu.tar").string(), dir, "link"}).status, 0);
  std::string tar = test::read_file(tmp / "gnu.tar");
  ASSERT_NE(tar.find("././@LongLink"), std::string::npos);
  ASSERT_EQ(tar.substr(257, 8), std::string("ustar  \0", 8));
  std::string diff_id = test::sha256_digest(tar);
  fs::path repo = test::init_insecure_repo(tmp / "repo");
  auto r = cfsctl(repo, {"oci", "import-layer", diff_id}, tar);
  ASSERT_EQ(r.status, 0) << r.err;
  std::string dump = cfsctl(repo, {"oci", "layer", diff_id, "--dumpfile"}).out;
  EXPECT_NE(dump.find("/" + dir + "/" + file + " 4 "), std::string::npos) << dump;
  EXPECT_NE(dump.find("/link " + std::to_string(target.size()) + " 120777"), std::string::npos) << dump;
  EXPECT_NE(dump.find(" " + target + " - -"), std::string::npos) << dump;
  EXPECT_TRUE(cfsctl(repo, {"oci", "layer", diff_id}).out == tar);
}

ino_t inode(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
  return st.st_ino;
}

fs::path object_of(const fs::path& repo, const std::string& hex) {
  return repo / "objects" / hex.substr(0, 2) / hex.substr(2);
}

TEST(CfsctlPlumbing, CopyGivesTheSameImageAndSharesObjects) {
  CFS_REQUIRE(::geteuid() == 0, "--zerocopy hard-links by descriptor: CAP_DAC_READ_SEARCH");
  test::TempDir tmp;
  std::string tar = object_layer();
  fs::path from = pulled(tmp, "from", {test::conformance_layer(), tar});
  std::string id = cfsctl(from, {"oci", "compute-id", "img"}).out;
  std::string big = cfsctl(from, {"oci", "layer", test::sha256_digest(tar), "--dumpfile"}).out;
  std::size_t at = big.find("/etc/big ");
  std::string line = big.substr(at, big.find('\n', at) - at);
  std::string big_hex = line.substr(line.rfind(' ') + 1);
  ASSERT_EQ(big_hex.size(), 128U) << line;

  fs::path shared = test::init_insecure_repo(tmp / "shared");
  auto r = cfsctl(shared,
                  {"oci", "copy", "img", "--from", from.string(), "--name", "copy", "--zerocopy"});
  ASSERT_EQ(r.status, 0) << r.err;
  std::string manifest_digest = cfsctl(from, {"oci", "inspect", "img", "--manifest"}).out;
  EXPECT_EQ(r.out.substr(0, r.out.find('\n')),
            "Copied image img from " + from.string() + " to destination repo, tagged as copy");
  EXPECT_NE(r.out.find("\nManifest digest: sha256:"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\nConfig verity:   "), std::string::npos) << r.out;
  EXPECT_EQ(cfsctl(shared, {"oci", "compute-id", "copy"}).out, id);
  EXPECT_NE(cfsctl(shared, {"oci", "inspect", "copy"})
                .out.find("\"composefs_erofs\": \"" + id.substr(0, 128)),
            std::string::npos);
  EXPECT_EQ(inode(object_of(shared, big_hex)), inode(object_of(from, big_hex)))
      << "--zerocopy shares the inode (ext4 cannot reflink)";
  EXPECT_EQ(cfsctl(shared, {"oci", "fsck"}).status, 0);

  // Without --zerocopy: a copy of its own, the same image; by manifest digest, untagged.
  std::string digest = cfsctl(from, {"oci", "images", "--json"}).out;
  at = digest.find("\"manifest_digest\": \"") + 20;
  digest = digest.substr(at, 71);
  fs::path copied = test::init_insecure_repo(tmp / "copied");
  r = cfsctl(copied, {"oci", "copy", "@" + digest, "--from", from.string()});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out.substr(0, r.out.find('\n')),
            "Copied image @" + digest + " from " + from.string() + " to destination repo");
  EXPECT_EQ(cfsctl(copied, {"oci", "inspect", "img"}).status, 1) << "no tag without --name";
  EXPECT_TRUE(fs::exists(copied / "images" / id.substr(0, 128)));
  EXPECT_TRUE(fs::exists(object_of(copied, big_hex)));

  // Another hash algorithm: the layers are imported again from their tars; --zerocopy refused.
  fs::path sha256 = test::init_insecure_repo(tmp / "sha256", "fsverity-sha256-12");
  r = cfsctl(sha256,
             {"oci", "copy", "img", "--from", from.string(), "--name", "img", "--zerocopy"});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err,
            "Error: --zerocopy requires matching hash algorithms; source uses sha512 but "
            "destination uses sha256\n");
  EXPECT_FALSE(fs::exists(sha256 / "streams" / "refs"));
  r = cfsctl(sha256, {"oci", "copy", "img", "--from", from.string(), "--name", "img"});
  ASSERT_EQ(r.status, 0) << r.err;
  fs::path direct = test::init_insecure_repo(tmp / "direct", "fsverity-sha256-12");
  ASSERT_EQ(cfsctl(direct, {"oci", "pull", "oci:" + (tmp / "layout-from").string(), "img"}).status,
            0);
  EXPECT_EQ(cfsctl(sha256, {"oci", "compute-id", "img"}).out,
            cfsctl(direct, {"oci", "compute-id", "img"}).out);
  EXPECT_TRUE(cfsctl(sha256, {"oci", "layer", test::sha256_digest(tar)}).out == tar);

  // Errors.
  r = cfsctl(copied, {"oci", "copy", "nothing", "--from", from.string()});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "Error: image not found: nothing\n");
  EXPECT_EQ(cfsctl(copied, {"oci", "copy", "img"}).status, 2);
  r = cfsctl(copied, {"oci", "copy", "img", "--from", (tmp / "none").string()});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("opening source repository"), std::string::npos) << r.err;
}

TEST(CfsctlPlumbing, FsckChecksTheSeal) {
  test::TempDir tmp;
  fs::path sealed =
      pulled(tmp, "sealed", {test::conformance_layer()}, {{"containers.composefs.fsverity", kV1Sha512}});
  ASSERT_EQ(cfsctl(sealed, {"oci", "compute-id", "img"}).out, kV1Sha512 + "\n");
  auto r = cfsctl(sealed, {"oci", "fsck"});
  EXPECT_EQ(r.status, 0) << r.out << r.err;
  std::string wrong(128, 'e');
  fs::path bad =
      pulled(tmp, "bad", {test::conformance_layer()}, {{"containers.composefs.fsverity", wrong}});
  r = cfsctl(bad, {"oci", "fsck"});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.out.find("oci images: 0/1 ok"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("fsck: seal-image-missing: img: " + wrong + ": "), std::string::npos)
      << r.out;
  EXPECT_EQ(r.err, "Error: OCI integrity check failed\n");
}

// On a terminal (script(1) gives one) a pull draws a line per layer on stderr, erased at the
// end so the summary stays; a layer already stored is "skipped"; --quiet draws nothing.
TEST(CfsctlPlumbing, PullShowsALinePerLayerOnATerminal) {
  CFS_REQUIRE(fs::exists("/usr/bin/script"), "script(1) (util-linux) runs the pull on a terminal");
  test::TempDir tmp;
  test::WrittenImage w = test::write_layout(tmp / "layout", {{object_layer()}}, "latest");
  fs::path repo = test::init_insecure_repo(tmp / "repo");
  auto pull = [&](const std::string& extra) {
    std::string cmd = test::tool("cfsctl").string() + " --repo " + repo.string() + " oci pull " +
                      extra + " oci:" + (tmp / "layout").string() + " img";
    return test::run({"script", "-qec", cmd, "/dev/null"});
  };
  std::string blob = "Copying blob " + w.blob_digests[0].substr(7, 12) + " ";
  auto r = pull("");
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_NE(r.out.find(blob), std::string::npos) << r.out;
  std::size_t erased = r.out.find("\033[1A\033[J");
  ASSERT_NE(erased, std::string::npos) << r.out;
  EXPECT_LT(erased, r.out.find("manifest " + w.manifest_digest))
      << "the lines are gone before the summary";
  r = pull("");
  EXPECT_NE(r.out.find(blob + "skipped: already exists"), std::string::npos) << r.out;
  r = pull("--quiet");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(r.out.find("Copying blob"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("manifest " + w.manifest_digest), std::string::npos) << r.out;
}

}  // namespace
}  // namespace cfs
