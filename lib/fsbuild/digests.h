// Fills in what a scanned tree's regular files need for the image: the fs-verity digest and
// object path of every non-empty file, and the inline content of files of at most 64 bytes.
// Optionally copies each external file into an object store. Work is spread over threads; the
// result does not depend on their number. Layer: fsbuild.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "tree/tree.h"

namespace cfs::store {
class ObjectStore;
}

namespace cfs::fsbuild {

// Counters a caller may watch from another thread while hash_files runs.
struct Progress {
  std::atomic<std::uint64_t> files_total{0}, bytes_total{0};  // set before work starts
  std::atomic<std::uint64_t> files_done{0}, bytes_done{0};
};

// Throws Error("<path>: <strerror>") for the first file that fails (remaining work stops).
void hash_files(tree::Tree& tree, const std::string& source, unsigned threads,
                store::ObjectStore* store, Progress* progress = nullptr);

}  // namespace cfs::fsbuild
