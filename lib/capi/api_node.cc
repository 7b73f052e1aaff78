// lcfs-writer.h: nodes, their tree, attributes, xattrs, payload and content
// (libcomposefs(3) "Nodes"). Getters return borrowed pointers owned by the node.
#include <sys/stat.h>

#include <algorithm>
#include <cstring>

#include "capi/boundary.h"
#include "capi/node.h"
#include "libcomposefs/lcfs-writer.h"

using cfs::Error;
using cfs::capi::int_call;
using cfs::capi::Node;
using cfs::capi::pointer_call;
using cfs::capi::require;

extern "C" {

struct lcfs_node_s* lcfs_node_new(void) {
  return pointer_call<Node>([] { return new Node(); });
}

struct lcfs_node_s* lcfs_node_ref(struct lcfs_node_s* node) {
  if (node != nullptr) ++node->refs;
  return node;
}

void lcfs_node_unref(struct lcfs_node_s* node) {
  if (node != nullptr) cfs::capi::unref(node);
}

struct lcfs_node_s* lcfs_node_clone(struct lcfs_node_s* node) {
  return pointer_call<Node>([&] {
    require(node != nullptr);
    return cfs::capi::clone(node);
  });
}

struct lcfs_node_s* lcfs_node_clone_deep(struct lcfs_node_s* node) {
  return pointer_call<Node>([&] {
    require(node != nullptr);
    return cfs::capi::clone_deep(node);
  });
}

int lcfs_node_add_child(struct lcfs_node_s* parent, struct lcfs_node_s* child, const char* name) {
  return int_call([&] {
    require(parent != nullptr && child != nullptr && name != nullptr);
    cfs::capi::add_child(parent, child, name);
  });
}

struct lcfs_node_s* lcfs_node_lookup_child(struct lcfs_node_s* node, const char* name) {
  if (node == nullptr || name == nullptr) return nullptr;
  return cfs::capi::lookup_child(node, name);
}

struct lcfs_node_s* lcfs_node_get_parent(struct lcfs_node_s* node) {
  return node != nullptr ? node->parent : nullptr;
}

const char* lcfs_node_get_name(struct lcfs_node_s* node) {
  return node != nullptr && node->name ? node->name->c_str() : nullptr;
}

size_t lcfs_node_get_n_children(struct lcfs_node_s* node) {
  return node != nullptr ? node->children.size() : 0;
}

struct lcfs_node_s* lcfs_node_get_child(struct lcfs_node_s* node, size_t i) {
  return node != nullptr && i < node->children.size() ? node->children[i] : nullptr;
}

void lcfs_node_make_hardlink(struct lcfs_node_s* node, struct lcfs_node_s* target) {
  if (node == nullptr || target == nullptr) return;
  // A link that would close a cycle (upstream aborts on node == target) is recorded as
  // invalid: writing the tree then fails with EINVAL.
  for (const Node* t = target; t != nullptr; t = t->link) {
    if (t == node) {
      node->invalid_link = true;
      return;
    }
  }
  ++target->refs;
  if (node->link != nullptr) cfs::capi::unref(node->link);  // upstream leaked it
  node->link = target;
  node->invalid_link = false;
  ++target->nlink;
}

struct lcfs_node_s* lcfs_node_get_hardlink_target(struct lcfs_node_s* node) {
  return node != nullptr ? node->link : nullptr;
}

bool lcfs_node_dirp(struct lcfs_node_s* node) {
  return node != nullptr && (node->mode & S_IFMT) == S_IFDIR;
}

uint32_t lcfs_node_get_mode(struct lcfs_node_s* node) { return node != nullptr ? node->mode : 0; }

void lcfs_node_set_mode(struct lcfs_node_s* node, uint32_t mode) {
  if (node != nullptr) node->mode = mode;
}

int lcfs_node_try_set_mode(struct lcfs_node_s* node, uint32_t mode) {
  return int_call([&] {
    require(node != nullptr && cfs::capi::valid_type(mode));
    node->mode = mode;
  });
}

uint32_t lcfs_node_get_uid(struct lcfs_node_s* node) { return node != nullptr ? node->uid : 0; }

void lcfs_node_set_uid(struct lcfs_node_s* node, uint32_t uid) {
  if (node != nullptr) node->uid = uid;
}

uint32_t lcfs_node_get_gid(struct lcfs_node_s* node) { return node != nullptr ? node->gid : 0; }

void lcfs_node_set_gid(struct lcfs_node_s* node, uint32_t gid) {
  if (node != nullptr) node->gid = gid;
}

uint32_t lcfs_node_get_rdev(struct lcfs_node_s* node) { return node != nullptr ? node->rdev : 0; }

void lcfs_node_set_rdev(struct lcfs_node_s* node, uint32_t rdev) {
  if (node != nullptr) node->rdev = rdev;
}

uint64_t lcfs_node_get_rdev64(struct lcfs_node_s* node) { return node != nullptr ? node->rdev : 0; }

// The image keeps 32 bits: the low half of glibc's dev_t, which for major < 4096 and
// minor < 2^20 is the kernel's encoding (as upstream).
void lcfs_node_set_rdev64(struct lcfs_node_s* node, uint64_t rdev) {
  if (node != nullptr) node->rdev = static_cast<std::uint32_t>(rdev);
}

uint32_t lcfs_node_get_nlink(struct lcfs_node_s* node) { return node != nullptr ? node->nlink : 0; }

void lcfs_node_set_nlink(struct lcfs_node_s* node, uint32_t nlink) {
  if (node != nullptr) node->nlink = nlink;
}

uint64_t lcfs_node_get_size(struct lcfs_node_s* node) { return node != nullptr ? node->size : 0; }

// Inline content is as long as the size: a new size drops it.
void lcfs_node_set_size(struct lcfs_node_s* node, uint64_t size) {
  if (node == nullptr || node->size == size) return;
  node->content.reset();
  node->size = size;
}

void lcfs_node_set_mtime(struct lcfs_node_s* node, struct timespec* time) {
  if (node == nullptr || time == nullptr) return;
  node->mtime_sec = time->tv_sec;
  node->mtime_nsec = static_cast<std::uint32_t>(time->tv_nsec);
}

void lcfs_node_get_mtime(struct lcfs_node_s* node, struct timespec* time) {
  if (node == nullptr || time == nullptr) return;
  time->tv_sec = static_cast<time_t>(node->mtime_sec);
  time->tv_nsec = node->mtime_nsec;
}

const char* lcfs_node_get_xattr(struct lcfs_node_s* node, const char* name, size_t* length) {
  if (node == nullptr || name == nullptr) return nullptr;
  for (const Node::Xattr& x : node->xattrs) {
    if (x.name == name) {
      if (length != nullptr) *length = x.value.size();
      return x.value.data();
    }
  }
  return nullptr;
}

int lcfs_node_set_xattr(struct lcfs_node_s* node, const char* name, const char* value, size_t value_len) {
  return int_call([&] {
    require(node != nullptr && name != nullptr && (value != nullptr || value_len == 0));
    cfs::capi::set_xattr(node, name, std::string_view(value != nullptr ? value : "", value_len),
                         LCFS_INODE_EXTERNAL_XATTR_MAX);
  });
}

// Removal moves the last xattr into the freed slot, as upstream (callers see that order).
int lcfs_node_unset_xattr(struct lcfs_node_s* node, const char* name) {
  return int_call([&] {
    require(node != nullptr && name != nullptr);
    auto& xs = node->xattrs;
    auto it = std::find_if(xs.begin(), xs.end(), [&](const Node::Xattr& x) { return x.name == name; });
    if (it == xs.end()) throw Error(ENODATA, "no such xattr");
    std::uint64_t cost = 7 + it->name.size() + it->value.size();
    *it = std::move(xs.back());
    xs.pop_back();
    node->xattr_budget = xs.empty() ? 0 : node->xattr_budget - cost;
  });
}

size_t lcfs_node_get_n_xattr(struct lcfs_node_s* node) { return node != nullptr ? node->xattrs.size() : 0; }

const char* lcfs_node_get_xattr_name(struct lcfs_node_s* node, size_t index) {
  return node != nullptr && index < node->xattrs.size() ? node->xattrs[index].name.c_str() : nullptr;
}

int lcfs_node_set_payload(struct lcfs_node_s* node, const char* payload) {
  return int_call([&] {
    require(node != nullptr);
    cfs::capi::set_payload(node, payload);
  });
}

// For symlinks only (upstream aborts otherwise): the target, and the size that goes with it.
int lcfs_node_set_symlink_payload(struct lcfs_node_s* node, const char* payload) {
  return int_call([&] {
    require(node != nullptr && (node->mode & S_IFMT) == S_IFLNK && payload != nullptr && *payload != '\0');
    cfs::capi::set_payload(node, payload);
    node->size = std::strlen(payload);
  });
}

const char* lcfs_node_get_payload(struct lcfs_node_s* node) {
  return node != nullptr && node->payload ? node->payload->c_str() : nullptr;
}

// The size becomes data_size even when no data is given (as upstream).
int lcfs_node_set_content(struct lcfs_node_s* node, const uint8_t* data, size_t data_size) {
  return int_call([&] {
    require(node != nullptr);
    if (data != nullptr && data_size != 0) {
      if (data_size > LCFS_INLINE_CONTENT_MAX) throw Error(EINVAL, "content too large");
      node->content.emplace(reinterpret_cast<const char*>(data), data_size);
    } else {
      node->content.reset();
    }
    node->size = data_size;
  });
}

const uint8_t* lcfs_node_get_content(struct lcfs_node_s* node) {
  return node != nullptr && node->content ? reinterpret_cast<const uint8_t*>(node->content->data()) : nullptr;
}

const uint8_t* lcfs_node_get_fsverity_digest(struct lcfs_node_s* node) {
  return node != nullptr && node->digest ? node->digest->data() : nullptr;
}

void lcfs_node_set_fsverity_digest(struct lcfs_node_s* node, uint8_t digest[LCFS_DIGEST_SIZE]) {
  if (node == nullptr || digest == nullptr) return;
  node->digest.emplace();
  std::memcpy(node->digest->data(), digest, LCFS_DIGEST_SIZE);
}

}  // extern "C"
