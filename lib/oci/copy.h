// `cfsctl oci copy`: an OCI image and its layers from another repository into this one, as
// composefs-rs's copy_image does (layers the destination has are not copied again; then the
// image is committed as a pull commits it, so its image ID is the source's). Layer: oci.
#pragma once

#include <optional>
#include <string>

#include "oci/commit.h"
#include "repo/repository.h"

namespace cfs::oci {

struct CopyOptions {
  // Never copy an object's bytes: a reflink, else a hard link of the source's file
  // (ObjectStore::take_file: same filesystem, root), same hash algorithm only, else Error.
  // Without it an object is copied (a reflink where the filesystem can, as
  // ObjectStore::ingest does), across filesystems and hash algorithms.
  bool zerocopy = false;
  std::optional<std::string> tag;
};

struct CopyResult {
  std::string manifest_digest, config_digest;
  CommittedImage committed;
};

// `image`: a tag of `from`, or a manifest digest ("sha256:…").
CopyResult copy_image(repo::Repository& to, const repo::Repository& from, const std::string& image,
                      const CopyOptions& options);

}  // namespace cfs::oci
