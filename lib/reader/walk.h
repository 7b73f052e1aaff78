// Image -> its entries, depth-first in name order, as upstream's loader sees them
// (docs/format.md §9): overlay xattrs folded back into payload/digest, whiteouts restored
// (format V2 stores them as they are),
// escaped xattrs unescaped, the 256 root whiteouts dropped, and a directory entry naming an
// inode that an earlier entry named is a hard link. Layer: reader.
// No tree is built: composefs-info prints a large image in little memory. The image is walked
// twice, first to check all of it (an error comes before any entry is visited) and to learn
// which inodes several entries name; then to visit. Memory: two bits per possible inode, the
// directories on the current path, and the paths of the inodes named more than once.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "reader/image.h"
#include "tree/tree.h"

namespace cfs::reader {

struct WalkOptions {
  std::vector<std::string> filters;  // only these top-level names (empty: everything)
};

struct WalkEntry {
  const std::string& path;  // "/" for the root, else "/a/b"
  std::string_view name;    // the last component ("" for the root)
  int depth;                // 0 for the root
  std::uint64_t nid;
  // The inode's metadata, payload, content, digest and xattrs (children, parent and link
  // unused). Only valid during the visit.
  const tree::Node& inode;
  bool linked;                 // several entries name this inode
  const std::string* primary;  // set when an earlier entry named it: that entry's path
};
using WalkVisitor = std::function<void(const WalkEntry&)>;

// Throws Error on a corrupt image, before the first visit.
void walk(const Image& image, const WalkOptions& options, const WalkVisitor& visit);

}  // namespace cfs::reader
