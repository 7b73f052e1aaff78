// OCI and Docker schema 2 documents as an import needs them (oci-import.md §2.1): indexes
// (manifest lists) resolved to this machine's platform, manifests, and the configs' diff_ids.
// Docker media types are mapped to their OCI equivalents; schema 1 is refused. Input is
// untrusted: invalid JSON, a missing field or a wrong type is an Error naming the document.
// Layer: oci (pure).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "oci/decompress.h"

namespace cfs::oci {

inline constexpr std::string_view kOciIndex = "application/vnd.oci.image.index.v1+json";
inline constexpr std::string_view kOciManifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr std::string_view kOciConfig = "application/vnd.oci.image.config.v1+json";
inline constexpr std::string_view kDockerManifest = "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr std::string_view kDockerList = "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr std::string_view kDockerConfig = "application/vnd.docker.container.image.v1+json";
inline constexpr std::string_view kOciLayerTar = "application/vnd.oci.image.layer.v1.tar";
inline constexpr std::string_view kOciLayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip";
// Every manifest type we accept, for a registry's Accept header.
std::string manifest_accept_header();

struct Descriptor {
  std::string media_type;
  std::string digest;  // "sha256:…"
  std::uint64_t size = 0;
};

enum class DocumentKind { kIndex, kManifest };

// What a manifest-ish document is, from its media type (a registry's Content-Type, an index
// entry's mediaType) or, when that is empty, its own "mediaType" field. Error if neither is
// a type we know, if they disagree, or for schema 1.
DocumentKind document_kind(std::string_view bytes, std::string_view media_type);

struct Platform {
  std::string os = "linux", architecture, variant;
};
Platform host_platform();  // GOARCH names: amd64, arm64, ...

// The index entry for `platform`: the first that matches, attestations skipped. Error naming the
// platform when there is none.
Descriptor select_from_index(std::string_view index_bytes, const Platform& platform);

struct Manifest {
  Descriptor config;               // media type mapped to OCI
  std::vector<Descriptor> layers;  // media types as given
};
Manifest parse_manifest(std::string_view bytes);

// A layer media type's compression; nullopt for types that are not tar layers.
std::optional<Compression> layer_compression(std::string_view media_type);

struct Config {
  std::vector<std::string> diff_ids;
  std::string architecture, os;
  std::optional<std::string> created;
  std::map<std::string, std::string> labels;  // config.Labels
};

// The label a sealed image carries: the fs-verity digest (hex) of its composefs image.
inline constexpr std::string_view kSealLabel = "containers.composefs.fsverity";
Config parse_config(std::string_view bytes);

// A container image's config media type (OCI or Docker); anything else is an artifact.
bool is_image_config(std::string_view media_type);

}  // namespace cfs::oci
