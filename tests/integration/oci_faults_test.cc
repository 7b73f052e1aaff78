// cfsctl oci pull against a registry that misbehaves (tests/integration/fake_registry.py):
// resets, wrong bytes, 5xx, a hang, a drip of 2 B/s, Bearer tokens, a redirect to another host.
// Every failure is one clear error, nothing is tagged, the repository passes fsck; transient
// failures are retried. Also a disk that fills up during a pull.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <sstream>

#include "base/error.h"
#include "oci/layer.h"
#include "repo/repository.h"
#include "support/fake_registry.h"
#include "support/oci_image.h"
#include "support/support.h"

extern char** environ;

namespace cfs {
namespace {

namespace fs = test::fs;
using test::run;
using test::tool;
using test::FakeRegistry;

struct Fixture {
  test::TempDir tmp;
  fs::path layout = tmp / "layout";
  fs::path repo = tmp / "repo";
  explicit Fixture(std::string big = std::string(300000, 'b')) {
    test::write_layout(layout, {{test::make_tar({test::dir("usr/"), test::file("usr/big", std::move(big)),
                                                 test::file("usr/small", "small")})}},
                       "t");
    test::write_file(tmp / "registries.conf", "");
    EXPECT_EQ(run({tool("cfsctl").string(), "--repo", repo.string(), "init", "--insecure"}).status, 0);
  }
  test::Run pull(const FakeRegistry& r, std::vector<std::string> extra = {}) {
    test::write_file(tmp / "registries.conf", "[[registry]]\nlocation = \"" + r.host() + "\"\ninsecure = true\n");
    // A pull that never ends fails the test (status 124) instead of holding it.
    std::vector<std::string> args = {"timeout", "120", tool("cfsctl").string(), "--repo", repo.string(), "oci", "pull"};
    args.insert(args.end(), extra.begin(), extra.end());
    args.push_back("docker://" + r.host() + "/test/img:t");
    args.push_back("img");
    return run(args, "", {"CONTAINERS_REGISTRIES_CONF=" + (tmp / "registries.conf").string(), "CFS_HTTP_STALL_SECONDS=2",
                          "REGISTRY_AUTH_FILE=/nonexistent", "HOME=" + tmp.path().string()});
  }
  void expect_failed_cleanly(const test::Run& r, const std::string& message) {
    EXPECT_EQ(r.status, 1) << r.out;
    EXPECT_NE(r.err.find(message), std::string::npos) << r.err;
    EXPECT_TRUE(test::one_error(r.err)) << r.err;
    EXPECT_FALSE(fs::exists(repo / "streams" / "refs" / "oci" / "img"));
    EXPECT_EQ(run({tool("cfsctl").string(), "--repo", repo.string(), "fsck"}).status, 0);
  }
};

TEST(OciFaults, BrokenTransfersFailCleanly) {
  CFS_REQUIRE_PYTHON();
  for (const auto& [fault, message] : std::vector<std::pair<std::string, std::string>>{
           {"reset", "GET http://"}, {"wrong", "layer sha256:"}, {"error500", "HTTP 500"}, {"hang", "GET http://"},
           {"drip", "Less than 1024 bytes/sec transferred the last 2 seconds"}}) {
    Fixture f;
    FakeRegistry r(f.layout, fault);
    ASSERT_NE(r.port(), 0);
    auto start = std::chrono::steady_clock::now();
    f.expect_failed_cleanly(f.pull(r), message);
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(60)) << fault << " did not time out";
  }
}

TEST(OciFaults, TransientFailuresAreRetried) {
  CFS_REQUIRE_PYTHON();
  for (const std::string fault : {"flaky", "config-reset"}) {  // a 503 once; a config cut once
    Fixture f;
    FakeRegistry r(f.layout, fault);
    auto p = f.pull(r);
    EXPECT_EQ(p.status, 0) << fault << ": " << p.err;
    EXPECT_TRUE(fs::exists(f.repo / "streams" / "refs" / "oci" / "img")) << fault;
  }
}

// A layer cut once in the middle of its body (12 MiB that do not compress: the cut comes while
// its tar is being read and its big file stored) is fetched again from its start.
TEST(OciFaults, LayerCutMidBodyIsRetriedFromItsStart) {
  CFS_REQUIRE_PYTHON();
  std::string noise(12 << 20, '\0');
  std::uint64_t x = 88172645463325252ULL;
  for (char& c : noise) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    c = static_cast<char>(x);
  }
  Fixture f(noise);
  FakeRegistry r(f.layout, "layer-reset");
  auto p = f.pull(r);
  ASSERT_EQ(p.status, 0) << p.err;
  EXPECT_TRUE(fs::exists(f.repo / "streams" / "refs" / "oci" / "img"));
  auto cat = run({tool("cfsctl").string(), "--repo", f.repo.string(), "oci", "dump", "img"});
  EXPECT_NE(cat.out.find("/usr/big 12582912 "), std::string::npos) << cat.out.substr(0, 2000);
  EXPECT_EQ(run({tool("cfsctl").string(), "--repo", f.repo.string(), "fsck"}).status, 0);
}

TEST(OciFaults, BearerTokensAndRedirectsWithoutCredentials) {
  CFS_REQUIRE_PYTHON();
  {
    Fixture f;
    FakeRegistry r(f.layout, "token");
    f.expect_failed_cleanly(f.pull(r), "token from http://");  // anonymous: the token service refuses
    auto p = f.pull(r, {"--creds", "tester:s3cret"});
    EXPECT_EQ(p.status, 0) << p.err;
  }
  {
    Fixture f;
    FakeRegistry r(f.layout, "redirect");
    auto p = f.pull(r, {"--creds", "tester:s3cret"});
    EXPECT_EQ(p.status, 0) << "the blob host got the registry's credentials? " << p.err;
  }
}

// A host the registry redirects a blob to gets no credentials, even when it asks for them
// with a Bearer challenge naming itself as the realm: its 401 ends the pull.
TEST(OciFaults, NoCredentialsForAHostTheRegistryRedirectsTo) {
  CFS_REQUIRE_PYTHON();
  Fixture f;
  fs::path record = f.tmp / "foreign-authorization";
  FakeRegistry r(f.layout, "redirect401", {"--record", record.string()});
  ASSERT_NE(r.port(), 0);
  f.expect_failed_cleanly(f.pull(r, {"--creds", "tester:s3cret"}), "HTTP 401 from http://127.0.0.1:");
  EXPECT_EQ(test::read_file(record), "") << "what the host the registry redirected to received";
}

// A disk that fills up during a pull: the error names the layer and the file being stored (it
// said only "No space left on device"), keeps its kind (local I/O, not the image's fault), and
// nothing is tagged.
TEST(OciFaults, FullDiskNamesWhatWasBeingStored) {
  CFS_REQUIRE(::geteuid() == 0, "mounting a tmpfs needs root");
  test::TempDir tmp;
  fs::path repo = tmp / "repo";
  test::Tmpfs disk(repo, "2m");
  ASSERT_TRUE(disk.ok());
  ASSERT_EQ(test::cfsctl(repo, {"init", "--insecure"}).status, 0);
  // 3 MiB: stored by a worker while the layer is read on; 9 MiB: streamed into the store.
  for (std::size_t size : {std::size_t{3} << 20, std::size_t{9} << 20}) {
    std::string tar = test::make_tar({test::dir("usr/"), test::file("usr/big", std::string(size, 'b'))});
    std::string digest = test::sha256_digest(tar);
    fs::path layout = tmp / ("layout" + std::to_string(size));
    test::write_layout(layout, {{tar, "none"}}, "t");
    auto r = test::cfsctl(repo, {"oci", "pull", "oci:" + layout.string(), "img"});
    EXPECT_EQ(r.status, 1);
    EXPECT_EQ(r.err, "Error: layer " + digest + "\n\nCaused by:\n    0: storing /usr/big\n    1: No space left on device\n");
    EXPECT_FALSE(fs::exists(repo / "streams" / "refs" / "oci" / "img"));
    std::unique_ptr<repo::Repository> opened = repo::Repository::open(repo.string(), {});
    std::size_t at = 0;
    auto read = [&](std::span<std::byte> buf) {
      std::size_t n = std::min(buf.size(), tar.size() - at);
      std::memcpy(buf.data(), tar.data() + at, n);
      at += n;
      return n;
    };
    try {
      oci::import_layer(*opened, {digest, tar.size(), oci::Compression::kNone, digest}, read, nullptr);
      ADD_FAILURE() << size << " bytes stored on a 2 MiB disk";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kLocalIo) << e.what();
      EXPECT_EQ(e.chain(), (std::vector<std::string>{"layer " + digest, "storing /usr/big", "No space left on device"}));
    }
  }
  EXPECT_EQ(test::cfsctl(repo, {"fsck"}).status, 0);
  // A layer that fits and an image that does not: 20000 one-byte files (inline, no objects).
  fs::path small = tmp / "small";
  test::Tmpfs small_disk(small, "1m");
  ASSERT_TRUE(small_disk.ok());
  ASSERT_EQ(test::cfsctl(small, {"init", "--insecure"}).status, 0);
  std::vector<test::TarMember> files{test::dir("usr/")};
  for (int i = 0; i < 20000; ++i) files.push_back(test::file("usr/f" + std::to_string(i), "x"));
  test::write_layout(tmp / "many", {{test::make_tar(files)}}, "t");
  auto r = test::cfsctl(small, {"oci", "pull", "oci:" + (tmp / "many").string(), "img"});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "Error: storing the EROFS image\n\nCaused by:\n    No space left on device\n");
  EXPECT_EQ(test::cfsctl(small, {"fsck"}).status, 0);
}

}  // namespace
}  // namespace cfs
