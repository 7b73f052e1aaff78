// The referrers of a pulled image fetched from where its manifest came from and stored, each
// with its link (oci/referrers.h). Best effort, as containers/image treats what goes beside
// an image: the image is pulled and tagged before this runs, and a failure here (the
// registry's index, a referrer that lies about its bytes or its subject, a blob) is a warning
// naming it, never a failed pull. Layer: oci.
#pragma once

#include <string>
#include <vector>

#include "oci/source.h"
#include "repo/repository.h"

namespace cfs::oci {

struct ReferrersPulled {
  std::vector<std::string> stored;    // artifact manifest digests now linked
  std::vector<std::string> warnings;  // one line each, naming the referrer and the cause
};

// Referrers that are not OCI image manifests (indexes, Docker types) are skipped with a
// warning. Only a cancellation (ErrorKind::kCancelled) is thrown.
ReferrersPulled pull_referrers(repo::Repository& repo, ImageSource& source,
                               const std::string& subject);

}  // namespace cfs::oci
