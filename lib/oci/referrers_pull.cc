#include "oci/referrers_pull.h"

#include <algorithm>

#include "base/error.h"
#include "oci/artifact.h"
#include "oci/referrers.h"
#include "oci/referrers_index.h"
#include "verity/sha256.h"

namespace cfs::oci {
namespace {

// One referrer: its manifest checked against the descriptor, then stored and linked.
void pull_referrer(repo::Repository& repo, ImageSource& source, const std::string& subject,
                   const Descriptor& d) {
  if (d.media_type != kOciManifest)
    throw Error(ENOTSUP, "media type '" + d.media_type + "' is not an OCI image manifest");
  if (d.size > kMaxReferrerManifest)
    throw_corrupt("larger than 4 MiB (" + std::to_string(d.size) + " bytes)");
  std::string manifest = source.fetch_manifest(d.digest).first;
  if (manifest.size() != d.size) {
    throw_corrupt("the registry sent " + std::to_string(manifest.size()) +
                  " bytes, its descriptor says " + std::to_string(d.size));
  }
  if (verity::sha256_digest(manifest) != d.digest)
    throw_corrupt("the registry sent bytes of another digest");
  parse_referrer_manifest(manifest, subject);
  store_artifact(repo, source, d.digest, manifest);
  add_referrer(repo, subject, d.digest);
}

}  // namespace

ReferrersPulled pull_referrers(repo::Repository& repo, ImageSource& source,
                               const std::string& subject) {
  ReferrersPulled out;
  std::vector<Descriptor> entries;
  try {
    std::optional<std::string> index = source.fetch_referrers(subject);
    if (!index) return out;
    entries = parse_referrers_index(*index);
  } catch (const Error& e) {
    if (e.kind() == ErrorKind::kCancelled) throw;
    out.warnings.push_back("referrers of " + subject + " not fetched: " + e.what());
    return out;
  }
  for (const Descriptor& d : entries) {
    if (std::find(out.stored.begin(), out.stored.end(), d.digest) != out.stored.end())
      continue;  // listed twice
    try {
      pull_referrer(repo, source, subject, d);
      out.stored.push_back(d.digest);
    } catch (const Error& e) {
      if (e.kind() == ErrorKind::kCancelled) throw;
      out.warnings.push_back("referrer " + d.digest + " of " + subject +
                             " not stored: " + e.what());
    }
  }
  return out;
}

}  // namespace cfs::oci
