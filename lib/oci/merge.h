// Layers into one tree, entry by entry in tar order, as composefs-rs 0.9 merges them
// (oci-import.md §5): a parent must exist and be a real directory; ".wh.X" removes X and
// ".wh..wh..opq" empties its directory, in stream order; a directory over a directory takes
// only the metadata; anything else replaces; hard links share the target's inode as it is at
// that moment, across layers too. finish() gives every inode one node (its first name in
// breadth-first order) and the others hard-link aliases, with nlink counted. Layer: oci.
#pragma once

#include <map>
#include <vector>

#include "oci/tar.h"
#include "tree/tree.h"

namespace cfs::oci {

class LayerMerger {
 public:
  explicit LayerMerger(tree::Tree& tree);
  // Throws Error naming the entry when composefs-rs's rules refuse it.
  void apply(const TarEntry& e);
  // The tree, ready for transform_for_oci and the writer.
  void finish();

 private:
  tree::Node* lookup(const std::string& path, const std::string& entry) const;
  tree::Node* leaf_of(const TarEntry& e);
  void remove(tree::Node* dir, std::string_view name);

  tree::Tree& tree_;
};

}  // namespace cfs::oci
