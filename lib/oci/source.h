// Where an image comes from: a registry (docker://), an OCI image layout (oci:DIR[:TAG],
// oci-archive:FILE[:TAG]), skopeo's dir:PATH, a `docker save` archive
// (docker-archive:FILE[:TAG]) or podman's containers-storage:NAME, all reduced to one model: a manifest
// resolved for this platform, its config, and layer blobs streamed one by one (oci-import.md
// §2). Every byte from a source is checked against the digest that names it before use.
// Layer: oci.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "base/error.h"
#include "net/http.h"
#include "oci/layer.h"
#include "oci/manifest.h"

namespace cfs::oci {

using net::BlobReader;
struct LayerRef;

class ImageSource {
 public:
  virtual ~ImageSource() = default;
  // The tag or digest the source string named ("" for "the only image").
  virtual std::string reference() const = 0;
  // The manifest or index that `reference` (a tag, "" or a digest) names: its bytes and the
  // media type it was served with ("" when the source does not say).
  virtual std::pair<std::string, std::string> fetch_manifest(const std::string& reference) = 0;
  virtual std::unique_ptr<BlobReader> open_blob(const Descriptor& blob) = 0;
  // The referrers index of manifest `digest` (bytes, unchecked; oci/referrers_index.h), from
  // where the manifest came from; nullopt when there is none, or the source keeps none.
  virtual std::optional<std::string> fetch_referrers(const std::string& /*digest*/) { return std::nullopt; }
  // containers-storage keeps no layer blobs, only what rebuilds each layer's tar: the layer
  // as a LocalTar (its digest is its diff_id) and the tar's size. Sources that serve blobs
  // give nullptr and nullopt.
  virtual std::unique_ptr<LocalTar> open_local_layer(const LayerRef&) { return nullptr; }
  virtual std::optional<std::uint64_t> local_layer_size(const LayerRef&) { return std::nullopt; }
};

struct SourceOptions {
  std::optional<bool> tls_verify;  // --tls-verify; unset: registries.conf decides
  std::string creds;               // --creds USER:PASSWORD; else the auth files
};

// The source a cfsctl image reference names. Errors as cfsctl prints them ("Missing ':' in X",
// "Unknown transport 'p'", "Invalid empty name in X") and for transports we do not read.
std::unique_ptr<ImageSource> open_source(const std::string& image, const SourceOptions& options);

struct LayerRef {
  Descriptor blob;
  LayerBlob layer;  // digest, size, compression, diff_id
};

struct ResolvedImage {
  std::string manifest, manifest_digest;
  Descriptor config_blob;  // media type mapped to OCI
  std::string config, config_digest;
  bool container = false;  // an image config (else an artifact)
  std::vector<LayerRef> layers;
};

// The manifest for this platform, its config, and its layers paired with their diff_ids.
ResolvedImage resolve(ImageSource& source);

// A small blob (a config), read whole and checked against its descriptor.
std::string read_small_blob(ImageSource& source, const Descriptor& blob);

}  // namespace cfs::oci
