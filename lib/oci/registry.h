// docker://HOST[:PORT]/NAME(:TAG|@DIGEST): the OCI distribution API (oci-import.md §2.2).
// Manifests are fetched with every type we accept; blobs are streamed. Auth: anonymous, Basic
// and Bearer tokens (the distribution token spec), with credentials from --creds or the usual
// auth files ($REGISTRY_AUTH_FILE, $XDG_RUNTIME_DIR/containers/auth.json,
// ~/.config/containers/auth.json, ~/.docker/config.json; --creds go only to the host named).
// registries.conf (registries_conf.h) says where the name is fetched from: its mirrors in
// order, then its location; the first that serves the manifest serves the blobs too. HTTPS,
// verified; plain HTTP only for registries declared insecure there or with --tls-verify=false.
// Layer: oci.
#pragma once

#include <memory>
#include <string>

#include "oci/source.h"

namespace cfs::oci {

// `ref`: a docker:// name without the transport. Errors: a bad name, a bad registries.conf,
// a blocked registry.
std::unique_ptr<ImageSource> open_registry(const std::string& ref, const SourceOptions& options);

}  // namespace cfs::oci
