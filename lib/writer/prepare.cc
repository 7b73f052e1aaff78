// docs/format.md §3: version choice, per-node rewrite, root marks, root whiteouts, BFS.
#include <sys/stat.h>

#include <algorithm>
#include <bit>
#include <cstdio>

#include "base/error.h"
#include "format/erofs.h"
#include "format/composefs.h"
#include "tree/xattr_budget.h"
#include "writer/plan.h"

namespace cfs::writer {
namespace {

constexpr std::uint64_t kMaxChunks = 1024;

bool is_whiteout(const tree::Node& n) { return format::is_whiteout(n.mode, n.rdev); }

bool valid_type(std::uint32_t mode) {
  return format::file_type_of_mode(mode) != format::kFtUnknown;
}

// Pre-order scan (aliases not followed): is there a whiteout; which nodes are link targets;
// an upper bound of the xattrs to write (the tree's, plus the overlay pair of a regular file).
void scan(const tree::Node& root, bool& whiteout, std::size_t& xattrs, Plan& plan) {
  tree::preorder(root, [&](const tree::Node& n, std::size_t) {
    if (n.is_alias()) {
      const tree::Node* target = n.resolve();
      if (target == nullptr) throw Error(ELOOP, "hard-link loop");
      plan.alias_targets.emplace(target, UINT32_MAX);
      return false;
    }
    if (is_whiteout(n)) whiteout = true;
    xattrs += n.xattrs.size() + (n.type() == S_IFREG ? 2 : 0);
    return true;
  });
}

// An inode's xattrs are edited in a list, then stored at the end of Plan::xattrs as its range.
// An inode edited again later (a directory marked for a whiteout child, the root's opaque
// mark) is stored again: its old range is left unused (rare, and a few entries each).
using XattrList = std::vector<XattrView>;

void store_xattrs(Plan& plan, Inode& in, const XattrList& list) {
  if (in.xattr_count > 0 && in.xattr_begin + in.xattr_count == plan.xattrs.size()) {
    plan.xattrs.resize(in.xattr_begin);  // the last range stored: overwrite it
  }
  in.xattr_begin = static_cast<std::uint32_t>(plan.xattrs.size());
  in.xattr_count = static_cast<std::uint32_t>(list.size());
  plan.xattrs.insert(plan.xattrs.end(), list.begin(), list.end());
}

// `name` and `value` must outlive the plan (constants, tree strings or arena views).
void set_xattr(XattrList& list, Inode& in, std::string_view name, std::string_view value,
               ValuePrefix prefix = ValuePrefix::kNone) {
  if (!tree::set_xattr_budgeted(list, in.xattr_budget, XattrView(name, value, prefix))) {
    throw Error(ERANGE, "xattr budget exceeded");
  }
}

// Sets the marks of a directory that holds a whiteout (already stored: stored again).
void mark_whiteout_parent(Plan& plan, Inode& parent) {
  auto stored = plan.xattrs_of(parent);
  XattrList list(stored.begin(), stored.end());
  set_xattr(list, parent, format::kXattrWhiteouts, "");
  set_xattr(list, parent, format::kXattrUserWhiteouts, "");
  if (plan.version >= 1) {
    set_xattr(list, parent, format::kXattrWhiteoutOpaque, "x");
    set_xattr(list, parent, format::kXattrUserWhiteoutOpaque, "x");
  }
  store_xattrs(plan, parent, list);
}

// format.md §3 steps 2-5 for one (non-synthetic) node, whose xattrs are then stored from `list` (scratch
// space); `parent` gets the whiteout marks.
void rewrite(Plan& plan, Inode& in, Inode* parent, XattrList& list) {
  const tree::Node& n = *in.node;
  if (!valid_type(n.mode)) throw Error(EINVAL, "invalid file type");
  in.external = n.type() == S_IFREG && n.size > 0 && n.content.empty();
  if (in.external && (n.size - 1) >> chunk_bits(n.size) >= kMaxChunks) {
    throw Error(EFBIG, "file too large");
  }
  list.clear();
  for (const tree::Xattr& x : n.xattrs) {
    std::string_view name = x.name;
    if (format::needs_escape(name)) {
      name = plan.arena.concat(format::kXattrEscapedPrefix, name.substr(format::kXattrOverlayPrefix.size()));
    }
    list.emplace_back(name, x.value);
  }
  if (in.external) {
    if (n.digest) {
      std::string_view digest = n.digest.bytes();  // kept by the tree
      set_xattr(list, in, format::kXattrMetacopy, digest,
                n.digest.algorithm() == HashAlgorithm::kSha512 ? ValuePrefix::kMetacopySha512Header
                                                                : ValuePrefix::kMetacopyHeader);
    } else {
      set_xattr(list, in, format::kXattrMetacopy, "");
    }
    if (!n.payload.empty()) set_xattr(list, in, format::kXattrRedirect, n.payload, ValuePrefix::kSlash);
  }
  if (is_whiteout(n)) {
    in.mode = S_IFREG | (n.mode & 07777);
    in.size = 0;
    set_xattr(list, in, format::kXattrWhiteout, "");
    set_xattr(list, in, format::kXattrUserWhiteout, "");
  }
  store_xattrs(plan, in, list);
  if (is_whiteout(n) && parent != nullptr) mark_whiteout_parent(plan, *parent);
}

// format.md §3 step 6: character devices 0/0 named 00..ff in the root, unless the name is taken.
void add_root_whiteouts(Plan& plan, const tree::Node& root) {
  const tree::Xattr* selinux = root.find_xattr("security.selinux");
  std::vector<tree::Node*> whiteouts;
  for (int i = 0; i < 256; ++i) {
    char name[3];
    std::snprintf(name, sizeof name, "%02x", i);
    if (root.find_child(name) != nullptr) continue;
    tree::Node& w = plan.synthetic_nodes.emplace_back();
    w.name = plan.arena.concat(name);
    w.mode = S_IFCHR | 0644;
    w.uid = root.uid;
    w.gid = root.gid;
    w.mtime_sec = root.mtime_sec;
    w.mtime_nsec = root.mtime_nsec;
    if (selinux != nullptr) w.xattrs.push_back(*selinux);
    whiteouts.push_back(&w);
  }
  plan.root_children.resize(root.children.size() + whiteouts.size());
  std::merge(root.children.begin(), root.children.end(), whiteouts.begin(), whiteouts.end(),
             plan.root_children.begin(),
             [](const tree::Node* a, const tree::Node* b) { return a->name < b->name; });
}

Inode make_inode(const tree::Node* n, std::uint32_t parent) {
  Inode in;
  in.node = n;
  in.mode = n->mode;
  in.size = n->size;
  in.nlink = n->nlink;
  in.parent = parent;
  return in;
}

}  // namespace

Plan prepare(const tree::Tree& tree, const Options& options) {
  if (options.min_version > format::kMaxFormatVersion ||
      options.max_version > format::kMaxFormatVersion) {
    throw Error(EINVAL, "unsupported format version");
  }
  const tree::Node* root = tree.root();
  if (root == nullptr || !root->is_dir()) throw Error(EINVAL, "root is not a directory");
  Plan plan;
  bool whiteout = false;
  std::size_t xattrs = 0;
  scan(*root, whiteout, xattrs, plan);
  std::uint32_t max_version = std::max(options.max_version, options.min_version);
  plan.version = options.min_version;
  if (plan.version < 1 && max_version >= 1 && whiteout) plan.version = 1;

  add_root_whiteouts(plan, *root);
  plan.inodes.reserve(tree.node_count() + plan.synthetic_nodes.size());  // at most one each
  // + the root's label on its whiteouts, + the root stored again with its opaque mark
  plan.xattrs.reserve(xattrs + plan.synthetic_nodes.size() + root->xattrs.size() + 1);
  plan.inodes.push_back(make_inode(root, 0));
  XattrList list;
  for (std::uint32_t i = 0; i < plan.inodes.size(); ++i) {
    if (plan.inodes[i].synthetic) {
      list.clear();
      for (const tree::Xattr& x : plan.inodes[i].node->xattrs) list.emplace_back(x.name, x.value);  // the root's label
      store_xattrs(plan, plan.inodes[i], list);
    } else {
      Inode* parent = i == 0 ? nullptr : &plan.inodes[plan.inodes[i].parent];
      rewrite(plan, plan.inodes[i], parent, list);
    }
    const auto& kids = plan.children_of(i);
    if (!kids.empty() && plan.inodes[i].node->type() != S_IFDIR) {
      throw Error(EINVAL, "non-directory with children");
    }
    plan.inodes[i].first_child = static_cast<std::uint32_t>(plan.inodes.size());
    std::uint32_t subdirs = 0;
    for (const tree::Node* c : kids) {
      if (c->is_alias()) continue;
      if (c->is_dir()) ++subdirs;
      // push_back may reallocate: nothing above holds a reference across it.
      plan.inodes.push_back(make_inode(c, i));
      plan.inodes.back().synthetic = i == 0 && c->parent == nullptr;
    }
    Inode& in = plan.inodes[i];
    if (in.node->is_dir()) in.nlink = 2 + subdirs;
    if (auto it = plan.alias_targets.find(in.node); it != plan.alias_targets.end()) it->second = i;
  }
  auto root_stored = plan.xattrs_of(plan.inodes[0]);
  list.assign(root_stored.begin(), root_stored.end());
  set_xattr(list, plan.inodes[0], format::kXattrOpaque, "y");
  store_xattrs(plan, plan.inodes[0], list);

  plan.min_mtime_sec = plan.inodes[0].node->mtime_sec;
  plan.min_mtime_nsec = plan.inodes[0].node->mtime_nsec;
  for (Inode& in : plan.inodes) {
    const tree::Node& n = *in.node;
    if (std::pair(n.mtime_sec, n.mtime_nsec) < std::pair(plan.min_mtime_sec, plan.min_mtime_nsec)) {
      plan.min_mtime_sec = n.mtime_sec;
      plan.min_mtime_nsec = n.mtime_nsec;
    }
    auto own = plan.xattrs_of(in);
    std::sort(own.begin(), own.end(), [](const XattrView& a, const XattrView& b) { return a.name() < b.name(); });
    for (const XattrView& x : own) {
      if (x.name() == "system.posix_acl_access" || x.name() == "system.posix_acl_default") {
        plan.has_acl = true;
      }
    }
  }
  for (const auto& [target, ino] : plan.alias_targets) {
    if (ino == UINT32_MAX) throw Error(EINVAL, "hard link to a node outside the tree");
  }
  return plan;
}

}  // namespace cfs::writer
