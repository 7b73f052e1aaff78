// Image -> Tree, as upstream's loader builds it for composefs-info and composefs-dump
// (dump-format.md §8.4): overlay xattrs folded back into payload/digest, whiteouts restored,
// escaped xattrs unescaped, the 256 root whiteouts dropped, hard links by repeated nid.
// Layer: reader.
#pragma once

#include <string>
#include <vector>

#include "reader/image.h"
#include "tree/tree.h"

namespace cfs::reader {

struct ToTreeOptions {
  std::vector<std::string> filters;  // only these top-level names (empty: everything)
};

tree::Tree to_tree(const Image& image, const ToTreeOptions& options = {});

}  // namespace cfs::reader
