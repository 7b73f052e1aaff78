#include "oci/transform.h"

#include <sys/stat.h>

#include <vector>

#include "base/error.h"
#include "tree/links.h"

namespace cfs::oci {

std::string_view xattr_mode_name(XattrMode mode) {
  return mode == XattrMode::kKeepUserXattrs ? "keep-user-xattrs" : "allowlist-only";
}

namespace {

bool kept(const tree::Xattr& x, XattrMode mode) {
  if (x.name == "security.capability") return true;
  return mode == XattrMode::kKeepUserXattrs && x.name.starts_with("user.");
}

}  // namespace

void transform_for_oci(tree::Tree& tree, const TransformOptions& options) {
  if (!options.propagate_usr_to_root) return;
  tree::Node& root = *tree.root();
  tree::Node* usr = root.find_child("usr");
  if (usr == nullptr || !usr->is_dir()) throw Error(ENOENT, "the tree has no /usr directory to take the root's metadata from");
  root.mode = usr->mode;
  root.uid = usr->uid;
  root.gid = usr->gid;
  root.mtime_sec = usr->mtime_sec;
  root.mtime_nsec = usr->mtime_nsec;
  root.xattrs = usr->xattrs;
  if (tree::Node* run = root.find_child("run"); run != nullptr && run->is_dir()) {
    bool had_names = !run->children.empty();
    run->children.clear();
    run->mtime_sec = usr->mtime_sec;
    run->mtime_nsec = usr->mtime_nsec;
    if (had_names) tree::relink(tree);  // hard links may have had names there, even their first
  }
  std::vector<tree::Node*> todo{&root};  // every node, aliases included (their xattrs are unused)
  while (!todo.empty()) {
    tree::Node* n = todo.back();
    todo.pop_back();
    std::erase_if(n->xattrs, [&](const tree::Xattr& x) { return !kept(x, options.xattrs); });
    todo.insert(todo.end(), n->children.begin(), n->children.end());
  }
}

}  // namespace cfs::oci
