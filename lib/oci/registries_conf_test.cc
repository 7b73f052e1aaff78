#include "oci/registries_conf.h"

#include <gtest/gtest.h>

#include "base/error.h"
#include "oci/image_name.h"

namespace cfs::oci {
namespace {

RegistriesConf conf_of(std::vector<std::pair<std::string, std::string>> files) {
  RegistriesConf c;
  for (const auto& [name, text] : files) merge_registries_conf(c, text, name);
  return c;
}

// Each source as "NAME insecure? mirror?".
std::vector<std::string> sources(const RegistriesConf& c, const std::string& ref) {
  std::vector<std::string> out;
  for (const PullSource& s : pull_sources(c, ref)) {
    out.push_back(s.name() + (s.insecure ? " insecure" : "") + (s.mirror ? " mirror" : ""));
  }
  return out;
}

using V = std::vector<std::string>;
const std::string kDigest = "sha256:" + std::string(64, 'a');

TEST(ImageName, NormalizesAsContainersImage) {
  struct Case {
    std::string in, name, reference;
  } cases[] = {
      {"debian", "docker.io/library/debian", "latest"},
      {"debian:12", "docker.io/library/debian", "12"},
      {"user/app", "docker.io/user/app", "latest"},
      {"docker.io/debian", "docker.io/library/debian", "latest"},
      {"quay.io/fedora/fedora:41", "quay.io/fedora/fedora", "41"},
      {"localhost/app", "localhost/app", "latest"},
      {"127.0.0.1:5000/a/b@" + kDigest, "127.0.0.1:5000/a/b", kDigest},
      {"example.com/a:1@" + kDigest, "example.com/a", kDigest},
  };
  for (const Case& c : cases) {
    ImageName n = parse_image_name(c.in);
    EXPECT_EQ(n.name(), c.name) << c.in;
    EXPECT_EQ(n.reference(), c.reference) << c.in;
  }
  EXPECT_EQ(registry_host("docker.io"), "registry-1.docker.io");
  for (const char* bad : {"Bad_Name", "a/b:bad tag", "a@sha256:12", "example.com/"}) {
    EXPECT_THROW(parse_image_name(bad), Error) << bad;
  }
}

TEST(RegistriesConf, PrefixLocationAndMirrors) {
  // The man page's example.
  RegistriesConf c = conf_of({{"r.conf", R"(
unqualified-search-registries = ["example.com"]
[[registry]]
prefix = "example.com/foo"
insecure = false
blocked = false
location = "internal-registry-for-example.com/bar"
[[registry.mirror]]
location = "example-mirror-0.local/mirror-for-foo"
[[registry.mirror]]
location = "example-mirror-1.local/mirrors/foo"
insecure = true
[[registry]]
location = "registry.com"
[[registry.mirror]]
location = "mirror.registry.com"
)"}});
  struct Case {
    std::string ref;
    V want;
  } cases[] = {
      {"example.com/foo/image:latest",
       {"example-mirror-0.local/mirror-for-foo/image:latest mirror", "example-mirror-1.local/mirrors/foo/image:latest insecure mirror",
        "internal-registry-for-example.com/bar/image:latest"}},
      {"registry.com/image", {"mirror.registry.com/image:latest mirror", "registry.com/image:latest"}},
      // Prefixes end at a separator: example.com/foobar is not under example.com/foo.
      {"example.com/foobar/x:1", {"example.com/foobar/x:1"}},
      {"registry.com.evil.org/x", {"registry.com.evil.org/x:latest"}},
      {"debian", {"docker.io/library/debian:latest"}},
  };
  for (const Case& k : cases) EXPECT_EQ(sources(c, k.ref), k.want) << k.ref;
}

TEST(RegistriesConf, LongestPrefixWildcardsAndDigestOnlyMirrors) {
  RegistriesConf c = conf_of({{"r.conf", R"(
[[registry]]
prefix = "*.example.com"
insecure = true
[[registry]]
prefix = "a.example.com/team"
location = "mirror.local:5000/team-copy"
[[registry]]
prefix = "docker.io/library/debian"
location = "debian.local/debian"
mirror-by-digest-only = true
[[registry.mirror]]
location = "m1.local/debian"
[[registry]]
location = "q.io"
[[registry.mirror]]
location = "tags.local"
pull-from-mirror = "tag-only"
[[registry.mirror]]
location = "digests.local"
pull-from-mirror = "digest-only"
[[registry]]
location = "debian.local"
insecure = true
)"}});
  struct Case {
    std::string ref;
    V want;
  } cases[] = {
      {"x.y.example.com/app:1", {"x.y.example.com/app:1 insecure"}},
      {"example.com/app:1", {"example.com/app:1"}},
      {"a.example.com/team/app", {"mirror.local:5000/team-copy/app:latest"}},
      {"a.example.com/other/app", {"a.example.com/other/app:latest insecure"}},
      // The location's own [[registry]] makes it insecure.
      {"debian:12", {"debian.local/debian:12 insecure"}},
      {"debian@" + kDigest, {"m1.local/debian@" + kDigest + " mirror", "debian.local/debian@" + kDigest + " insecure"}},
      {"q.io/a:1", {"tags.local/a:1 mirror", "q.io/a:1"}},
      {"q.io/a@" + kDigest, {"digests.local/a@" + kDigest + " mirror", "q.io/a@" + kDigest}},
  };
  for (const Case& k : cases) EXPECT_EQ(sources(c, k.ref), k.want) << k.ref;
}

TEST(RegistriesConf, DropInsReplaceByPrefixAndV1StillWorks) {
  RegistriesConf c = conf_of({{"main.conf", "[registries.insecure]\nregistries = ['old.local']\n[registries.block]\nregistries = ['bad.local']\n"},
                              {"d/10.conf", "[[registry]]\nlocation = \"old.local\"\n[[registry]]\nlocation = \"new.local\"\ninsecure = true\n"},
                              {"d/20.conf", "[aliases]\n\"app\" = \"new.local/app\"\n"}});
  EXPECT_EQ(c.files, (V{"main.conf", "d/10.conf", "d/20.conf"}));
  EXPECT_EQ(sources(c, "old.local/a"), V{"old.local/a:latest"});  // replaced: no longer insecure
  EXPECT_EQ(sources(c, "new.local/a"), V{"new.local/a:latest insecure"});
  try {
    pull_sources(c, "bad.local/a:1");
    FAIL() << "blocked";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kRefused);
    EXPECT_STREQ(e.what(), "image bad.local/a:1: registry bad.local is blocked in main.conf");
  }
}

TEST(RegistriesConf, BadFilesNameFileLineAndColumn) {
  struct Case {
    std::string text, error;
  } cases[] = {
      {"[[registry]]\nlocation = \"a.example\n", "r.conf:2:"},
      {"[[registry]]\nlocation = \"a\"\ninsecure = \"yes\"\n", "r.conf:3:12: [[registry]] insecure: expected a boolean"},
      {"short-name-mode = \"bogus\"\n", "r.conf:1:19: invalid short-name mode: \"bogus\""},
      {"unqualified-search-registries = \"x\"\n", "unqualified-search-registries: expected an array of strings"},
      {"[[registry]]\nlocation = \"a\"\n[[registry.mirror]]\nlocation = \"b\"\npull-from-mirror = \"sometimes\"\n",
       "unsupported pull-from-mirror value \"sometimes\" for mirror \"b\""},
      {"[[registry]]\nlocation = \"a\"\nmirror-by-digest-only = true\n[[registry.mirror]]\nlocation = \"b\"\npull-from-mirror = \"all\"\n",
       "pull-from-mirror cannot be set"},
      {"[[registry]]\nlocation = \"https://a\"\n", "URI schemes are not supported"},
      {"[[registry]]\nprefix = \"*.a.com/x\"\n", "a wildcard prefix is a domain alone"},
      {"[[registry]]\nprefix = \"a.com/x\"\n", "has no location"},
      {"[[registry]]\ninsecure = true\n", "neither prefix nor location is set"},
      {"[registries.insecure]\nregistries = [\"a\"]\n[[registry]]\nlocation = \"b\"\n", "mixing the v1"},
      {"[aliases]\n\"x\" = 1\n", "[aliases] x: expected a string"},
  };
  for (const Case& k : cases) {
    RegistriesConf c;
    try {
      merge_registries_conf(c, k.text, "r.conf");
      ADD_FAILURE() << "accepted: " << k.text;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(k.error), std::string::npos) << e.what();
      EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace cfs::oci
