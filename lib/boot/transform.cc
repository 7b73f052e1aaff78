#include "boot/transform.h"

#include <cerrno>

#include "base/error.h"
#include "tree/links.h"

namespace cfs::boot {
namespace {

tree::Node& top_directory(tree::Tree& tree, std::string_view name) {
  tree::Node* n = tree.root()->find_child(name);
  if (n == nullptr)
    throw Error(ENOENT,
                "cannot make the image bootable: it has no /" + std::string(name) + " directory");
  if (!n->is_dir())
    throw Error(ENOTDIR,
                "cannot make the image bootable: /" + std::string(name) + " is not a directory");
  return *n;
}

}  // namespace

void transform_for_boot(tree::Tree& tree, PolicyReader& policy) {
  tree::Node& usr = top_directory(tree, "usr");
  // Both must exist (composefs-rs's REQUIRED_TOPLEVEL_TO_EMPTY_DIRS): checked before either
  // is emptied.
  tree::Node* emptied[] = {&top_directory(tree, "boot"), &top_directory(tree, "sysroot")};
  for (tree::Node* d : emptied) {
    d->mtime_sec = usr.mtime_sec;  // seconds only: composefs-rs sets st_mtim_sec alone
    d->children.clear();
  }
  tree::relink(tree);
  with_context("Applying SELinux labels to filesystem", [&] {
    std::optional<Policy> p = load_policy(policy);
    relabel(tree, p ? &*p : nullptr);
  });
  tree::relink(tree);  // names split off by relabelling
}

}  // namespace cfs::boot
