// The last steps of storing an OCI image whose layers are in the repository, shared by pull,
// copy and upgrade: the EROFS image of every format the repository writes (linked under
// images/), the config stream (layer streams, images, and the boot images made before), the
// manifest stream, then the tag. Each step is published only after what it names, so a crash
// leaves unreferenced objects, never a dangling name. Layer: oci.
#pragma once

#include <optional>
#include <string>

#include "repo/repository.h"

namespace cfs::oci {

struct CommittedImage {
  Digest manifest_stream, config_stream;
  Digest image;  // the EROFS image of the repository's default format
};

// `manifest` and `config` are the documents as stored (their bytes hash to the digests).
// Error(ENOENT) when a layer's stream is missing.
CommittedImage commit_image(repo::Repository& repo, const std::string& manifest_digest,
                            const std::string& manifest, const std::string& config_digest,
                            const std::string& config, const std::optional<std::string>& tag);

}  // namespace cfs::oci
