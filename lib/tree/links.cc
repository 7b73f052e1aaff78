#include "tree/links.h"

#include <deque>
#include <unordered_map>
#include <vector>

#include "base/error.h"

namespace cfs::tree {

void copy_inode_fields(Node& to, const Node& from) {
  to.mode = from.mode;
  to.nlink = from.nlink;
  to.uid = from.uid;
  to.gid = from.gid;
  to.rdev = from.rdev;
  to.size = from.size;
  to.mtime_sec = from.mtime_sec;
  to.mtime_nsec = from.mtime_nsec;
  to.payload = from.payload;
  to.content = from.content;
  to.digest = from.digest;
  to.xattrs = from.xattrs;
}

void relink(Tree& tree) {
  // First every name and the inode it names, read before any node changes (a later alias may
  // lead through a node that becomes a primary below).
  std::vector<std::pair<Node*, const Node*>> names;
  std::deque<Node*> queue{tree.root()};
  while (!queue.empty()) {
    Node* dir = queue.front();
    queue.pop_front();
    for (Node* c : dir->children) {
      if (c->is_dir()) {
        queue.push_back(c);
        continue;
      }
      const Node* inode = c->resolve();
      if (inode == nullptr) throw Error(ELOOP, "hard-link loop at " + c->path());
      names.emplace_back(c, inode);
    }
  }
  std::unordered_map<const Node*, Node*> first;  // inode -> its node now
  for (auto& [name, inode] : names) {
    auto [it, is_first] = first.emplace(inode, name);
    if (is_first) {
      if (name != inode) copy_inode_fields(*name, *inode);
      name->link = nullptr;
      name->nlink = 1;
    } else {
      name->link = it->second;
      it->second->nlink++;
    }
  }
}

}  // namespace cfs::tree
