// containers-storage:[[DRIVER@]ROOT[+RUNROOT]]NAME|@ID as an image source: the manifest and
// config podman kept, and each layer's tar rebuilt from its tar-split and the files of its
// overlay diff/ (a LocalTar: the importer may reflink or hard-link those files). Read only:
// no lock is taken and nothing in the storage changes. Layer: oci.
#pragma once

#include <memory>
#include <string>

#include "oci/source.h"

namespace cfs::oci::cstor {

// Error(ENOENT) when no store has the image, EBUSY for a layer podman is still writing,
// ENOTSUP for a storage driver other than overlay.
std::unique_ptr<ImageSource> open_containers_storage(const std::string& ref);

}  // namespace cfs::oci::cstor
