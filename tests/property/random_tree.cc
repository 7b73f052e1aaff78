#include "property/random_tree.h"

#include <sys/stat.h>

#include <random>
#include <string>
#include <vector>

namespace cfs::test {
namespace {

class Gen {
 public:
  explicit Gen(std::uint64_t seed) : rng_(seed) {}
  std::uint64_t below(std::uint64_t n) { return std::uniform_int_distribution<std::uint64_t>(0, n - 1)(rng_); }
  bool chance(double p) { return std::bernoulli_distribution(p)(rng_); }
  std::string bytes(std::size_t n, bool no_nul_slash = false) {
    std::string s(n, '\0');
    for (char& c : s) {
      do c = static_cast<char>(below(256));
      while (no_nul_slash && (c == '\0' || c == '/'));
    }
    return s;
  }
  std::string name() {
    std::string n;
    do n = chance(0.7) ? "f" + std::to_string(below(100000)) : bytes(1 + below(chance(0.1) ? 255 : 12), true);
    while (n == "." || n == "..");
    return n;
  }

 private:
  std::mt19937_64 rng_;
};

// Names the reader folds back into other fields or drops, which cannot round-trip as xattrs.
bool reserved_xattr(const std::string& name) {
  return name.starts_with("trusted.overlay.whiteout") || name.starts_with("user.overlay.whiteout");
}

void add_xattrs(Gen& g, tree::Node& n) {
  static const char* kPrefixes[] = {"user.", "trusted.", "security.", "trusted.overlay.",
                                    "user.overlay.", "system.posix_acl_access", "other."};
  for (std::uint64_t i = g.below(5); i > 0; --i) {
    std::string name = kPrefixes[g.below(std::size(kPrefixes))];
    if (!name.starts_with("system.")) name += g.chance(0.5) ? "k" + std::to_string(g.below(8)) : g.bytes(1 + g.below(20), true);
    if (reserved_xattr(name) || n.find_xattr(name) != nullptr) continue;
    std::string value = g.chance(0.5) ? "shared-value" : g.bytes(g.below(g.chance(0.1) ? 2000 : 40));
    n.xattrs.push_back({name, value});
  }
}

}  // namespace

tree::Tree random_tree(std::uint64_t seed) {
  Gen g(seed);
  tree::Tree t;
  tree::Node* root = t.new_node();
  root->mode = S_IFDIR | 0755;
  root->mtime_sec = static_cast<std::int64_t>(g.below(1ULL << 34)) - (1LL << 32);
  add_xattrs(g, *root);
  t.set_root(root);
  std::vector<tree::Node*> dirs = {root}, files;
  std::uint64_t count = 20 + g.below(g.chance(0.2) ? 2000 : 200);
  for (std::uint64_t i = 0; i < count; ++i) {
    tree::Node* parent = dirs[g.below(dirs.size())];
    tree::Node* n = t.new_node();
    n->name = t.keep(g.name());
    n->uid = g.chance(0.8) ? 0 : static_cast<std::uint32_t>(g.below(1ULL << 32));
    n->gid = g.chance(0.8) ? 0 : static_cast<std::uint32_t>(g.below(70000));
    n->mtime_sec = g.chance(0.7) ? root->mtime_sec : static_cast<std::int64_t>(g.below(1ULL << 40));
    n->mtime_nsec = g.chance(0.7) ? 0 : static_cast<std::uint32_t>(g.below(1000000000));
    std::uint64_t kind = g.below(10);
    if (kind == 9 && !files.empty()) {
      n->link = files[g.below(files.size())];
      n->mode = n->link->mode;
    } else if (kind < 2) {
      n->mode = S_IFDIR | 0755;
    } else if (kind < 6) {
      n->mode = S_IFREG | static_cast<std::uint32_t>(g.below(07777));
      n->nlink = static_cast<std::uint32_t>(1 + g.below(3));
      std::uint64_t form = g.below(3);
      if (form == 0) {
        n->content = t.keep(g.bytes(1 + g.below(5000)));
        n->size = n->content.size();
      } else if (form == 1) {
        n->size = 1 + g.below(g.chance(0.1) ? (1ULL << 53) : 1ULL << 30);
        Digest d;
        for (std::size_t i = 0; i < d.size(); ++i) d[i] = static_cast<std::uint8_t>(g.below(256));
        if (g.chance(0.9)) n->digest = t.keep(d);
        if (g.chance(0.9)) n->payload = t.keep(object_path(d));
      }
    } else if (kind == 6) {
      n->mode = S_IFLNK | 0777;
      std::string target = g.bytes(1 + g.below(g.chance(0.1) ? 4095 : 100));
      for (char& c : target) {
        if (c == '\0') c = 'x';
      }
      n->payload = t.keep(target);
      n->size = n->payload.size();
    } else if (kind == 7) {
      n->mode = (g.chance(0.5) ? S_IFCHR : S_IFBLK) | 0640;
      n->rdev = g.chance(0.2) ? 0 : g.below(1ULL << 32);  // some chardevs 0/0: whiteouts
    } else {
      n->mode = (g.chance(0.5) ? S_IFIFO : S_IFSOCK) | 0644;
    }
    if (!n->is_alias()) add_xattrs(g, *n);
    if (!t.add_child(parent, n)) continue;
    if (n->is_dir()) dirs.push_back(n);
    if (n->type() == S_IFREG && !n->is_alias()) files.push_back(n);
  }
  return t;
}

}  // namespace cfs::test
