#include "oci/referrers_index.h"

#include <gtest/gtest.h>

#include "base/error.h"

namespace cfs::oci {
namespace {

const std::string kSubject = "sha256:" + std::string(64, 'a');
const std::string kArtifact = "sha256:" + std::string(64, 'b');

std::string entry(const std::string& digest = kArtifact) {
  return R"({"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" + digest +
         R"(","size":123,"artifactType":"application/vnd.example.sig"})";
}

std::string index(const std::string& entries, const std::string& type = std::string(kOciIndex)) {
  return R"({"schemaVersion":2,"mediaType":")" + type + R"(","manifests":[)" + entries + "]}";
}

// The error message parse_referrers_index gives, or "" when it accepts the bytes.
std::string index_error(const std::string& bytes) {
  try {
    parse_referrers_index(bytes);
    return "";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), EUCLEAN) << e.what();
    return e.what();
  }
}

TEST(ReferrersIndex, ParsesEntries) {
  std::vector<Descriptor> d = parse_referrers_index(index(entry() + "," + entry(kSubject)));
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[0].digest, kArtifact);
  EXPECT_EQ(d[0].size, 123u);
  EXPECT_EQ(d[0].media_type, kOciManifest);
  EXPECT_EQ(d[1].digest, kSubject);
  EXPECT_TRUE(parse_referrers_index(index("")).empty());
}

TEST(ReferrersIndex, RefusesWhatIsNotAReferrersIndex) {
  std::string many;
  for (std::size_t i = 0; i <= kMaxReferrers; ++i) many += (i ? "," : "") + entry();
  std::string huge = index(entry()) + std::string(kMaxReferrersIndex, ' ');
  struct Case {
    std::string name, bytes, error;
  };
  for (const Case& c : std::vector<Case>{
           {"bad JSON", "{\"manifests\": [", "referrers index: not a JSON object"},
           {"not an object", "[]", "referrers index: not a JSON object"},
           {"manifest type", index(entry(), std::string(kOciManifest)),
            "referrers index: mediaType 'application/vnd.oci.image.manifest.v1+json' is not "
            "application/vnd.oci.image.index.v1+json"},
           {"no mediaType", R"({"schemaVersion":2,"manifests":[]})",
            "referrers index: mediaType '' is not application/vnd.oci.image.index.v1+json"},
           {"Docker list", index(entry(), std::string(kDockerList)),
            "is not application/vnd.oci.image.index.v1+json"},
           {"no manifests", R"({"mediaType":"application/vnd.oci.image.index.v1+json"})",
            "referrers index: no \"manifests\""},
           {"manifests not an array", index("").replace(index("").find('['), 2, "{}"),
            "\"manifests\" is not an array"},
           {"bad digest", index(entry("md5:abc")), "referrers index: unsupported digest md5:abc"},
           {"negative size", index(R"({"digest":")" + kArtifact + R"(","size":-1})"),
            "\"size\" is not a non-negative integer"},
           {"too many", index(many), "referrers index: more than 1000 referrers"},
           {"huge", huge, "referrers index: larger than 4 MiB"},
       }) {
    std::string error = index_error(c.bytes);
    EXPECT_NE(error.find(c.error), std::string::npos) << c.name << ": " << error;
  }
}

TEST(ReferrersIndex, FallbackTag) {
  EXPECT_EQ(referrers_tag(kSubject), "sha256-" + std::string(64, 'a'));
}

std::string manifest(const std::string& subject_field,
                     const std::string& type = std::string(kOciManifest)) {
  return R"({"schemaVersion":2,"mediaType":")" + type +
         R"(","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:)" +
         std::string(64, 'c') + R"(","size":2},"layers":[])" + subject_field + "}";
}

TEST(ReferrersIndex, ReferrerManifestMustNameTheSubject) {
  std::string subject =
      R"(,"subject":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" +
      kSubject + R"(","size":9})";
  EXPECT_EQ(parse_referrer_manifest(manifest(subject), kSubject).config.size, 2u);
  struct Case {
    std::string name, bytes, error;
  };
  for (const Case& c : std::vector<Case>{
           {"no subject", manifest(""), "no \"subject\""},
           {"other subject", manifest(subject),
            "its subject is " + kSubject + ", not " + kArtifact},
           {"Docker type", manifest(subject, std::string(kDockerManifest)),
            "is not application/vnd.oci.image.manifest.v1+json"},
           {"bad JSON", "{", "manifest: not a JSON object"},
       }) {
    try {
      parse_referrer_manifest(c.bytes, c.name == "other subject" ? kArtifact : kSubject);
      ADD_FAILURE() << c.name << " accepted";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(c.error), std::string::npos)
          << c.name << ": " << e.what();
    }
  }
}

}  // namespace
}  // namespace cfs::oci
