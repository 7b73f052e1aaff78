// cfsctl oci pull and an image's referrers (a signature artifact whose subject is the image):
// the referrers API of tests/integration/fake_registry.py, the sha256-<hex> tag fallback on
// Debian's docker-registry (which has no referrers API), a referrer whose bytes lie, and
// registries with neither. What is stored is read by oci images / inspect and kept or dropped
// by gc as the image is.
#include <gtest/gtest.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "support/fake_registry.h"
#include "support/oci_image.h"
#include "support/registry.h"
#include "support/support.h"

namespace cfs {
namespace {

namespace fs = test::fs;
using json = nlohmann::json;
using test::run;
using test::tool;

constexpr const char* kEmptyType = "application/vnd.oci.empty.v1+json";
constexpr const char* kSigType = "application/vnd.example.signature.v1";

// A blob added to the layout; its digest.
std::string put_blob(const fs::path& layout, const std::string& bytes) {
  std::string digest = test::sha256_digest(bytes);
  test::write_file(layout / "blobs" / "sha256" / digest.substr(7), bytes);
  return digest;
}

struct Artifact {
  std::string manifest, digest, config_digest, blob_digest;
};

// A signature artifact (OCI 1.1: empty config, artifactType, one blob) whose subject is the
// layout's manifest `subject`, added to the layout's blobs (not to its index.json).
Artifact write_artifact(const fs::path& layout, const std::string& subject) {
  Artifact a;
  a.config_digest = put_blob(layout, "{}");
  std::string payload = "signature over " + subject;
  a.blob_digest = put_blob(layout, payload);
  std::string subject_bytes = test::read_file(layout / "blobs" / "sha256" / subject.substr(7));
  json m = {{"schemaVersion", 2},
            {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
            {"artifactType", kSigType},
            {"config", {{"mediaType", kEmptyType}, {"digest", a.config_digest}, {"size", 2}}},
            {"layers",
             {{{"mediaType", "application/octet-stream"},
               {"digest", a.blob_digest},
               {"size", payload.size()}}}},
            {"subject",
             {{"mediaType", "application/vnd.oci.image.manifest.v1+json"},
              {"digest", subject},
              {"size", subject_bytes.size()}}}};
  a.manifest = m.dump();
  a.digest = put_blob(layout, a.manifest);
  return a;
}

struct Fixture {
  test::TempDir tmp;
  fs::path layout = tmp / "layout";
  fs::path repo = tmp / "repo";
  test::WrittenImage image;
  Fixture() {
    image = test::write_layout(
        layout, {{test::make_tar({test::dir("usr/"), test::file("usr/a", "a")})}}, "t");
    test::init_insecure_repo(repo);
  }
  std::vector<std::string> env(const std::string& host) {
    test::write_file(tmp / "registries.conf",
                     "[[registry]]\nlocation = \"" + host + "\"\ninsecure = true\n");
    return {"CONTAINERS_REGISTRIES_CONF=" + (tmp / "registries.conf").string(),
            "REGISTRY_AUTH_FILE=/nonexistent", "HOME=" + tmp.path().string()};
  }
  test::Run pull(const std::string& host, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"oci", "pull", "--quiet"};
    args.insert(args.end(), extra.begin(), extra.end());
    args.push_back("docker://" + host + "/test/img:t");
    args.push_back("img");
    return test::cfsctl(repo, args, "", env(host));
  }
  test::Run cfsctl(std::vector<std::string> args) { return test::cfsctl(repo, std::move(args)); }
  json images() { return json::parse(cfsctl({"oci", "images", "--json"}).out)["images"]; }
  json referrers() { return json::parse(cfsctl({"oci", "inspect", "img"}).out)["referrers"]; }
  // The REFS column (the last) of the image's row in `oci images` ("│ img ┆ … ┆ 1 │").
  std::string refs_column() {
    std::string out = cfsctl({"oci", "images"}).out;
    std::string row = out.substr(out.find("│ img "));
    row = row.substr(0, row.find('\n'));
    row = row.substr(0, row.rfind("│"));
    row.erase(row.find_last_not_of(' ') + 1);
    return row.substr(row.rfind(' ') + 1);
  }
  fs::path link(const std::string& artifact) {
    return repo / "streams" / "refs" / "oci-referrers" / image.manifest_digest / artifact;
  }
};

TEST(Referrers, ApiAnswerIsStoredListedAndCollectedWithTheImage) {
  CFS_REQUIRE_PYTHON();
  Fixture f;
  Artifact a = write_artifact(f.layout, f.image.manifest_digest);
  test::FakeRegistry r(f.layout, "referrers");
  ASSERT_NE(r.port(), 0);
  test::Run p = f.pull(r.host());
  ASSERT_EQ(p.status, 0) << p.err;
  EXPECT_EQ(p.err, "");
  EXPECT_NE(p.out.find("referrers 1 stored\n"), std::string::npos) << p.out;

  // As composefs-rs lays it out: the link, and the artifact's manifest, config and blob streams.
  ASSERT_TRUE(fs::is_symlink(f.link(a.digest)));
  EXPECT_EQ(fs::read_symlink(f.link(a.digest)).string(), "../../../oci-manifest-" + a.digest);
  for (std::string s : {"oci-manifest-" + a.digest, "oci-config-" + a.config_digest,
                        "oci-layer-" + a.blob_digest}) {
    EXPECT_TRUE(fs::exists(f.repo / "streams" / s)) << s;
  }
  EXPECT_EQ(f.cfsctl({"oci", "inspect", "--manifest", "@" + a.digest}).out, a.manifest + "\n");
  EXPECT_EQ(f.referrers(), json::array({a.digest}));
  json images = f.images();
  ASSERT_EQ(images.size(), 1u);
  EXPECT_EQ(images[0]["referrer_count"], 1);
  EXPECT_EQ(f.refs_column(), "1");
  EXPECT_EQ(f.cfsctl({"fsck"}).status, 0);

  // gc keeps what the link reaches while the image is there...
  ASSERT_EQ(f.cfsctl({"gc"}).status, 0);
  EXPECT_EQ(f.referrers().size(), 1u);
  EXPECT_TRUE(fs::exists(f.repo / "streams" / ("oci-layer-" + a.blob_digest)));
  // ...and drops the link, the artifact and the image in one run once the tag is gone.
  ASSERT_EQ(f.cfsctl({"oci", "untag", "img"}).status, 0);
  test::Run gc = f.cfsctl({"gc"});
  ASSERT_EQ(gc.status, 0) << gc.err;
  EXPECT_FALSE(fs::exists(f.link(a.digest).parent_path()));
  for (std::string s : {"oci-manifest-" + a.digest, "oci-manifest-" + f.image.manifest_digest,
                        "oci-layer-" + a.blob_digest}) {
    EXPECT_FALSE(fs::exists(f.repo / "streams" / s)) << s;
  }
  std::size_t objects = 0;
  for (const auto& e : fs::recursive_directory_iterator(f.repo / "objects"))
    objects += e.is_regular_file();
  EXPECT_EQ(objects, 0u);
  EXPECT_EQ(f.cfsctl({"fsck"}).status, 0);
}

TEST(Referrers, NoReferrersOptionSkipsThem) {
  CFS_REQUIRE_PYTHON();
  Fixture f;
  write_artifact(f.layout, f.image.manifest_digest);
  test::FakeRegistry r(f.layout, "referrers");
  ASSERT_NE(r.port(), 0);
  test::Run p = f.pull(r.host(), {"--no-referrers"});
  ASSERT_EQ(p.status, 0) << p.err;
  EXPECT_EQ(f.images()[0]["referrer_count"], 0);
  EXPECT_FALSE(fs::exists(f.repo / "streams" / "refs" / "oci-referrers"));
}

// A referrer whose bytes are not those its descriptor names: the image is pulled and tagged,
// the referrer is not stored, and one warning names it.
TEST(Referrers, LyingReferrerIsAWarningAndNotStored) {
  CFS_REQUIRE_PYTHON();
  Fixture f;
  Artifact a = write_artifact(f.layout, f.image.manifest_digest);
  test::FakeRegistry r(f.layout, "referrers-wrong");
  ASSERT_NE(r.port(), 0);
  test::Run p = f.pull(r.host());
  ASSERT_EQ(p.status, 0) << p.err;
  EXPECT_EQ(p.err, "warning: referrer " + a.digest + " of " + f.image.manifest_digest +
                       " not stored: corrupt image: the registry sent " +
                       std::to_string(a.manifest.size() + 1) + " bytes, its descriptor says " +
                       std::to_string(a.manifest.size()) + "\n");
  EXPECT_EQ(f.images()[0]["referrer_count"], 0);
  EXPECT_EQ(f.referrers(), json::array());
  EXPECT_FALSE(fs::exists(f.repo / "streams" / ("oci-manifest-" + a.digest)));
  EXPECT_EQ(f.cfsctl({"fsck"}).status, 0);
}

// No referrers API (404, or a page that is not an index) and no fallback tag: none, silently.
TEST(Referrers, RegistryWithoutReferrersGivesNoneSilently) {
  CFS_REQUIRE_PYTHON();
  for (std::string fault : {"none", "referrers-html"}) {
    Fixture f;
    write_artifact(f.layout, f.image.manifest_digest);  // there, but not listed
    test::FakeRegistry r(f.layout, fault);
    ASSERT_NE(r.port(), 0);
    test::Run p = f.pull(r.host());
    ASSERT_EQ(p.status, 0) << fault << p.err;
    EXPECT_EQ(p.err, "") << fault;
    EXPECT_EQ(p.out.find("referrers"), std::string::npos) << fault;
    EXPECT_EQ(f.images()[0]["referrer_count"], 0) << fault;
    EXPECT_EQ(f.refs_column(), "0") << fault;
  }
}

// Pushes blobs, then manifests (by digest or tag) to a registry, as a client does (monolithic
// uploads); each argument is TYPE=FILE[@TAG], TYPE "blob" or a manifest media type.
constexpr const char* kPush = R"PY(
import hashlib, sys, urllib.request
host, name = sys.argv[1], sys.argv[2]
def req(method, url, body=b"", headers={}):
    r = urllib.request.Request("http://%s%s" % (host, url), data=body, method=method, headers=headers)
    return urllib.request.urlopen(r)
for arg in sys.argv[3:]:
    kind, rest = arg.split("=", 1)
    path, _, tag = rest.partition("@")
    body = open(path, "rb").read()
    digest = "sha256:" + hashlib.sha256(body).hexdigest()
    if kind == "blob":
        loc = req("POST", "/v2/%s/blobs/uploads/" % name).headers["Location"]
        loc = loc.split(host, 1)[-1]
        req("PUT", loc + ("&" if "?" in loc else "?") + "digest=" + digest, body,
            {"Content-Type": "application/octet-stream"})
    else:
        req("PUT", "/v2/%s/manifests/%s" % (name, tag or digest), body, {"Content-Type": kind})
)PY";

TEST(Referrers, TagFallbackOnDockerRegistry) {
  CFS_REQUIRE(test::LocalRegistry::available(),
              "docker-registry, skopeo, umoci or htpasswd is not installed");
  Fixture f;
  Artifact a = write_artifact(f.layout, f.image.manifest_digest);
  test::LocalRegistry registry(f.tmp / "registry");
  ASSERT_EQ(run({"skopeo", "copy", "--quiet", "--dest-tls-verify=false",
                 "oci:" + f.layout.string() + ":t", "docker://" + registry.host() + "/test/img:t"})
                .status,
            0);
  json index = {{"schemaVersion", 2},
                {"mediaType", "application/vnd.oci.image.index.v1+json"},
                {"manifests",
                 {{{"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                   {"digest", a.digest},
                   {"size", a.manifest.size()},
                   {"artifactType", kSigType}}}}};
  test::write_file(f.tmp / "index.json", index.dump());
  auto blob = [&](const std::string& d) {
    return (f.layout / "blobs" / "sha256" / d.substr(7)).string();
  };
  std::string tag = "sha256-" + f.image.manifest_digest.substr(7);
  test::Run push = run(
      {"python3", "-c", kPush, registry.host(), "test/img", "blob=" + blob(a.config_digest),
       "blob=" + blob(a.blob_digest),
       "application/vnd.oci.image.manifest.v1+json=" + blob(a.digest),
       "application/vnd.oci.image.index.v1+json=" + (f.tmp / "index.json").string() + "@" + tag});
  ASSERT_EQ(push.status, 0) << push.err;

  test::Run p = f.pull(registry.host());
  ASSERT_EQ(p.status, 0) << p.err;
  EXPECT_EQ(p.err, "");
  EXPECT_EQ(f.referrers(), json::array({a.digest}));
  EXPECT_EQ(f.images()[0]["referrer_count"], 1);
  // docker-registry 2.8 has no referrers API: the 404 led to the tag.
  std::string log = registry.log();
  EXPECT_NE(log.find("/v2/test/img/referrers/" + f.image.manifest_digest), std::string::npos)
      << log;
  EXPECT_NE(log.find("/v2/test/img/manifests/" + tag), std::string::npos) << log;
  EXPECT_EQ(f.cfsctl({"fsck"}).status, 0);
}

}  // namespace
}  // namespace cfs
