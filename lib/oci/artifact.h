// An OCI artifact (a manifest whose config is not an image config: a signature, an SBOM, an
// attestation) stored as composefs-rs stores an artifact it pulls: every blob as the stream
// oci-layer-<digest> (content type "oci_blob", the blob as one object), the config stream
// oci-config-<digest> naming the blobs by digest, and the manifest stream naming
// "config:<digest>" and the blobs. Each is published only after what it names. Layer: oci.
#pragma once

#include <string>

#include "oci/source.h"
#include "repo/repository.h"

namespace cfs::oci {

// Blobs are read whole (at most 16 MiB each, as configs) and checked against their
// descriptors. `manifest` must be the bytes of `manifest_digest`. Error (ENOTSUP) for a
// container image or an artifact with tar layers (which composefs-rs would unpack); a blob
// that does not match its descriptor is an Error naming it. A manifest already stored is
// kept. Returns the manifest stream.
Digest store_artifact(repo::Repository& repo, ImageSource& source,
                      const std::string& manifest_digest, const std::string& manifest);

}  // namespace cfs::oci
