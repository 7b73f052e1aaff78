// containers-storage (overlay driver) read as podman keeps it, without taking its locks or
// changing anything: where the stores are (storage.conf's graphroot, the rootless default,
// additional image stores), images.json (names, IDs, top layer), layers.json (the layer
// chain, diff digests, incomplete layers), an image's metadata files ("big data": manifest,
// config) and each layer's overlay/<id>/diff and tar-split. Layer: oci.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/unique_fd.h"

namespace cfs::oci::cstor {

// The stores podman would read for this user: the graph root first, then the additional image
// stores. `explicit_root` (containers-storage:[ROOT]NAME or [DRIVER@ROOT+RUNROOT]NAME) replaces
// the graph root. Reads $CONTAINERS_STORAGE_CONF or /etc/containers/storage.conf (then
// /usr/share/containers/storage.conf) as root, $XDG_CONFIG_HOME/containers/storage.conf
// rootless, and STORAGE_OPTS's additionalimagestore=.
std::vector<std::string> discover_stores(const std::optional<std::string>& explicit_root);

struct Layer {
  std::string id, parent, diff_digest;  // diff_digest: "sha256:…" of the layer's tar
  std::uint64_t diff_size = 0;
};

struct Image {
  std::string store;          // the store's root directory
  std::string id;             // 64 hex: the config's digest
  std::vector<Layer> layers;  // base first
};

// The image `ref` names: "@ID" or "ID" (a unique prefix of at least 12 hex digits does too),
// or a name as podman matches it ("x" is "x:latest", and matches "localhost/x:latest" or
// "docker.io/library/x:latest"). Error(ENOENT) when no store has it, EINVAL when ambiguous,
// EBUSY when a layer is incomplete (podman is still writing it, or was interrupted).
Image find_image(const std::vector<std::string>& stores, const std::string& ref);

// An image's metadata item (overlay-images/<id>/<key as containers-storage encodes it>), or
// nullopt when absent.
std::optional<std::string> read_big_data(const Image& image, const std::string& key);

// The layer's overlay/<id>/diff directory and its lower layers' (topmost first), opened O_PATH.
std::vector<UniqueFd> layer_dirs(const Image& image, const Layer& layer);

// The file holding the data of tar entry `name` ("./a/b"): in the layer's own directory, else
// (absent, or an overlay metacopy stub) in a lower one. Opened read-only beneath the directory
// (no "..", no symlink). Error naming the file when none has it or it cannot be read (EACCES
// keeps its errno: a rootless store's files belong to subordinate uids).
UniqueFd open_layer_file(const std::vector<UniqueFd>& dirs, const std::string& name);

// overlay-layers/<id>.tar-split.gz, opened read-only.
UniqueFd open_tar_split(const Image& image, const Layer& layer);

}  // namespace cfs::oci::cstor
