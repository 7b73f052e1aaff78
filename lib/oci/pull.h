// `cfsctl oci pull`: an image from a source into the repository, and the image tree of a
// stored OCI image (for pull, oci compute-id and oci dump). Order, so that a crash at any point
// leaves only unreferenced objects: layers (in parallel, each published as its stream once
// complete; layers already stored by diff_id are not fetched) → the EROFS image and its
// images/ link → config stream → manifest stream → tag; then, from a registry, the
// manifest's referrers (oci/referrers_pull.h: best effort, warnings). Layer: oci.
#pragma once

#include <optional>
#include <string>

#include "base/progress.h"
#include "oci/layer.h"
#include "oci/referrers_pull.h"
#include "oci/source.h"
#include "oci/stored.h"
#include "oci/transform.h"
#include "tree/tree.h"

namespace cfs::oci {

struct PullResult {
  std::string manifest_digest, config_digest;
  Digest manifest_stream;  // what `verity` prints
  ImportStats stats;
  std::optional<Digest> image;
  ReferrersPulled referrers;
};

struct PullOptions {
  unsigned parallel = 0;        // layers at once; 0: one per CPU
  Progress* progress = nullptr;  // bytes of layer blobs
  ProgressRows* layers = nullptr;  // a row per layer (by blob digest): fetched, or skipped
  LocalFetch local_fetch = LocalFetch::kAuto;  // layers a source rebuilds from local files
  bool referrers = true;                       // fetch and store the manifest's referrers
};

PullResult pull(repo::Repository& repo, ImageSource& source, const std::string& tag, const PullOptions& options);

// The merged, transformed tree of a stored image's layers (read from their streams). With
// `verify`, every layer's tar is reassembled and checked against its diff_id.
tree::Tree image_tree(const repo::Repository& repo, const StoredImage& image, const TransformOptions& transform,
                      bool verify = false);

// The image ID of a tree in EROFS format `version` (0 or 1; Error for 2): the image is hashed
// as it is written, never held in memory.
Digest erofs_image_id(const tree::Tree& tree, std::uint32_t version, HashAlgorithm algorithm);
// The image stored as an object (written to an unnamed file, then ingested); its ID.
Digest store_erofs_image(repo::Repository& repo, const tree::Tree& tree, std::uint32_t version);

}  // namespace cfs::oci
