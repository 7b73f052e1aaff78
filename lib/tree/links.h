// Hard links after a tree was edited: composefs-rs keeps a table of leaves and counts their
// names; we keep one node per inode (its first name) and aliases for the others. After names
// are removed (an emptied directory) or split (relabelling), relink() restores that shape.
// Layer: tree (pure).
#pragma once

#include "tree/tree.h"

namespace cfs::tree {

// Breadth-first, children in name order (the writer's order): an inode's first name in the
// tree becomes its node (taking the inode's fields when it was an alias), its other names
// become aliases of that node, and its nlink is its number of names. Inodes no name reaches
// any more are dropped (composefs-rs's FileSystem::compact). Throws Error(ELOOP) on an alias
// loop.
void relink(Tree& tree);

// The inode fields of `from` (not name, parent, children or link) copied into `to`.
void copy_inode_fields(Node& to, const Node& from);

}  // namespace cfs::tree
