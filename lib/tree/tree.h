// Tree: the in-memory filesystem tree that the dump parser and directory scanner produce, the
// writer consumes and the image reader returns. Layer: tree.
// Ownership: a Tree owns all its Nodes (stable addresses); Node pointers are borrowed.
// Not thread-safe for mutation; const access from several threads is fine.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/digest.h"
#include "base/string_arena.h"

namespace cfs::tree {

struct Xattr {
  std::string name;
  std::string value;
  friend bool operator==(const Xattr&, const Xattr&) = default;
};

// A digest held as bytes the Tree keeps (Tree::keep): its algorithm, then its 32 or 64
// bytes. 8 bytes in a node instead of a 66-byte optional<Digest>, most of which would be
// unused for SHA-256. Empty: no digest.
class DigestRef {
 public:
  DigestRef() = default;
  // Over `bytes` = {algorithm, digest bytes...}, which the caller keeps alive (a reader's
  // scratch buffer; Tree::keep for nodes of a tree).
  static DigestRef over(const std::uint8_t* bytes) noexcept { return DigestRef(bytes); }

  explicit operator bool() const noexcept { return bytes_ != nullptr; }
  bool has_value() const noexcept { return bytes_ != nullptr; }
  void reset() noexcept { bytes_ = nullptr; }
  Digest operator*() const;  // the digest (must not be empty)
  HashAlgorithm algorithm() const noexcept { return static_cast<HashAlgorithm>(bytes_[0]); }
  // The digest's bytes, as long as whatever holds them.
  std::string_view bytes() const noexcept {
    return {reinterpret_cast<const char*>(bytes_ + 1), digest_size(algorithm())};
  }

 private:
  explicit DigestRef(const std::uint8_t* bytes) : bytes_(bytes) {}
  const std::uint8_t* bytes_ = nullptr;
};

// String fields are views of bytes the Tree owns (Tree::keep).
struct Node {
  std::string_view name;  // empty for the root
  std::uint32_t mode = 0;
  std::uint32_t nlink = 1;
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
  std::uint64_t rdev = 0;
  std::uint64_t size = 0;
  std::int64_t mtime_sec = 0;
  std::string_view payload;  // symlink target, or backing-object path of an external file
  std::string_view content;  // inline file data (non-empty means "stored in the image")
  DigestRef digest;              // fs-verity digest of an external file's data
  std::uint32_t mtime_nsec = 0;
  std::vector<Xattr> xattrs;     // insertion order; names unique
  std::vector<Node*> children;   // directories: sorted by name (byte order)
  Node* parent = nullptr;
  // Hard-link alias: this entry names `link` (which may itself be an alias); other fields unused.
  Node* link = nullptr;

  std::uint32_t type() const noexcept { return mode & 0170000; }
  bool is_dir() const noexcept { return link == nullptr && type() == 0040000; }
  bool is_alias() const noexcept { return link != nullptr; }
  // Follows alias chains; nullptr if they loop.
  const Node* resolve() const noexcept;
  Node* find_child(std::string_view child_name) const;
  std::string path() const;  // "/" for the root, else "/a/b"
  const Xattr* find_xattr(std::string_view xattr_name) const;
};

class Tree {
 public:
  Tree() = default;
  Tree(Tree&& other) noexcept { *this = std::move(other); }
  Tree& operator=(Tree&& other) noexcept {
    strings_ = std::move(other.strings_);
    chunks_ = std::move(other.chunks_);
    count_ = std::exchange(other.count_, 0);
    root_ = std::exchange(other.root_, nullptr);
    return *this;
  }

  Node* root() const noexcept { return root_; }
  // The entry at `path` ("/" or "/a/b"), through directories' children; nullptr if absent.
  Node* find(std::string_view path) const;
  void set_root(Node* root) noexcept { root_ = root; }
  Node* new_node();  // detached; attach with add_child
  // A copy of `bytes` that lives as long as the tree (for Node's string fields). Thread-safe:
  // files are hashed on several threads.
  std::string_view keep(std::string_view bytes);
  // A digest kept the same way (thread-safe too), or another tree's (or a reader's) again.
  DigestRef keep(const Digest& digest);
  DigestRef keep(DigestRef digest) { return digest ? keep(*digest) : DigestRef(); }
  // Inserts `child` into `dir`'s sorted children; false if the name exists already.
  bool add_child(Node* dir, Node* child);
  std::size_t node_count() const noexcept { return count_; }

 private:
  // Nodes in chunks that grow to 2 MiB (then in huge pages, base/large_alloc.h): stable
  // addresses, one allocation per chunk.
  class Chunk {
   public:
    explicit Chunk(std::size_t capacity);
    Chunk(Chunk&& other) noexcept;
    Chunk& operator=(Chunk&&) = delete;
    ~Chunk();
    Node* add();  // nullptr when full

   private:
    Node* nodes_;
    std::size_t capacity_;
    std::size_t used_ = 0;
  };
  struct Strings {
    std::mutex mutex;
    StringArena arena;
  };
  std::unique_ptr<Strings> strings_ = std::make_unique<Strings>();
  std::vector<Chunk> chunks_;
  std::size_t count_ = 0;
  Node* root_ = nullptr;
};

// Visits `root` and every node below it in pre-order, children in their order, without
// recursion (a tree read from an image can be as deep as it has nodes). `visit(node, depth)`
// (depth 0 for `root`) returns whether to go into the node's children.
template <class Visit>
void preorder(const Node& root, Visit&& visit) {
  if (!visit(root, std::size_t{0})) return;
  std::vector<std::pair<const Node*, std::size_t>> stack{{&root, 0}};  // directory, next child
  while (!stack.empty()) {
    auto& [dir, next] = stack.back();
    if (next == dir->children.size()) {
      stack.pop_back();
      continue;
    }
    const Node* child = dir->children[next++];
    if (visit(*child, stack.size()) && !child->children.empty()) stack.emplace_back(child, 0);
  }
}

inline bool name_less(std::string_view a, std::string_view b) {
  return a < b;  // std::string_view compares as unsigned bytes (char_traits<char>::lt)
}

}  // namespace cfs::tree
