// docker://HOST[:PORT]/NAME(:TAG|@DIGEST): the OCI distribution API (oci-import.md §2.2).
// Manifests are fetched with every type we accept; blobs are streamed. Auth: anonymous, Basic
// and Bearer tokens (the distribution token spec), with credentials from --creds or the usual
// auth files ($REGISTRY_AUTH_FILE, $XDG_RUNTIME_DIR/containers/auth.json,
// ~/.config/containers/auth.json, ~/.docker/config.json). HTTPS, verified; plain HTTP only
// for registries declared insecure in registries.conf ($CONTAINERS_REGISTRIES_CONF, else
// /etc/containers/registries.conf) or with --tls-verify=false. Layer: oci.
#pragma once

#include <memory>
#include <string>

#include "oci/source.h"

namespace cfs::oci {

struct RegistryReference {
  std::string host;        // "registry-1.docker.io" for Docker Hub names
  std::string repository;  // "library/debian"
  std::string reference;   // tag or "sha256:…"
};
// Error naming what is wrong with `ref`.
RegistryReference parse_registry_reference(const std::string& ref);

// Whether registries.conf declares `host` (HOST[:PORT]) insecure.
bool registry_insecure(const std::string& host);

std::unique_ptr<ImageSource> open_registry(const std::string& ref, const SourceOptions& options);

}  // namespace cfs::oci
