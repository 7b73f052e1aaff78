#include "reader/walk.h"

#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <unordered_map>

#include "base/error.h"
#include "format/composefs.h"
#include "format/erofs.h"
#include "format/rules.h"

namespace cfs::reader {
namespace {


void set_xattr(tree::Node& n, std::string_view name, std::string_view value) {
  for (tree::Xattr& x : n.xattrs) {
    if (x.name == name) {
      x.value = value;
      return;
    }
  }
  n.xattrs.push_back({std::string(name), std::string(value)});
}

// One bit per possible nid (inodes sit at most every 32 bytes of the image).
class NidSet {
 public:
  explicit NidSet(std::size_t image_size) : bits_(image_size / 32 + 1) {}
  bool contains(std::uint64_t nid) const { return nid < bits_.size() && bits_[nid]; }
  // Adds `nid`; false if it was there already.
  bool insert(std::uint64_t nid) {
    if (nid >= bits_.size()) throw_corrupt("inode number out of range (" + std::to_string(nid) + ")");
    if (bits_[nid]) return false;
    bits_[nid] = true;
    return true;
  }

 private:
  std::vector<bool> bits_;
};

class Walker {
 public:
  Walker(const Image& image, const WalkOptions& options)
      : image_(image),
        escaped_whiteouts_(format::rules_for_image(image.composefs_version()).escaped_whiteouts),
        options_(options),
        repeated_(image.bytes().size()) {}

  // Pass 1 (visit == nullptr): checks everything, learns which inodes are named twice.
  // Pass 2: visits. No recursion: an image's tree can be as deep as it has directories (a
  // directory is entered once, so loops end).
  void run(const WalkVisitor* visit) {
    visit_ = visit;
    seen_ = NidSet(image_.bytes().size());
    primaries_.clear();
    path_ = "/";
    stack_.clear();
    Inode root = image_.inode(image_.root_nid());
    if (entry(root, "", 0)) enter(root, 0);
    while (!stack_.empty()) {
      Frame& f = stack_.back();
      if (f.next == f.children.size()) {
        stack_.pop_back();
        continue;
      }
      const DirEntryView e = f.children[f.next++];
      int depth = f.depth + 1;
      path_.resize(f.path_end);
      if (f.path_end > 1) path_ += '/';
      path_ += e.name;
      Inode child = image_.inode(e.nid);
      // Upstream's images store whiteouts as marked files: a char device 0/0 is one of the
      // root's 00..ff. V2 stores the tree's whiteouts as they are.
      if (escaped_whiteouts_ && format::is_whiteout(child.mode, child.rdev())) {
        // Upstream's loader broke on shared whiteouts and now refuses them.
        if (child.nlink > 1) throw_corrupt("whiteout with several links");
        continue;
      }
      if (entry(child, e.name, depth)) enter(child, depth);  // f may dangle from here on
    }
  }

 private:
  struct Frame {
    std::vector<DirEntryView> children;  // names view the image
    std::size_t next = 0;
    std::size_t path_end;  // the directory's path is path_[0, path_end)
    int depth;
  };

  // Visits (or checks) one entry; true if it is a directory seen for the first time.
  bool entry(const Inode& in, std::string_view name, int depth) {
    fill(in);
    bool first = seen_.insert(in.nid);
    if (visit_ == nullptr) {
      if (!first) repeated_.insert(in.nid);
    } else {
      bool linked = repeated_.contains(in.nid);
      const std::string* primary = nullptr;
      if (!first) {
        primary = &primaries_.at(in.nid);
      } else if (linked) {
        primaries_.emplace(in.nid, path_);
      }
      (*visit_)(WalkEntry{path_, name, depth, in.nid, node_, linked, primary});
    }
    return first && in.type() == S_IFDIR;
  }

  // Checks a directory's entries and pushes it, to visit its children next.
  void enter(const Inode& in, int depth) {
    bool dot = false, dotdot = false;
    Frame f{{}, 0, path_.size(), depth};
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
          std::find(options_.filters.begin(), options_.filters.end(), e.name) == options_.filters.end()) {
        return true;
      }
      f.children.push_back(e);
      return true;
    });
    if (!dot || !dotdot) throw_corrupt("missing . or .. (inode " + std::to_string(in.nid) + ")");
    stack_.push_back(std::move(f));
  }

  // The inode's fields into node_, with format.md §9's mapping of the stored xattrs.
  void fill(const Inode& in) {
    tree::Node& n = node_;
    n.mode = in.mode;
    n.nlink = in.nlink;
    n.uid = in.uid;
    n.gid = in.gid;
    n.rdev = in.rdev();
    n.size = in.size;
    n.mtime_sec = in.mtime_sec;
    n.mtime_nsec = in.mtime_nsec;
    n.payload = {};
    n.content = {};
    n.digest.reset();
    n.xattrs.clear();
    if (in.type() == S_IFLNK) {
      symlink_ = image_.read_symlink(in);
      n.payload = symlink_;
    } else if (in.type() == S_IFREG && in.size > 0 && in.layout != format::kLayoutChunkBased) {
      if (in.size > std::min<std::uint64_t>(format::kMaxInlineContent, image_.bytes().size())) {
        throw_corrupt("inline file too large (inode " + std::to_string(in.nid) + ")");
      }
      content_.resize(in.size);
      image_.read_data(in, 0, std::as_writable_bytes(std::span(content_)));
      n.content = content_;
    }
    load_xattrs(n, in);
  }

  void load_xattrs(tree::Node& n, const Inode& in) {
    bool whiteout = false;
    image_.for_each_xattr(in, [&](std::string_view name, std::string_view value) {
      if (name == format::kXattrMetacopy) {
        if (in.type() != S_IFREG) return true;
        try {
          if (std::optional<Digest> d = format::metacopy_digest(value)) {
            digest_[0] = static_cast<std::uint8_t>(d->algorithm());
            std::memcpy(digest_.data() + 1, d->data(), d->size());
            n.digest = tree::DigestRef::over(digest_.data());
          }
        } catch (const Error&) {
          throw_corrupt("bad metacopy xattr (inode " + std::to_string(in.nid) + ")");
        }
      } else if (name == format::kXattrRedirect) {
        if (in.type() == S_IFREG) n.payload = format::redirect_payload(value);  // views the image
      } else if (escaped_whiteouts_ && name == format::kXattrWhiteout && in.type() == S_IFREG) {
        whiteout = true;
      } else if (escaped_whiteouts_ && format::is_whiteout_marker(name)) {
        // re-derived by the writer
      } else if (std::optional<std::string> own = format::unescaped_xattr_name(name)) {
        set_xattr(n, *own, value);
      }  // else composefs' own overlay xattrs (e.g. the root's opaque=y)
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

  const Image& image_;
  const bool escaped_whiteouts_;  // format/rules.h
  std::array<std::uint8_t, 1 + Digest::kMaxSize> digest_{};  // the current entry's (Node::digest)
  const WalkOptions& options_;
  const WalkVisitor* visit_ = nullptr;
  NidSet repeated_;
  NidSet seen_{0};
  std::unordered_map<std::uint64_t, std::string> primaries_;  // linked inodes' first paths
  std::string path_;
  std::vector<Frame> stack_;  // the directories on the current path
  tree::Node node_;
  std::string symlink_, content_;  // node_'s payload and content, when not in the image
};

}  // namespace

void walk(const Image& image, const WalkOptions& options, const WalkVisitor& visit) {
  Walker walker(image, options);
  walker.run(nullptr);
  walker.run(&visit);
}

}  // namespace cfs::reader
