// Directory tree -> Tree, as upstream mkcomposefs reads it (docs/man/mkcomposefs.1.md): lstat semantics,
// xattrs of the entry itself (symlinks too), fs-verity digests of regular files, inline content for files
// of at most 64 bytes. Layer: fsbuild (does I/O).
#pragma once

#include <sys/stat.h>

#include <functional>
#include <string>

#include "fsbuild/build_error.h"
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

// Called for each regular file (not for later hard links of it) once it is in the tree, so
// that its contents can be worked on while the scan goes on.
using FileSink = std::function<void(tree::Node&)>;

// One entry's metadata, symlink target and xattrs into `node`, as the scan reads each entry:
// `st` is its lstat, `name` the entry in directory `fd` (nullptr: `fd` is the entry itself),
// `path` what a BuildError names. Its contents are not read.
void read_entry(tree::Tree& tree, tree::Node& node, const struct stat& st, int fd, const char* name,
                const std::string& path, const ScanOptions& options);

// Builds the tree of the directory open as `dir_fd` in `tree` (which owns the nodes handed to
// on_file, even when the scan fails). Entries are reached from their directory's fd, never
// by path. Throws BuildError (Step::kScan) for the first entry that cannot be read.
void scan(int dir_fd, const ScanOptions& options, tree::Tree& tree, const FileSink& on_file = {});

}  // namespace cfs::fsbuild
