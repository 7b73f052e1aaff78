// composefs-rs's upgrade_repo: repositories written by older composefs-rs (bootc <= 1.15.x)
// have OCI images without an EROFS image named by their config stream, and streams with the
// old header layout (read as they are: repo/splitstream.h). Each tagged container image whose
// config names no image of the repository's default EROFS format is committed again
// (oci/commit.h): its images made, its config and manifest streams rewritten in the current
// layout. Objects the old streams alone needed are left for gc. Layer: oci.
#pragma once

#include <cstdint>

#include "repo/repository.h"

namespace cfs::oci {

struct UpgradeResult {
  std::uint64_t already_current = 0, upgraded = 0, skipped_non_container = 0;
};

// Error (naming the tag) when an image cannot be opened or committed.
UpgradeResult upgrade_repository(repo::Repository& repo);

}  // namespace cfs::oci
