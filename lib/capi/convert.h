// Between the C library's nodes and tree::Tree, the model our writer, reader and directory
// scanner share: the C API writes, loads and builds through the same code as the tools.
// Layer: capi.
#pragma once

#include "capi/node.h"
#include "tree/tree.h"

namespace cfs::capi {

// The tree below `root` as the writer sees it (root's own name and parent ignored). Throws
// Error with upstream's errno for what cannot be written: EINVAL for a node without a valid
// type, a refused hard link or a symlink without a target; ENOTDIR when `root` is not a
// directory.
tree::Tree to_tree(const Node& root);

// New nodes for the tree below `root` (one reference, owned by the caller). Aliases become
// link nodes; `xattr_budget` bounds each node's xattrs.
Node* from_tree(const tree::Node& root, std::uint64_t xattr_budget);

}  // namespace cfs::capi
