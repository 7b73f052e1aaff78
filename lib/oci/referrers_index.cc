#include "oci/referrers_index.h"

#include "base/error.h"
#include "oci/document_json.h"

namespace cfs::oci {
using namespace document_json;

std::string referrers_tag(std::string_view manifest_digest) {
  std::string tag(manifest_digest);
  if (std::size_t colon = tag.find(':'); colon != std::string::npos) tag[colon] = '-';
  return tag;
}

std::vector<Descriptor> parse_referrers_index(std::string_view bytes) {
  if (bytes.size() > kMaxReferrersIndex) throw_corrupt("referrers index: larger than 4 MiB");
  json j = parse(bytes, "referrers index");
  std::string type = optional_string(j, "mediaType");
  if (type != kOciIndex)
    throw_corrupt("referrers index: mediaType '" + type + "' is not " + std::string(kOciIndex));
  const json& list = member(j, "manifests", "referrers index");
  if (!list.is_array()) throw_corrupt("referrers index: \"manifests\" is not an array");
  if (list.size() > kMaxReferrers)
    throw_corrupt("referrers index: more than " + std::to_string(kMaxReferrers) + " referrers");
  std::vector<Descriptor> out;
  for (const json& entry : list) out.push_back(descriptor(entry, "referrers index"));
  return out;
}

Manifest parse_referrer_manifest(std::string_view bytes, std::string_view subject) {
  Manifest m = parse_manifest(bytes);
  json j = parse(bytes, "manifest");
  std::string type = optional_string(j, "mediaType");
  if (type != kOciManifest)
    throw_corrupt("mediaType '" + type + "' is not " + std::string(kOciManifest));
  auto s = j.find("subject");
  if (s == j.end()) throw_corrupt("no \"subject\"");
  if (Descriptor d = descriptor(*s, "subject"); d.digest != subject) {
    throw_corrupt("its subject is " + d.digest + ", not " + std::string(subject));
  }
  return m;
}

}  // namespace cfs::oci
