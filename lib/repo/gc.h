// Garbage collection of a repository, as cfsctl gc: mark from every ref (images/refs/**, and
// names given as roots), sweep unmarked objects, prune broken links. A real run holds
// LOCK_EX, so no other process has the repository open meanwhile. Layer: repo.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "repo/repository.h"

namespace cfs::repo {

struct GcResult {
  std::uint64_t objects_removed = 0;
  std::uint64_t bytes_removed = 0;
  std::uint64_t images_pruned = 0;
  std::uint64_t streams_pruned = 0;
};

// A ref below streams/refs/ that is a root only while another stream is live: given the ref's
// path below streams/refs/, the streams/ entry it needs, or nullopt for a plain root (an OCI
// referrer needs its subject's manifest: oci::referrer_subject_stream).
using RefNeeds = std::function<std::optional<std::string>(std::string_view ref)>;

// Throws Error before removing anything when the repository is not in a state it can mark
// (a ref whose image is gone, a non-symlink among images/, a bad object name, an image that
// does not parse, streams it cannot read). Refs whose needed stream is not live are removed
// (counted as pruned streams) and mark nothing.
GcResult gc(Repository& repo, const std::vector<std::string>& roots, bool dry_run, const RefNeeds& needs = {});

// cfsctl's report of a run.
std::string gc_report(const GcResult& r, bool dry_run);

}  // namespace cfs::repo
