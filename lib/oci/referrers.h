// An image's referrers as the repository keeps them, laid out as composefs-rs 0.9's
// add_referrer/list_referrers lay them out: the link
// streams/refs/oci-referrers/<subject digest>/<artifact digest> -> ../../../oci-manifest-<artifact>
// (names encoded as tags are), next to the artifact's manifest stream (oci/artifact.h).
// A link is a ref, so gc keeps the artifact; gc drops the links of an image it removes
// (referrer_subject_stream). Layer: oci.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "repo/repository.h"

namespace cfs::oci {

// Links artifact manifest `artifact` as a referrer of manifest `subject` (replaced if there).
void add_referrer(repo::Repository& repo, const std::string& subject, const std::string& artifact);

// The artifact manifest digests linked under `subject` whose manifest stream is in the
// repository, sorted; entries that are not a link named by a sha256 digest to that digest's
// manifest stream are skipped, as composefs-rs skips them.
std::vector<std::string> list_referrers(const repo::Repository& repo, const std::string& subject);

// For gc: the stream a ref below streams/refs/ (as "oci-referrers/<subject>/<artifact>") must
// keep for the ref to stay a root, the subject's "oci-manifest-<subject>"; nullopt for every
// other ref.
std::optional<std::string> referrer_subject_stream(std::string_view ref);

}  // namespace cfs::oci
