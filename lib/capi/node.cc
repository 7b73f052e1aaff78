// The node model's rules (libcomposefs(3) "Nodes").
#include "capi/node.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <unordered_map>
#include <utility>

#include "base/error.h"
#include "format/composefs.h"

namespace cfs::capi {
namespace {

auto name_position(const Node* parent, std::string_view name) {
  return std::lower_bound(parent->children.begin(), parent->children.end(), name,
                          [](const Node* c, std::string_view n) { return std::string_view(*c->name) < n; });
}

void detach(Node* child) noexcept {
  child->parent = nullptr;
  child->name.reset();
}

std::uint64_t xattr_cost(std::string_view name, std::string_view value) { return 7 + name.size() + value.size(); }

}  // namespace

bool valid_type(std::uint32_t mode) noexcept {
  switch (mode & S_IFMT) {
    case S_IFREG: case S_IFDIR: case S_IFLNK: case S_IFBLK: case S_IFCHR: case S_IFSOCK: case S_IFIFO:
      return true;
    default:
      return false;
  }
}

void unref(Node* node) noexcept {
  // Without recursion: a tree can be as deep as it has nodes. "strip" detaches a node's
  // children (stripping them in turn) and then drops the reference its parent held.
  enum class Step { kDrop, kStrip };
  std::vector<std::pair<Node*, Step>> work{{node, Step::kDrop}};
  while (!work.empty()) {
    auto [n, step] = work.back();
    work.pop_back();
    if (step == Step::kDrop) {
      if (n->refs > 1) {
        --n->refs;
        continue;
      }
      // The last reference dropped by a caller while a parent still owns the node (a caller
      // bug upstream asserts on): the parent's reference stays the one that frees it.
      if (n->parent != nullptr) continue;
    }
    for (Node* c : n->children) {
      detach(c);
      work.emplace_back(c, Step::kStrip);
    }
    n->children.clear();
    if (step == Step::kStrip) {
      work.emplace_back(n, Step::kDrop);
      continue;
    }
    if (n->link != nullptr) work.emplace_back(std::exchange(n->link, nullptr), Step::kDrop);
    delete n;
  }
}

namespace {

// Would `child` under `parent` make a directory hold itself, i.e. is `child` `parent` or one
// of its ancestors? Walks up from `parent` and down through `child`'s subtree one step each in
// turn and stops with the first walk to end, so the cost is the smaller of the two: chains
// hundreds of thousands deep, built top-down or bottom-up, stay linear.
bool would_hold_itself(const Node* parent, const Node* child) {
  struct Cursor {
    const Node* dir;
    std::size_t next;
  };
  std::vector<Cursor> below{{child, 0}};
  for (const Node* up = parent; up != nullptr; up = up->parent) {
    if (up == child) return true;
    while (!below.empty() && below.back().next == below.back().dir->children.size()) below.pop_back();
    if (below.empty()) return false;  // the whole subtree seen: `parent` is not in it
    const Node* down = below.back().dir->children[below.back().next++];
    if (down == parent) return true;
    if (!down->children.empty()) below.push_back({down, 0});
  }
  return false;  // the root reached: `child` is not above `parent`
}

}  // namespace

void add_child(Node* parent, Node* child, std::string_view name) {
  if ((parent->mode & S_IFMT) != S_IFDIR) throw Error(ENOTDIR, "not a directory");
  if (name.empty()) throw Error(EINVAL, "empty name");
  if (name.size() > format::kMaxNameLen) throw Error(ENAMETOOLONG, "name too long");
  if (child->name) throw Error(EMLINK, "already in a directory");
  if (would_hold_itself(parent, child)) throw Error(ELOOP, "a directory cannot hold itself");  // upstream accepts it
  auto pos = name_position(parent, name);
  if (pos != parent->children.end() && *(*pos)->name == name) throw Error(EEXIST, "name exists");
  parent->children.insert(pos, child);
  child->name.emplace(name);
  child->parent = parent;
}

Node* lookup_child(const Node* parent, std::string_view name) noexcept {
  auto pos = name_position(parent, name);
  return pos != parent->children.end() && *(*pos)->name == name ? *pos : nullptr;
}

void set_xattr(Node* node, std::string_view name, std::string_view value, std::uint64_t budget) {
  if (name.empty() || name.size() > format::kMaxNameLen) throw Error(ERANGE, "bad xattr name");
  if (value.size() > UINT16_MAX) throw Error(EINVAL, "xattr value too large");
  auto& xs = node->xattrs;
  auto old = std::find_if(xs.begin(), xs.end(), [&](const Node::Xattr& x) { return x.name == name; });
  // The budget is checked before the old value goes (upstream lost it on a failed replace).
  std::uint64_t counter = node->xattr_budget;
  bool empty_after_removal = xs.empty() || (old != xs.end() && xs.size() == 1);
  if (old != xs.end()) counter = empty_after_removal ? 0 : counter - xattr_cost(old->name, old->value);
  std::uint64_t cost = xattr_cost(name, value) + (empty_after_removal ? 12 : 0);
  if (counter + cost > budget) throw Error(ERANGE, "xattrs exceed the node's budget");
  Node::Xattr x{std::string(name), std::string(value)};
  if (old != xs.end()) {  // removed as unset_xattr removes: the last entry takes its place
    *old = std::move(xs.back());
    xs.pop_back();
  }
  xs.push_back(std::move(x));
  node->xattr_budget = counter + cost;
}

void set_payload(Node* node, const char* payload) {
  if (payload == nullptr) {
    node->payload.reset();
    return;
  }
  if (std::strlen(payload) > format::kMaxPathLen) throw Error(ENAMETOOLONG, "payload too long");
  node->payload.emplace(payload);
}

Node* clone(const Node* node) {
  auto copy = std::make_unique<Node>(*node);  // every data field; then what is not data
  copy->refs = 1;
  copy->parent = nullptr;
  copy->name.reset();
  copy->children.clear();
  copy->invalid_link = false;
  if (copy->link != nullptr) ++copy->link->refs;
  return copy.release();
}

Node* clone_deep(const Node* node) {
  std::unordered_map<const Node*, Node*> copies;
  Node* root = clone(node);
  copies.emplace(node, root);
  try {
    std::vector<const Node*> todo{node};
    while (!todo.empty()) {
      const Node* n = todo.back();
      todo.pop_back();
      if (!n->children.empty() && (n->mode & S_IFMT) != S_IFDIR) throw Error(ENOTDIR, "children under a non-directory");
      Node* copy = copies.at(n);
      copy->children.reserve(n->children.size());
      for (const Node* c : n->children) {  // already in order, names unique
        Node* cc = clone(c);
        cc->name = c->name;
        cc->parent = copy;
        copy->children.push_back(cc);
        copies.emplace(c, cc);
        todo.push_back(c);
      }
    }
    for (auto [original, copy] : copies) {
      if (copy->link == nullptr) continue;
      auto inside = copies.find(original->link);
      if (inside == copies.end()) continue;
      unref(copy->link);
      copy->link = inside->second;
      ++copy->link->refs;
    }
  } catch (...) {
    unref(root);
    throw;
  }
  return root;
}

}  // namespace cfs::capi
