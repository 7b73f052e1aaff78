// The referrers of an image as a registry lists them (OCI distribution 1.1): an image index
// whose entries describe the manifests (signatures, SBOMs, attestations) that name the image as
// their `subject`, answered by the referrers API or kept under the tag sha256-<hex>. Both come
// from an untrusted registry: bounded, checked, an Error (EUCLEAN) naming what is wrong.
// Layer: oci (pure).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "oci/manifest.h"

namespace cfs::oci {

inline constexpr std::size_t kMaxReferrersIndex = 4 << 20;    // bytes of the index
inline constexpr std::size_t kMaxReferrerManifest = 4 << 20;  // bytes of one referrer manifest
inline constexpr std::size_t kMaxReferrers = 1000;            // entries of one index

// The tag a registry without the referrers API keeps them under: "sha256-<hex>".
std::string referrers_tag(std::string_view manifest_digest);

// The entries of a referrers index. Error: larger than kMaxReferrersIndex, not JSON, a
// mediaType that is not the OCI index's, no "manifests" array, more than kMaxReferrers
// entries, an entry that is not a descriptor (sha256 digest, size).
std::vector<Descriptor> parse_referrers_index(std::string_view bytes);

// A referrer manifest (bytes already checked against its descriptor): an OCI image manifest
// whose "subject" is the manifest `subject`. Error otherwise.
Manifest parse_referrer_manifest(std::string_view bytes, std::string_view subject);

}  // namespace cfs::oci
