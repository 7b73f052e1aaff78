// Fills in what a scanned tree's regular files need for the image: the fs-verity digest and
// object path of every non-empty file, and the inline content of files of at most 64 bytes.
// Optionally copies each external file into an object store. Work is spread over threads; the
// result does not depend on their number. Layer: fsbuild.
#pragma once

#include <string>

#include "tree/tree.h"

namespace cfs::store {
class ObjectStore;
}

namespace cfs::fsbuild {

// Throws Error("<path>: <strerror>") for the first file that fails (remaining work stops).
void hash_files(tree::Tree& tree, const std::string& source, unsigned threads,
                store::ObjectStore* store);

}  // namespace cfs::fsbuild
