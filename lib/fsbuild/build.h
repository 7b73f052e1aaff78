// Building the tree of a directory for an image: the scan, and meanwhile, on a pool of
// threads, the digests of its files (copied into an object store when one is given). What
// mkcomposefs DIR does, and what the C API's lcfs_build will. Layer: fsbuild.
#pragma once

#include "fsbuild/build_error.h"
#include "fsbuild/digests.h"
#include "fsbuild/scan.h"
#include "tree/tree.h"

namespace cfs::store {
class ObjectStore;
}

namespace cfs::fsbuild {

struct BuildOptions {
  ScanOptions scan;
  unsigned threads = 0;                 // 0: one per CPU
  store::ObjectStore* store = nullptr;  // copy every external file's contents here
  Progress* progress = nullptr;         // counters another thread may watch
  HashAlgorithm algorithm = HashAlgorithm::kSha256;  // of the digests (a store's own wins)
};

// Fills `tree` from the directory open as `dir_fd`: every entry reached from its directory's
// fd, every file opened beneath `dir_fd` without following symlinks. Throws BuildError for
// the first entry that failed (the store may then hold some of the objects, all complete),
// Error when the store cannot be flushed.
void build(int dir_fd, const BuildOptions& options, tree::Tree& tree);

}  // namespace cfs::fsbuild
