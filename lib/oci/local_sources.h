// Sources on this machine: an OCI image layout (a directory or an archive), skopeo's dir:, and
// a `docker save` archive.
// Layer: oci.
#pragma once

#include <memory>
#include <string>

#include "oci/source.h"

namespace cfs::oci {

// oci:DIR[:TAG]: index.json, blobs/sha256/<hex>; TAG is the org.opencontainers.image.ref.name
// annotation of an index.json entry (none: the layout's only image).
std::unique_ptr<ImageSource> open_layout(const std::string& dir, const std::string& tag);

// oci-archive:FILE[:TAG]: a tar of an OCI image layout (as skopeo writes it), read in place.
std::unique_ptr<ImageSource> open_oci_archive(const std::string& file, const std::string& tag);

// dir:PATH (skopeo's directory: manifest.json, and each blob as a file named by its hex
// digest).
std::unique_ptr<ImageSource> open_dir(const std::string& dir);

// docker-archive:FILE[:TAG]: manifest.json's entry for TAG (none: the only one); the tar's
// members are read in place. The manifest is made here (an OCI manifest naming the config and
// layer members by their SHA-256), as skopeo makes one for such archives.
std::unique_ptr<ImageSource> open_docker_archive(const std::string& file, const std::string& tag);

// A regular file's bytes [offset, offset + size) as a blob.
std::unique_ptr<BlobReader> file_range_reader(UniqueFd fd, std::uint64_t offset, std::uint64_t size);

}  // namespace cfs::oci
