#include "capi/convert.h"

#include <sys/stat.h>

#include <memory>
#include <unordered_map>
#include <vector>

#include "base/error.h"
#include "format/composefs.h"

namespace cfs::capi {
namespace {

// One node's data; links and children are the caller's.
void copy_data(const Node& from, tree::Node& to, tree::Tree& tree) {
  to.mode = from.mode;
  to.nlink = from.nlink;
  to.uid = from.uid;
  to.gid = from.gid;
  to.rdev = from.rdev;
  to.size = from.size;
  to.mtime_sec = from.mtime_sec;
  to.mtime_nsec = from.mtime_nsec;
  std::uint32_t type = from.mode & S_IFMT;
  if (type == S_IFLNK) {
    if (!from.payload || from.payload->empty()) throw Error(EINVAL, "symlink without a target");
    to.payload = tree.keep(*from.payload);
    to.size = to.payload.size();  // a size that disagrees with the target (ostree's 0) is ignored
  } else if (type == S_IFREG) {
    if (from.payload) to.payload = tree.keep(*from.payload);
    if (from.content && from.size > 0) to.content = tree.keep(*from.content);
    if (from.digest) to.digest = tree.keep(*from.digest);
  }
  to.xattrs.reserve(from.xattrs.size());
  for (const Node::Xattr& x : from.xattrs) to.xattrs.push_back({x.name, x.value});
}

}  // namespace

tree::Tree to_tree(const Node& root) {
  if (root.link != nullptr || root.invalid_link) throw Error(ENOTDIR, "the root is a hard link");
  if (!valid_type(root.mode)) throw Error(EINVAL, "invalid file type");
  if ((root.mode & S_IFMT) != S_IFDIR) throw Error(ENOTDIR, "the root is not a directory");
  tree::Tree tree;
  std::unordered_map<const Node*, tree::Node*> nodes;
  std::vector<std::pair<const Node*, tree::Node*>> links;
  tree::Node* top = tree.new_node();
  tree.set_root(top);
  nodes.emplace(&root, top);
  std::vector<std::pair<const Node*, tree::Node*>> todo{{&root, top}};
  while (!todo.empty()) {
    auto [from, to] = todo.back();
    todo.pop_back();
    if (from->invalid_link) throw Error(EINVAL, "a refused hard link");
    if (from->link != nullptr) {  // a link node: only its target matters (as upstream)
      links.emplace_back(from, to);
      continue;
    }
    copy_data(*from, *to, tree);
    to->children.reserve(from->children.size());
    for (const Node* c : from->children) {  // sorted, names unique
      tree::Node* child = tree.new_node();
      child->name = tree.keep(*c->name);
      child->parent = to;
      to->children.push_back(child);
      nodes.emplace(c, child);
      todo.emplace_back(c, child);
    }
  }
  // Link targets outside the tree become detached stand-ins (with their own link, if any): the
  // writer refuses a link whose final target is not written (EINVAL), as upstream.
  for (std::size_t i = 0; i < links.size(); ++i) {
    auto [from, to] = links[i];
    auto [it, added] = nodes.emplace(from->link, nullptr);
    if (added) {
      it->second = tree.new_node();
      if (from->link->link != nullptr) {
        links.emplace_back(from->link, it->second);
      } else {
        it->second->mode = from->link->mode;
      }
    }
    to->link = it->second;
  }
  return tree;
}

Node* from_tree(const tree::Node& root, std::uint64_t xattr_budget) {
  std::unordered_map<const tree::Node*, Node*> nodes;
  std::vector<std::pair<const tree::Node*, Node*>> todo;
  auto make = [&](const tree::Node& from) {
    auto n = std::make_unique<Node>();
    if (from.link == nullptr) {
      n->mode = from.mode;
      n->nlink = from.nlink;
      n->uid = from.uid;
      n->gid = from.gid;
      n->rdev = static_cast<std::uint32_t>(from.rdev);
      n->size = from.size;
      n->mtime_sec = from.mtime_sec;
      n->mtime_nsec = from.mtime_nsec;
      if (!from.payload.empty()) n->payload.emplace(from.payload);
      if (!from.content.empty()) n->content.emplace(from.content);
      if (from.digest) n->digest = *from.digest;
      for (const tree::Xattr& x : from.xattrs) set_xattr(n.get(), x.name, x.value, xattr_budget);
    }
    Node* raw = n.release();
    nodes.emplace(&from, raw);
    todo.emplace_back(&from, raw);
    return raw;
  };
  Node* top = make(root);
  try {
    while (!todo.empty()) {
      auto [from, to] = todo.back();
      todo.pop_back();
      to->children.reserve(from->children.size());
      for (const tree::Node* c : from->children) {
        Node* child = make(*c);
        child->name.emplace(c->name);
        child->parent = to;
        to->children.push_back(child);
      }
    }
    for (auto [from, to] : nodes) {
      if (from->link == nullptr) continue;
      auto target = nodes.find(from->link);
      if (target == nodes.end()) throw Error(EINVAL, "hard link out of the tree");
      to->link = target->second;
      ++to->link->refs;
    }
  } catch (...) {
    unref(top);
    throw;
  }
  return top;
}

}  // namespace cfs::capi
