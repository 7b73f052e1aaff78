// Image -> Tree, as upstream's loader builds it for composefs-dump and the tests: the entries
// of walk() (walk.h) kept as nodes; a later entry naming an inode is a hard-link alias of
// the first. Layer: reader.
#pragma once

#include "reader/image.h"
#include "reader/walk.h"
#include "tree/tree.h"

namespace cfs::reader {

tree::Tree to_tree(const Image& image, const WalkOptions& options = {});

}  // namespace cfs::reader
