// cfsctl oci pull through registries.conf: a prefix rewritten to a location, mirrors tried in
// order before it (one that lacks the image, one that serves other bytes, one that serves it),
// a blocked registry, a malformed file. Registries are tests/integration/fake_registry.py and
// Debian's docker-registry; a registry that is down is a port nobody listens on.
#include <gtest/gtest.h>

#include "support/fake_registry.h"
#include "support/oci_image.h"
#include "support/registry.h"
#include "support/server_process.h"
#include "support/support.h"

namespace cfs {
namespace {

namespace fs = test::fs;
using test::FakeRegistry;

struct Fixture {
  test::TempDir tmp;
  fs::path layout = tmp / "layout", empty = tmp / "empty", repo = tmp / "repo";
  fs::path conf = tmp / "registries.conf";
  test::WrittenImage image;
  std::string down = "127.0.0.1:" + std::to_string(test::free_port());  // nobody listens
  Fixture() {
    image = test::write_layout(layout, {{test::make_tar({test::dir("usr/"), test::file("usr/a", std::string(5000, 'a'))})}}, "t");
    test::write_layout(empty, {{test::make_tar({test::dir("usr/")})}}, "other");
    test::init_insecure_repo(repo);
  }
  // [[registry]] prefix example.test/team at the dead location, with these mirrors (insecure).
  void write_conf(const std::vector<std::string>& mirrors, const std::string& extra = "") {
    std::string text = "[[registry]]\nprefix = \"example.test/team\"\nlocation = \"" + down + "/team\"\ninsecure = true\n" + extra;
    for (const std::string& m : mirrors) text += "[[registry.mirror]]\nlocation = \"" + m + "\"\ninsecure = true\n";
    test::write_file(conf, text);
  }
  test::Run pull(const std::string& ref, const std::string& tag = "img") {
    return test::run({"timeout", "120", test::tool("cfsctl").string(), "--repo", repo.string(), "oci", "pull", "docker://" + ref, tag}, "",
                     {"CONTAINERS_REGISTRIES_CONF=" + conf.string(), "REGISTRY_AUTH_FILE=/nonexistent", "HOME=" + tmp.path().string()});
  }
  std::string cfsctl(std::vector<std::string> args) { return test::cfsctl(repo, std::move(args)).out; }
  void expect_refused(const test::Run& r, const std::string& message) {
    EXPECT_EQ(r.status, 1) << r.out;
    EXPECT_NE(r.err.find(message), std::string::npos) << r.err;
    EXPECT_TRUE(test::one_error(r.err)) << r.err;
    EXPECT_FALSE(fs::exists(repo / "streams" / "refs" / "oci" / "img"));
  }
};

TEST(RegistriesConf, MirrorsAreTriedInOrderBeforeTheLocation) {
  CFS_REQUIRE_PYTHON();
  Fixture f;
  FakeRegistry lacking(f.empty, "none"), good(f.layout, "none"), wrong_manifest(f.layout, "wrong-manifest");
  ASSERT_TRUE(lacking.port() && good.port() && wrong_manifest.port());
  // By tag: the first mirror lacks it (404), the second has it; the location is never asked.
  f.write_conf({lacking.host() + "/m", good.host() + "/m"});
  test::Run r = f.pull("example.test/team/app:t");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("manifest " + f.image.manifest_digest), std::string::npos) << r.out;
  // The same image ID as the layout itself gives.
  ASSERT_EQ(test::cfsctl(f.repo, {"oci", "pull", "oci:" + f.layout.string() + ":t", "direct"}).status, 0);
  EXPECT_EQ(f.cfsctl({"oci", "compute-id", "img"}), f.cfsctl({"oci", "compute-id", "direct"}));
  // By digest: a mirror whose manifest is not that digest is passed over.
  ASSERT_EQ(test::cfsctl(f.repo, {"oci", "untag", "img"}).status, 0);
  f.write_conf({wrong_manifest.host() + "/m", good.host() + "/m"});
  r = f.pull("example.test/team/app@" + f.image.manifest_digest);
  ASSERT_EQ(r.status, 0) << r.err;
  // pull-from-mirror = tag-only: a digest pull skips the mirror and meets the dead location.
  ASSERT_EQ(test::cfsctl(f.repo, {"oci", "untag", "img"}).status, 0);
  test::write_file(f.conf, "[[registry]]\nprefix = \"example.test/team\"\nlocation = \"" + f.down + "/team\"\ninsecure = true\n"
                           "[[registry.mirror]]\nlocation = \"" + good.host() + "/m\"\ninsecure = true\npull-from-mirror = \"tag-only\"\n");
  f.expect_refused(f.pull("example.test/team/app@" + f.image.manifest_digest),
                   "GET http://" + f.down + "/v2/team/app/manifests/" + f.image.manifest_digest);
}

TEST(RegistriesConf, FailuresAreOneErrorAndNothingIsTagged) {
  CFS_REQUIRE_PYTHON();
  Fixture f;
  FakeRegistry lacking(f.empty, "none"), wrong_blobs(f.layout, "wrong");
  ASSERT_TRUE(lacking.port() && wrong_blobs.port());
  // Every endpoint fails: the location's error, the mirrors' after it.
  f.write_conf({lacking.host() + "/m"});
  test::Run r = f.pull("example.test/team/app:t");
  f.expect_refused(r, f.down + "/team/app:t: ");
  EXPECT_NE(r.err.find("(mirrors also failed: [" + lacking.host() + "/m/app:t: manifest m/app:t not found on " + lacking.host() + "])"),
            std::string::npos)
      << r.err;
  // A mirror that serves other bytes for a layer: the pull fails (the blobs come from where the
  // manifest came from; none is trusted).
  f.write_conf({wrong_blobs.host() + "/m"});
  f.expect_refused(f.pull("example.test/team/app:t"), "layer sha256:");
  // Blocked: refused before any request.
  f.write_conf({}, "blocked = true\n");
  f.expect_refused(f.pull("example.test/team/app:t"),
                   "image example.test/team/app:t: registry example.test/team is blocked in " + f.conf.string());
  // A malformed file: its name, line and column.
  test::write_file(f.conf, "[[registry]]\nlocation = \"x.test\ninsecure = true\n");
  f.expect_refused(f.pull("example.test/team/app:t"), f.conf.string() + ":2:");
  test::write_file(f.conf, "[[registry]]\nlocation = \"x.test\"\ninsecure = 1\n");
  f.expect_refused(f.pull("example.test/team/app:t"), f.conf.string() + ":3:12: [[registry]] insecure: expected a boolean");
}

// Debian's docker-registry as the mirror of a prefix whose own location is down.
TEST(RegistriesConf, DockerRegistryMirror) {
  CFS_REQUIRE(test::LocalRegistry::available(), "docker-registry, skopeo, umoci or htpasswd is not installed");
  Fixture f;
  test::LocalRegistry mirror(f.tmp / "registry");
  ASSERT_EQ(test::run({"skopeo", "copy", "--quiet", "--dest-tls-verify=false", "oci:" + f.layout.string() + ":t",
                       "docker://" + mirror.host() + "/copies/team/app:t"})
                .status,
            0);
  f.write_conf({mirror.host() + "/copies/team"});
  test::Run r = f.pull("example.test/team/app:t");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(mirror.log().find("GET /v2/copies/team/app/manifests/t"), std::string::npos) << mirror.log();
  ASSERT_EQ(test::cfsctl(f.repo, {"oci", "pull", "oci:" + f.layout.string() + ":t", "direct"}).status, 0);
  EXPECT_EQ(f.cfsctl({"oci", "compute-id", "img"}), f.cfsctl({"oci", "compute-id", "direct"}));
}

}  // namespace
}  // namespace cfs
