// OCI images as the repository keeps them, laid out as composefs-rs 0.9 lays them out
// (docs/repository.md): streams/oci-manifest-<digest> and streams/oci-config-<digest> are
// splitstreams holding the JSON as one object, with named references (the manifest names
// "config:<digest>" and every diff_id; the config names every diff_id and its images,
// "composefs.image.v1"); streams/oci-layer-<diff_id> are the layers; a tag is the link
// streams/refs/oci/<encoded name> -> ../../oci-manifest-<digest>. Layer: oci.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "oci/manifest.h"
#include "repo/repository.h"

namespace cfs::oci {

inline constexpr std::string_view kImageRefV1 = "composefs.image.v1";  // V0/V1 EROFS
inline constexpr std::string_view kImageRefV2 = "composefs.image";     // V2 EROFS
// The config stream's name for the EROFS of format `version`.
inline std::string_view image_ref_name(std::uint32_t version) { return version == 2 ? kImageRefV2 : kImageRefV1; }

std::string manifest_stream_name(const std::string& digest);  // oci-manifest-<digest>
std::string config_stream_name(const std::string& digest);    // oci-config-<digest>

// A tag's file name under streams/refs/oci/: '%' -> %25, '/' -> %2F, and back.
std::string encode_tag(std::string_view name);
std::string decode_tag(std::string_view file_name);

// Points the tag at a manifest (replaced atomically); the manifest is not checked to exist.
void tag_image(repo::Repository& repo, const std::string& name, const std::string& manifest_digest);
// Error "Failed to remove tag NAME" when there is no such tag.
void untag_image(repo::Repository& repo, const std::string& name);
// Every tag (decoded) and the manifest digest it names, in directory order; entries that are
// not links to a manifest stream are skipped.
std::vector<std::pair<std::string, std::string>> list_tags(const repo::Repository& repo);

// A splitstream whose content is one object (a manifest, a config), with named references.
Digest write_document_stream(repo::Repository& repo, std::uint64_t content_type, const std::string& bytes,
                             const std::map<std::string, Digest>& named_refs);
struct DocumentStream {
  std::string bytes;
  std::map<std::string, Digest> named_refs;
};
DocumentStream read_document_stream(const repo::Repository& repo, const Digest& stream, std::uint64_t content_type);

std::uint64_t manifest_content_type();
std::uint64_t config_content_type();

struct StoredImage {
  std::string manifest_digest, manifest;
  Digest manifest_stream;
  std::string config_digest, config;
  Digest config_stream;
  std::map<std::string, Digest> config_refs;  // diff_id -> layer stream; composefs.image* -> image
  Manifest parsed;
  bool container = false;
  // The image the config names for EROFS `version` (V0/V1 share a slot).
  std::optional<Digest> image(std::uint32_t version) const;
};

// A tag, or a manifest digest ("sha256:…", checked against the stored bytes). Errors name what
// is missing.
StoredImage open_stored_image(const repo::Repository& repo, const std::string& name_or_digest);

}  // namespace cfs::oci
