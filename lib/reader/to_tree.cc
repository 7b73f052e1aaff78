#include "reader/to_tree.h"

#include <unordered_map>
#include <vector>

namespace cfs::reader {

tree::Tree to_tree(const Image& image, const WalkOptions& options) {
  tree::Tree tree;
  std::vector<tree::Node*> dirs;  // dirs[d]: the directory at depth d on the current path
  std::unordered_map<std::uint64_t, tree::Node*> linked;  // first node of each linked inode
  walk(image, options, [&](const WalkEntry& e) {
    tree::Node* node = tree.new_node();
    if (e.primary != nullptr) {
      tree::Node* first = linked.at(e.nid);
      node->link = first;  // a later entry naming a loaded inode: a hard link
      node->mode = first->mode;
    } else {
      *node = e.inode;  // the walker's node has no name, children, parent or link
      node->payload = tree.keep(e.inode.payload);
      node->content = tree.keep(e.inode.content);
      node->digest = tree.keep(e.inode.digest);
      if (e.linked) linked.emplace(e.nid, node);
    }
    node->name = tree.keep(e.name);
    if (e.depth == 0) {
      tree.set_root(node);
    } else {
      tree.add_child(dirs[e.depth - 1], node);
    }
    dirs.resize(e.depth);
    dirs.push_back(node);
  });
  return tree;
}

}  // namespace cfs::reader
