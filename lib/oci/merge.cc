#include "oci/merge.h"

#include <sys/stat.h>

#include <algorithm>
#include <deque>
#include <unordered_map>

#include "base/error.h"
#include "format/composefs.h"
#include "tree/links.h"

namespace cfs::oci {
namespace {

constexpr std::size_t kMaxName = 255;  // EROFS

[[noreturn]] void refuse(const std::string& path, const std::string& why) { throw_corrupt(path + ": " + why); }

}  // namespace

LayerMerger::LayerMerger(tree::Tree& tree) : tree_(tree) {
  tree::Node* root = tree_.new_node();
  root->mode = S_IFDIR;  // deliberately no permissions until an entry or /usr gives them
  tree_.set_root(root);
}

tree::Node* LayerMerger::lookup(const std::string& path, const std::string& entry) const {
  tree::Node* n = tree_.root();
  std::string_view rest(path);
  while (!rest.empty()) {
    rest.remove_prefix(1);  // '/'
    std::size_t slash = std::min(rest.find('/'), rest.size());
    std::string_view part = rest.substr(0, slash);
    rest.remove_prefix(slash);
    if (!n->is_dir()) refuse(entry, std::string(path) + " goes through a non-directory");
    n = n->find_child(part);
    if (n == nullptr) return nullptr;
  }
  return n;
}

tree::Node* LayerMerger::leaf_of(const TarEntry& e) {
  if (e.type == EntryType::kHardLink) {
    tree::Node* target = lookup(e.link, e.path);
    if (target == nullptr) refuse(e.path, "hard link to " + e.link + ", which does not exist");
    if (target->is_dir()) refuse(e.path, "hard link to the directory " + e.link);
    return target->link;
  }
  tree::Node* leaf = tree_.new_node();
  set_node_metadata(*leaf, e);
  switch (e.type) {
    case EntryType::kRegular:
      leaf->size = e.size;
      if (e.body.object) {
        leaf->digest = tree_.keep(*e.body.object);
        leaf->payload = tree_.keep(object_path(*e.body.object));
      } else {
        leaf->content = tree_.keep(e.body.bytes);
      }
      break;
    case EntryType::kSymlink:
      if (e.link.size() > 4095) refuse(e.path, "symlink target longer than 4095 bytes");
      leaf->payload = tree_.keep(e.link);
      leaf->size = e.link.size();
      break;
    case EntryType::kCharDevice:
    case EntryType::kBlockDevice:
      leaf->rdev = e.rdev;
      break;
    default:
      break;
  }
  return leaf;
}

void LayerMerger::remove(tree::Node* dir, std::string_view name) {
  auto it = std::lower_bound(dir->children.begin(), dir->children.end(), name,
                             [](const tree::Node* c, std::string_view n) { return tree::name_less(c->name, n); });
  if (it != dir->children.end() && (*it)->name == name) {
    (*it)->parent = nullptr;
    dir->children.erase(it);
  }
}

void LayerMerger::apply(const TarEntry& e) {
  if (e.path == "/") {
    if (e.type != EntryType::kDirectory) refuse("/", "the root entry is not a directory");
    set_node_metadata(*tree_.root(), e);
    return;
  }
  tree::Node* leaf = e.type == EntryType::kDirectory ? nullptr : leaf_of(e);
  std::size_t slash = e.path.rfind('/');
  std::string parent_path = e.path.substr(0, slash);
  std::string_view name = std::string_view(e.path).substr(slash + 1);
  tree::Node* parent = parent_path.empty() ? tree_.root() : lookup(parent_path, e.path);
  if (parent == nullptr) refuse(e.path, "its parent directory does not exist");
  if (!parent->is_dir()) refuse(e.path, "its parent is not a directory");
  if (name.size() > kMaxName) refuse(e.path, "a name longer than 255 bytes");
  if (name.starts_with(".wh.")) {
    std::string_view target = name.substr(4);
    if (target == ".wh..opq") {
      for (tree::Node* c : parent->children) c->parent = nullptr;
      parent->children.clear();
    } else if (!target.empty() && !target.starts_with(".wh.")) {
      remove(parent, target);
    }
    return;
  }
  if (tree::Node* old = parent->find_child(name)) {
    if (e.type == EntryType::kDirectory && old->is_dir()) {
      set_node_metadata(*old, e);  // children stay
      return;
    }
    remove(parent, name);
  }
  tree::Node* n = tree_.new_node();
  n->name = tree_.keep(name);
  if (leaf == nullptr) {
    set_node_metadata(*n, e);
  } else {
    n->link = leaf;  // an inode's names are aliases of its leaf until finish()
    n->mode = leaf->mode;
  }
  tree_.add_child(parent, n);
}

void LayerMerger::finish() {
  // Breadth-first, children in name order: an inode's first name here becomes its node.
  std::unordered_map<const tree::Node*, tree::Node*> first;  // leaf -> its node
  std::deque<tree::Node*> queue{tree_.root()};
  std::vector<tree::Node*> aliases;
  while (!queue.empty()) {
    tree::Node* dir = queue.front();
    queue.pop_front();
    for (tree::Node* c : dir->children) {
      if (c->link == nullptr) {
        queue.push_back(c);
        continue;
      }
      auto [it, is_first] = first.emplace(c->link, c);
      if (is_first) {
        const tree::Node* leaf = c->link;
        tree::copy_inode_fields(*c, *leaf);
        c->link = nullptr;
        c->nlink = 1;
      } else {
        it->second->nlink++;
        aliases.push_back(c);
      }
    }
  }
  for (tree::Node* a : aliases) {  // every other name: an alias of its inode's node
    tree::Node* target = first.at(a->link);
    a->link = target;
    if (format::is_whiteout(target->mode, target->rdev) && target->nlink > 1) {
      refuse(target->path(), "a whiteout device (0/0) with more than one name");
    }
  }
}

}  // namespace cfs::oci
