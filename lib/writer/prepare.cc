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

bool in_tree(const tree::Node* n, const tree::Node& root) {
  while (n->parent != nullptr) n = n->parent;
  return n == &root;
}

// Pre-order scan (aliases not followed): is there a whiteout; which nodes are link targets
// and by how many names; an upper bound of the xattrs to write (the tree's, plus the overlay
// pair of a regular file).
void scan(const tree::Node& root, bool& whiteout, std::size_t& xattrs, Plan& plan) {
  tree::preorder(root, [&](const tree::Node& n, std::size_t) {
    if (n.is_alias()) {
      const tree::Node* target = n.resolve();
      if (target == nullptr) throw Error(ELOOP, "hard-link loop");
      auto [it, added] = plan.alias_targets.try_emplace(target);
      if (added && !in_tree(target, root)) throw Error(EINVAL, "hard link to a node outside the tree");
      ++it->second.names;
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

// `name` and `value` must outlive the plan (constants, tree strings or arena views). Upstream
// counts each against the node's budget; V2 has none (and never sets a name twice).
void set_xattr(const Plan& plan, XattrList& list, Inode& in, std::string_view name,
               std::string_view value, ValuePrefix prefix = ValuePrefix::kNone) {
  if (!plan.rules.xattr_budget) {
    list.emplace_back(name, value, prefix);
  } else if (!tree::set_xattr_budgeted(list, in.xattr_budget, XattrView(name, value, prefix))) {
    throw Error(ERANGE, "xattr budget exceeded");
  }
}

// Sets the marks of a directory that holds a whiteout (already stored: stored again).
void mark_whiteout_parent(Plan& plan, Inode& parent) {
  auto stored = plan.xattrs_of(parent);
  XattrList list(stored.begin(), stored.end());
  set_xattr(plan, list, parent, format::kXattrWhiteouts, "");
  set_xattr(plan, list, parent, format::kXattrUserWhiteouts, "");
  if (plan.version >= 1) {
    set_xattr(plan, list, parent, format::kXattrWhiteoutOpaque, "x");
    set_xattr(plan, list, parent, format::kXattrUserWhiteoutOpaque, "x");
  }
  store_xattrs(plan, parent, list);
}

// The overlay xattrs of an external file: metacopy (with the digest if known), then the
// redirect to its backing object.
void add_overlay_xattrs(Plan& plan, Inode& in, XattrList& list) {
  const tree::Node& n = *in.node;
  if (n.digest) {
    std::string_view digest = n.digest.bytes();  // kept by the tree
    set_xattr(plan, list, in, format::kXattrMetacopy, digest,
              n.digest.algorithm() == HashAlgorithm::kSha512 ? ValuePrefix::kMetacopySha512Header
                                                              : ValuePrefix::kMetacopyHeader);
  } else {
    set_xattr(plan, list, in, format::kXattrMetacopy, "");
  }
  std::string_view payload = n.payload;
  if (payload.empty() && n.digest && plan.rules.redirect_from_digest) {
    payload = plan.arena.concat(object_path(*n.digest));
  }
  if (!payload.empty()) set_xattr(plan, list, in, format::kXattrRedirect, payload, ValuePrefix::kSlash);
}

// The tree's own xattrs, trusted.overlay.* escaped; V2 takes them in name order (upstream
// sorts the whole list later).
void add_tree_xattrs(Plan& plan, const tree::Node& n, XattrList& list) {
  std::vector<const tree::Xattr*> own;
  own.reserve(n.xattrs.size());
  for (const tree::Xattr& x : n.xattrs) own.push_back(&x);
  if (!plan.rules.sorted_inode_xattrs) {
    std::sort(own.begin(), own.end(), [](const tree::Xattr* a, const tree::Xattr* b) { return a->name < b->name; });
  }
  for (const tree::Xattr* x : own) {
    std::string_view name = x->name;
    if (format::needs_escape(name)) {
      name = plan.arena.concat(format::kXattrEscapedPrefix, name.substr(format::kXattrOverlayPrefix.size()));
    }
    list.emplace_back(name, x->value);
  }
}

// format.md §3 steps 2-5 for one (non-synthetic) node, whose xattrs are then stored from `list` (scratch
// space); `parent` gets the whiteout marks.
void rewrite(Plan& plan, Inode& in, Inode* parent, XattrList& list) {
  const tree::Node& n = *in.node;
  const format::FormatRules& rules = plan.rules;
  if (!valid_type(n.mode)) throw Error(EINVAL, "invalid file type");
  in.external = n.type() == S_IFREG && n.size > 0 && n.content.empty();
  if (in.external && rules.chunk_bits_from_size && (n.size - 1) >> chunk_bits(n.size) >= kMaxChunks) {
    throw Error(EFBIG, "file too large");
  }
  if (!rules.blocks_for_inline_data && n.content.size() > rules.max_inline_file) {
    throw Error(EINVAL, "inline file data too large for format 2");
  }
  list.clear();
  if (in.external && !rules.sorted_inode_xattrs) add_overlay_xattrs(plan, in, list);
  add_tree_xattrs(plan, n, list);
  if (in.external && rules.sorted_inode_xattrs) add_overlay_xattrs(plan, in, list);
  bool escape = rules.escaped_whiteouts && is_whiteout(n);
  if (escape) {
    in.mode = S_IFREG | (n.mode & 07777);
    in.size = 0;
    set_xattr(plan, list, in, format::kXattrWhiteout, "");
    set_xattr(plan, list, in, format::kXattrUserWhiteout, "");
  }
  store_xattrs(plan, in, list);
  if (escape && parent != nullptr) mark_whiteout_parent(plan, *parent);
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

Inode make_inode(const Plan& plan, const tree::Node* n, std::uint32_t parent) {
  Inode in;
  in.node = n;
  in.mode = n->mode;
  in.size = n->size;
  in.nlink = n->nlink;
  if (plan.rules.leaf_nlink_from_names && !n->is_dir()) {
    auto link = plan.alias_targets.find(n);
    in.nlink = link == plan.alias_targets.end() ? 1 : link->second.names;
  }
  in.parent = parent;
  return in;
}

// Reserves a directory's entry slots and sets its nlink (2 + subdirectories).
void open_directory(Plan& plan, std::uint32_t index) {
  const auto& kids = plan.children_of(index);
  Inode& in = plan.inodes[index];
  if (!kids.empty() && in.node->type() != S_IFDIR) throw Error(EINVAL, "non-directory with children");
  in.first_entry = static_cast<std::uint32_t>(plan.entry_inodes.size());
  plan.entry_inodes.resize(plan.entry_inodes.size() + kids.size(), kNoInode);
  if (in.node->is_dir()) {
    in.nlink = 2 + static_cast<std::uint32_t>(std::count_if(
                       kids.begin(), kids.end(), [](const tree::Node* c) { return c->is_dir(); }));
  }
}

void note_link_target(Plan& plan, std::uint32_t index) {
  if (auto it = plan.alias_targets.find(plan.inodes[index].node); it != plan.alias_targets.end()) {
    it->second.ino = index;
  }
}

// Upstream: breadth-first, a hard-linked inode where its target node is (format.md §3 step 7).
void number_breadth_first(Plan& plan, const tree::Node& root) {
  plan.inodes.push_back(make_inode(plan, &root, 0));
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
    open_directory(plan, i);
    const auto& kids = plan.children_of(i);
    for (std::size_t k = 0; k < kids.size(); ++k) {
      const tree::Node* c = kids[k];
      if (c->is_alias()) continue;  // resolved once every target is numbered
      plan.entry_inodes[plan.inodes[i].first_entry + k] = static_cast<std::uint32_t>(plan.inodes.size());
      // push_back may reallocate: nothing above holds a reference across it.
      plan.inodes.push_back(make_inode(plan, c, i));
      plan.inodes.back().synthetic = i == 0 && c->parent == nullptr;
    }
    note_link_target(plan, i);
  }
  for (const auto& [target, link] : plan.alias_targets) {
    if (link.ino == kNoInode) throw Error(EINVAL, "hard link to a node outside the tree");
  }
  for (std::uint32_t i = 0; i < plan.inodes.size(); ++i) {
    const auto& kids = plan.children_of(i);
    for (std::size_t k = 0; k < kids.size(); ++k) {
      if (kids[k]->is_alias()) {
        plan.entry_inodes[plan.inodes[i].first_entry + k] = plan.alias_targets.at(kids[k]->resolve()).ino;
      }
    }
  }
}

// V2: pre-order depth-first over names in order; a hard-linked inode where the first of its
// names is met.
void number_depth_first(Plan& plan, const tree::Node& root) {
  XattrList list;
  auto add = [&](const tree::Node* n, std::uint32_t parent) {
    auto index = static_cast<std::uint32_t>(plan.inodes.size());
    plan.inodes.push_back(make_inode(plan, n, parent));
    rewrite(plan, plan.inodes[index], nullptr, list);
    open_directory(plan, index);
    note_link_target(plan, index);
    return index;
  };
  std::vector<std::pair<std::uint32_t, std::size_t>> stack{{add(&root, 0), 0}};  // dir, next child
  while (!stack.empty()) {
    auto [dir, k] = stack.back();
    const auto& kids = plan.children_of(dir);
    if (k == kids.size()) {
      stack.pop_back();
      continue;
    }
    ++stack.back().second;
    const tree::Node* target = kids[k]->resolve();
    auto link = plan.alias_targets.find(target);
    std::uint32_t ino = link != plan.alias_targets.end() ? link->second.ino : kNoInode;
    if (ino == kNoInode) {
      ino = add(target, dir);
      if (target->is_dir()) stack.emplace_back(ino, 0);
    }
    plan.entry_inodes[plan.inodes[dir].first_entry + k] = ino;
  }
}

}  // namespace

Plan prepare(const tree::Tree& tree, const Options& options) {
  Plan plan;
  if (options.format_v2) {
    plan.rules = format::kV2Rules;
  } else if (options.min_version > format::kMaxFormatVersion ||
             options.max_version > format::kMaxFormatVersion) {
    throw Error(EINVAL, "unsupported format version");
  }
  const tree::Node* root = tree.root();
  if (root == nullptr || !root->is_dir()) throw Error(EINVAL, "root is not a directory");
  bool whiteout = false;
  std::size_t xattrs = 0;
  scan(*root, whiteout, xattrs, plan);
  if (options.format_v2) {
    plan.version = plan.rules.composefs_version;
  } else {
    std::uint32_t max_version = std::max(options.max_version, options.min_version);
    plan.version = options.min_version;
    if (plan.version < 1 && max_version >= 1 && whiteout) plan.version = 1;
  }

  if (plan.rules.root_whiteouts) {
    add_root_whiteouts(plan, *root);
  } else {
    plan.root_children = root->children;
  }
  plan.inodes.reserve(tree.node_count() + plan.synthetic_nodes.size());  // at most one each
  // + the root's label on its whiteouts, + the root stored again with its opaque mark
  plan.xattrs.reserve(xattrs + plan.synthetic_nodes.size() + root->xattrs.size() + 1);
  if (plan.rules.depth_first) {
    number_depth_first(plan, *root);
  } else {
    number_breadth_first(plan, *root);
  }
  XattrList list;
  if (plan.rules.escaped_whiteouts) {
    auto root_stored = plan.xattrs_of(plan.inodes[0]);
    list.assign(root_stored.begin(), root_stored.end());
    set_xattr(plan, list, plan.inodes[0], format::kXattrOpaque, "y");
    store_xattrs(plan, plan.inodes[0], list);
  }

  plan.min_mtime_sec = plan.inodes[0].node->mtime_sec;
  plan.min_mtime_nsec = plan.inodes[0].node->mtime_nsec;
  for (Inode& in : plan.inodes) {
    const tree::Node& n = *in.node;
    if (std::pair(n.mtime_sec, n.mtime_nsec) < std::pair(plan.min_mtime_sec, plan.min_mtime_nsec)) {
      plan.min_mtime_sec = n.mtime_sec;
      plan.min_mtime_nsec = n.mtime_nsec;
    }
    auto own = plan.xattrs_of(in);
    if (plan.rules.sorted_inode_xattrs) {
      std::sort(own.begin(), own.end(), [](const XattrView& a, const XattrView& b) { return a.name() < b.name(); });
    }
    for (const XattrView& x : own) {
      if (plan.rules.acl_flag && (x.name() == "system.posix_acl_access" || x.name() == "system.posix_acl_default")) {
        plan.has_acl = true;
      }
    }
  }
  return plan;
}

}  // namespace cfs::writer
