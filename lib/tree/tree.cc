#include "tree/tree.h"

#include <cstring>

#include <algorithm>
#include <memory>
#include <new>

#include "base/large_alloc.h"

namespace cfs::tree {

const Node* Node::resolve() const noexcept {
  const Node* n = this;
  // A chain longer than the number of nodes would loop; 65536 hops is far beyond real use.
  for (int hops = 0; n->link != nullptr; ++hops) {
    if (hops > 65536) return nullptr;
    n = n->link;
    if (n == this) return nullptr;
  }
  return n;
}

Node* Node::find_child(std::string_view child_name) const {
  auto it = std::lower_bound(children.begin(), children.end(), child_name,
                             [](const Node* c, std::string_view n) { return c->name < n; });
  return it != children.end() && (*it)->name == child_name ? *it : nullptr;
}

Node* Tree::find(std::string_view path) const {
  Node* n = root_;
  while (!path.empty() && path != "/" && n != nullptr) {
    path.remove_prefix(1);  // '/'
    std::size_t slash = std::min(path.find('/'), path.size());
    n = n->find_child(path.substr(0, slash));
    path.remove_prefix(slash);
  }
  return n;
}

std::string Node::path() const {
  if (parent == nullptr) return "/";
  std::vector<const Node*> chain;
  for (const Node* n = this; n->parent != nullptr; n = n->parent) chain.push_back(n);
  std::string out;
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
    out += '/';
    out += (*it)->name;
  }
  return out;
}

const Xattr* Node::find_xattr(std::string_view xattr_name) const {
  for (const Xattr& x : xattrs) {
    if (x.name == xattr_name) return &x;
  }
  return nullptr;
}

std::string_view Tree::keep(std::string_view bytes) {
  std::lock_guard lock(strings_->mutex);
  return strings_->arena.concat(bytes);
}

DigestRef Tree::keep(const Digest& digest) {
  char bytes[1 + Digest::kMaxSize];
  bytes[0] = static_cast<char>(digest.algorithm());
  std::memcpy(bytes + 1, digest.data(), digest.size());
  std::string_view kept = keep(std::string_view(bytes, 1 + digest.size()));
  return DigestRef::over(reinterpret_cast<const std::uint8_t*>(kept.data()));
}

Digest DigestRef::operator*() const {
  Digest d(algorithm());
  std::memcpy(d.data(), bytes_ + 1, d.size());
  return d;
}

Tree::Chunk::Chunk(std::size_t capacity)
    : nodes_(LargeAllocator<Node>().allocate(capacity)), capacity_(capacity) {}

Tree::Chunk::Chunk(Chunk&& other) noexcept
    : nodes_(std::exchange(other.nodes_, nullptr)),
      capacity_(std::exchange(other.capacity_, 0)),
      used_(std::exchange(other.used_, 0)) {}

Tree::Chunk::~Chunk() {
  std::destroy_n(nodes_, used_);
  LargeAllocator<Node>().deallocate(nodes_, capacity_);
}

Node* Tree::Chunk::add() { return used_ < capacity_ ? new (nodes_ + used_++) Node() : nullptr; }

Node* Tree::new_node() {
  Node* n = chunks_.empty() ? nullptr : chunks_.back().add();
  if (n == nullptr) {
    constexpr std::size_t kLargest = kHugePageSize / sizeof(Node);
    chunks_.emplace_back(grown_size(1024, chunks_.size(), kLargest));
    n = chunks_.back().add();
  }
  ++count_;
  return n;
}

bool Tree::add_child(Node* dir, Node* child) {
  auto& kids = dir->children;
  if (kids.empty() || kids.back()->name < child->name) {  // the usual case: names in order
    child->parent = dir;
    kids.push_back(child);
    return true;
  }
  auto it = std::lower_bound(kids.begin(), kids.end(), child->name,
                             [](const Node* c, std::string_view n) { return c->name < n; });
  if (it != kids.end() && (*it)->name == child->name) return false;
  child->parent = dir;
  kids.insert(it, child);
  return true;
}

}  // namespace cfs::tree
