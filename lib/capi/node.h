// The C library's node: a mutable, reference-counted tree node with the semantics of upstream
// libcomposefs 1.0.8 (libcomposefs(3)). It is its own model, not tree::Tree (which is
// append-only): callers add, replace and look up children, clone trees and drop them piece by
// piece. Layer: capi. Not thread-safe: one tree, one thread at a time (as upstream).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/digest.h"

struct lcfs_node_s {
  struct Xattr {
    std::string name;
    std::string value;
  };

  std::uint32_t refs = 1;
  lcfs_node_s* parent = nullptr;     // borrowed; set with `name` by add_child
  std::optional<std::string> name;   // the name under `parent`
  std::vector<lcfs_node_s*> children;  // owned references, sorted by name (bytewise)
  lcfs_node_s* link = nullptr;       // hard-link target: an owned reference
  bool invalid_link = false;         // make_hardlink refused a cycle: the tree cannot be written
  std::optional<std::string> payload;
  std::optional<std::string> content;  // inline data; its length is `size`
  std::vector<Xattr> xattrs;           // in the order upstream keeps them (see set_xattr)
  std::uint64_t xattr_budget = 0;      // bytes charged against LCFS_INODE_EXTERNAL_XATTR_MAX
  std::optional<cfs::Digest> digest;
  std::uint32_t mode = 0;
  std::uint32_t nlink = 1;
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
  std::uint32_t rdev = 0;
  std::uint64_t size = 0;
  std::int64_t mtime_sec = 0;
  std::uint32_t mtime_nsec = 0;
};

namespace cfs::capi {

using Node = lcfs_node_s;

// The rules of the node model, shared by the exported functions and by the loaders. Each
// throws cfs::Error with upstream's errno.

// Drops one reference; the last one frees the node, detaching its whole subtree (descendants
// still referenced elsewhere survive parentless, nameless and childless, as upstream).
void unref(Node* node) noexcept;
// Inserts `child` (taking over the caller's reference) under `parent` in name order.
void add_child(Node* parent, Node* child, std::string_view name);
Node* lookup_child(const Node* parent, std::string_view name) noexcept;
// Sets or replaces an xattr within the budget; `budget` is LCFS_INODE_EXTERNAL_XATTR_MAX for
// callers, larger for images being loaded.
void set_xattr(Node* node, std::string_view name, std::string_view value, std::uint64_t budget);
void set_payload(Node* node, const char* payload);
// Copies the node's data (not its name, parent or children); the copy shares its link target.
Node* clone(const Node* node);
// Clones a subtree; links to nodes inside it point at their copies.
Node* clone_deep(const Node* node);

bool valid_type(std::uint32_t mode) noexcept;

}  // namespace cfs::capi
