#include "reader/to_tree.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "base/error.h"
#include "format/erofs.h"

namespace cfs::reader {
namespace {

constexpr std::size_t kMaxInlineContent = 5000;
constexpr int kMaxDepth = 2048;  // PATH_MAX / 2 components
constexpr std::string_view kOverlay = "trusted.overlay.";
constexpr std::string_view kEscaped = "trusted.overlay.overlay.";

void set_xattr(tree::Node& n, std::string_view name, std::string_view value) {
  for (tree::Xattr& x : n.xattrs) {
    if (x.name == name) {
      x.value = value;
      return;
    }
  }
  n.xattrs.push_back({std::string(name), std::string(value)});
}

class Loader {
 public:
  Loader(const Image& image, const ToTreeOptions& options) : image_(image), options_(options) {}

  tree::Tree run() {
    Inode root = image_.inode(image_.root_nid());
    tree::Node* node = tree_.new_node();
    tree_.set_root(node);
    remember(root, node);
    fill(*node, root);
    load_dir(*node, root, 0);
    return std::move(tree_);
  }

 private:
  // §8.4: map stored xattrs onto the node (metacopy -> digest, redirect -> payload, ...).
  void load_xattrs(tree::Node& n, const Inode& in) {
    bool whiteout = false;
    image_.for_each_xattr(in, [&](std::string_view name, std::string_view value) {
      if (name == "trusted.overlay.metacopy") {
        if (in.type() != S_IFREG) return true;
        if (value.size() == format::kMetacopyDigestSize) {
          if (!std::equal(format::kMetacopyDigestHeader.begin(), format::kMetacopyDigestHeader.end(),
                          reinterpret_cast<const std::uint8_t*>(value.data()))) {
            throw_corrupt("bad metacopy xattr (inode " + std::to_string(in.nid) + ")");
          }
          Digest d;
          std::memcpy(d.data(), value.data() + 4, d.size());
          n.digest = d;
        } else if (!value.empty()) {
          throw_corrupt("bad metacopy xattr (inode " + std::to_string(in.nid) + ")");
        }
      } else if (name == "trusted.overlay.redirect") {
        if (in.type() == S_IFREG) {
          if (value.size() > 1 && value[0] == '/') value.remove_prefix(1);
          n.payload = tree_.keep(value.substr(0, value.find('\0')));
        }
      } else if (name == "trusted.overlay.overlay.whiteout" && in.type() == S_IFREG) {
        whiteout = true;
      } else if (name == "trusted.overlay.overlay.whiteouts" || name == "user.overlay.whiteout" ||
                 name == "user.overlay.whiteouts") {
        // markers re-derived by the writer
      } else if (name.starts_with(kEscaped)) {
        set_xattr(n, std::string(kOverlay) + std::string(name.substr(kEscaped.size())), value);
      } else if (name.starts_with(kOverlay)) {
        // composefs' own overlay xattrs (e.g. the root's opaque=y)
      } else {
        set_xattr(n, name, value);
      }
      return true;
    });
    if (whiteout) {
      n.mode = S_IFCHR | (n.mode & 07777);
      n.size = 0;
      n.rdev = 0;
      n.payload = {};
      n.content = {};
      n.digest.reset();
    }
  }

  void fill(tree::Node& n, const Inode& in) {
    n.mode = in.mode;
    n.nlink = in.nlink;
    n.uid = in.uid;
    n.gid = in.gid;
    n.rdev = in.rdev();
    n.size = in.size;
    n.mtime_sec = in.mtime_sec;
    n.mtime_nsec = in.mtime_nsec;
    if (in.type() == S_IFLNK) {
      n.payload = tree_.keep(image_.read_symlink(in));
    } else if (in.type() == S_IFREG && in.size > 0 && in.layout != format::kLayoutChunkBased) {
      if (in.size > std::min<std::uint64_t>(kMaxInlineContent, image_.bytes().size())) {
        throw_corrupt("inline file too large (inode " + std::to_string(in.nid) + ")");
      }
      std::string content(in.size, '\0');
      image_.read_data(in, 0, std::as_writable_bytes(std::span(content)));
      n.content = tree_.keep(content);
    }
    load_xattrs(n, in);
  }

  void load_dir(tree::Node& dir, const Inode& in, int depth) {
    if (depth > kMaxDepth) throw_corrupt("directory tree too deep");
    bool dot = false, dotdot = false;
    std::vector<std::pair<std::string, std::uint64_t>> children;
    image_.for_each_dirent(in, [&](const DirEntryView& e) {
      if (e.name == "." || e.name == "..") {
        bool& flag = e.name == "." ? dot : dotdot;
        if (flag || (e.name == "." && e.nid != in.nid)) {
          throw_corrupt("bad . or .. entry (inode " + std::to_string(in.nid) + ")");
        }
        flag = true;
        return true;
      }
      if (depth == 0 && !options_.filters.empty() &&
          std::find(options_.filters.begin(), options_.filters.end(), e.name) ==
              options_.filters.end()) {
        return true;
      }
      children.emplace_back(e.name, e.nid);
      return true;
    });
    if (!dot || !dotdot) throw_corrupt("missing . or .. (inode " + std::to_string(in.nid) + ")");
    for (auto& [name, nid] : children) {
      Inode child = image_.inode(nid);
      if (child.type() == S_IFCHR && child.rdev() == 0) continue;  // overlay whiteout
      tree::Node* node = tree_.new_node();
      node->name = tree_.keep(name);
      tree::Node* earlier = remember(child, node);
      bool first = earlier == nullptr;
      if (!first) {
        node->link = earlier;  // a later reference to a loaded inode: a hard link
        node->mode = earlier->mode;
      } else {
        fill(*node, child);
      }
      tree_.add_child(&dir, node);
      if (first && child.type() == S_IFDIR) load_dir(*node, child, depth + 1);
    }
  }

  // Records that `node` shows inode `in`; returns the node that showed it before, if any.
  // Indexed by nid (inodes sit at most every 32 bytes of the image, so this is bounded by
  // its size): cheaper than a hash map of every inode, at about the same memory.
  tree::Node* remember(const Inode& in, tree::Node* node) {
    if (in.nid >= seen_.size()) seen_.resize(std::max<std::size_t>(in.nid + 1, seen_.size() * 2), nullptr);
    tree::Node*& slot = seen_[in.nid];
    if (slot != nullptr) return slot;
    slot = node;
    return nullptr;
  }

  const Image& image_;
  const ToTreeOptions& options_;
  tree::Tree tree_;
  std::vector<tree::Node*> seen_;  // by nid
};

}  // namespace

tree::Tree to_tree(const Image& image, const ToTreeOptions& options) {
  return Loader(image, options).run();
}

}  // namespace cfs::reader
