#include "boot/selabel.h"

#include <sys/stat.h>

#include <cerrno>
#include <unordered_map>

#include "base/error.h"
#include "boot/matcher.h"
#include "tree/links.h"

namespace cfs::boot {
namespace {

constexpr std::string_view kNone = "<<none>>";

char type_char(std::uint32_t mode) {
  switch (mode & S_IFMT) {
    case S_IFDIR:
      return 'd';
    case S_IFIFO:
      return 'p';
    case S_IFSOCK:
      return 's';
    case S_IFLNK:
      return 'l';
    case S_IFBLK:
      return 'b';
    case S_IFCHR:
      return 'c';
    default:
      return '-';
  }
}

void set_label(tree::Node& n, const std::optional<std::string_view>& label) {
  if (!label) {
    std::erase_if(n.xattrs, [](const tree::Xattr& x) { return x.name == kXattrSelinux; });
    return;
  }
  for (tree::Xattr& x : n.xattrs) {
    if (x.name == kXattrSelinux) {
      x.value = std::string(*label);
      return;
    }
  }
  n.xattrs.push_back({std::string(kXattrSelinux), std::string(*label)});
}

// Rust's PathBuf::push of a file name: one '/' between.
std::string join(const std::string& dir, std::string_view name) {
  std::string out = dir;
  if (!out.ends_with('/')) out += '/';
  out += name;
  return out;
}

class Labeller {
 public:
  Labeller(tree::Tree& tree, const Policy& policy)
      : tree_(tree), policy_(policy), matcher_(policy.specs) {}

  void run() {
    tree::Node* root = tree_.root();
    set_label(*root, lookup("/", 'd'));
    // Depth first without recursion: (directory, its path as looked up, next child).
    struct Frame {
      tree::Node* dir;
      std::string path;
      std::size_t next;
    };
    std::vector<Frame> stack{{root, "/", 0}};
    while (!stack.empty()) {
      Frame& f = stack.back();
      if (f.next == f.dir->children.size()) {
        stack.pop_back();
        continue;
      }
      std::size_t index = f.next++;
      tree::Node* dir = f.dir;
      tree::Node* child = dir->children[index];
      std::string path = join(f.path, child->name);
      if (auto alias = policy_.aliases.find(path); alias != policy_.aliases.end())
        path = alias->second;
      if (child->is_dir()) {
        set_label(*child, lookup(path, 'd'));
        stack.push_back({child, std::move(path), 0});  // f is not used after this
        continue;
      }
      label_leaf(dir, index, path);
    }
  }

 private:
  std::optional<std::string_view> lookup(const std::string& path, char type) {
    std::optional<std::size_t> i = matcher_.lookup(path, type);
    if (!i || policy_.specs[*i].context == kNone) return std::nullopt;
    return policy_.specs[*i].context;
  }

  void label_leaf(tree::Node* dir, std::size_t index, const std::string& path) {
    tree::Node* name = dir->children[index];
    const tree::Node* inode = name->resolve();
    if (inode == nullptr) throw Error(ELOOP, "hard-link loop at " + name->path());
    std::optional<std::string_view> label = lookup(path, type_char(inode->mode));
    tree::Node* target = const_cast<tree::Node*>(inode);  // the tree's own node
    if (auto it = labelled_.find(inode); it != labelled_.end() && it->second != label) {
      // A name whose label differs from the one the inode got: an inode of its own.
      tree::Node* copy = tree_.new_node();
      tree::copy_inode_fields(*copy, *inode);
      copy->name = name->name;
      copy->parent = dir;
      dir->children[index] = copy;
      target = copy;
    }
    set_label(*target, label);
    labelled_.emplace(target, label);
  }

  tree::Tree& tree_;
  const Policy& policy_;
  Matcher matcher_;
  // The label each inode got from its first name (nullopt: none).
  std::unordered_map<const tree::Node*, std::optional<std::string_view>> labelled_;
};

}  // namespace

std::optional<Policy> load_policy(PolicyReader& reader) {
  if (!reader.has_etc_selinux()) return std::nullopt;
  std::optional<std::string> config = reader.read("", "config");
  if (!config) return std::nullopt;
  std::optional<std::string> type = parse_selinux_type(*config, "/etc/selinux/config");
  if (!type) return std::nullopt;
  Policy policy;
  policy.type = *type;
  std::string dir = *type + "/contexts/files";
  auto path_of = [&](const std::string& name) { return "/etc/selinux/" + dir + "/" + name; };
  for (const char* suffix : {"", ".local", ".homedirs"}) {
    std::string name = std::string("file_contexts") + suffix;
    std::optional<std::string> text = reader.read(dir, name);
    if (text) {
      parse_spec_file(*text, path_of(name), policy.specs);
    } else if (*suffix == '\0') {
      throw Error(ENOENT,
                  "SELinux policy " + *type + " is missing its mandatory file " + path_of(name));
    }
  }
  for (const char* suffix : {".subs", ".subs_dist"}) {
    std::string name = std::string("file_contexts") + suffix;
    if (std::optional<std::string> text = reader.read(dir, name))
      parse_subs_file(*text, path_of(name), policy.aliases);
  }
  return policy;
}

void relabel(tree::Tree& tree, const Policy* policy) {
  if (policy != nullptr) {
    Labeller(tree, *policy).run();
    return;
  }
  std::vector<tree::Node*> todo{tree.root()};
  while (!todo.empty()) {
    tree::Node* n = todo.back();
    todo.pop_back();
    tree::Node* inode = n->is_alias() ? const_cast<tree::Node*>(n->resolve()) : n;
    if (inode != nullptr) set_label(*inode, std::nullopt);
    todo.insert(todo.end(), n->children.begin(), n->children.end());
  }
}

}  // namespace cfs::boot
