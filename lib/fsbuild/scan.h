// Directory tree -> Tree, as upstream mkcomposefs reads it (tools.md §1.3): lstat semantics,
// xattrs through an O_PATH fd, fs-verity digests of regular files, inline content for files
// of at most 64 bytes. Layer: fsbuild (does I/O).
#pragma once

#include <string>

#include "tree/tree.h"

namespace cfs::fsbuild {

struct ScanOptions {
  bool use_epoch = false;     // all mtimes 0.0
  bool skip_devices = false;  // leave out block and character devices below the root
  bool skip_xattrs = false;
  bool user_xattrs = false;   // only user.* xattrs
  // Keep hard links: later paths of an inode become aliases of the first one (in sorted
  // pre-order), whose nlink is the number of its paths in the tree. Off by default, as
  // upstream, whose images have every path as its own inode with nlink 1.
  bool hardlinks = false;
};

// Throws Error whose message is "<path>: <strerror>" for the first entry that cannot be read.
tree::Tree scan(const std::string& source, const ScanOptions& options);

// The full path of an entry, for messages and for opening it again (store copies).
std::string source_path(const std::string& source, const tree::Node& node);

}  // namespace cfs::fsbuild
