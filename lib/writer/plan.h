// Writer internals: the list of inodes to write, rewritten as the format's rules say (overlay
// xattrs, whiteouts, root marks) and numbered breadth-first (upstream) or depth-first (V2),
// then laid out. Layer: writer (private).
#pragma once

#include <algorithm>
#include <bit>
#include <cstdint>
#include <deque>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/large_alloc.h"
#include "base/string_arena.h"
#include "format/rules.h"
#include "format/xattr_name.h"
#include "tree/tree.h"
#include "writer/writer.h"

namespace cfs::writer {

// Bytes stored before an xattr's value: the overlay values made from the tree (redirect
// "/" + payload, metacopy header + digest) then view the tree instead of being copied.
// All values of one name have the same prefix (these names are the writer's own).
enum class ValuePrefix : std::uint8_t { kNone, kSlash, kMetacopyHeader, kMetacopySha512Header };
std::string_view prefix_bytes(ValuePrefix prefix);

inline constexpr std::uint32_t kNotShared = (1U << 30) - 1;

// An xattr as written: views of the tree's strings, of constants, or of the plan's arena.
// 24 bytes, as there is one per xattr of the image: sizes fit 16 bits (an xattr's name and
// value are within the 32767-byte budget), the shared-table index 30 bits.
class XattrView {
 public:
  XattrView() = default;
  // Throws Error(ERANGE) if the name or value is longer than an xattr can be.
  XattrView(std::string_view name, std::string_view value, ValuePrefix prefix = ValuePrefix::kNone);

  std::string_view name() const { return {name_, name_size_}; }
  std::string_view value() const { return {value_, value_size_}; }  // stored: prefix + value
  ValuePrefix prefix() const { return static_cast<ValuePrefix>(prefix_); }
  // Index into Plan::shared when the inode refers to the table, else kNotShared.
  std::uint32_t shared() const { return shared_; }
  void set_shared(std::uint32_t index);  // throws Error(EFBIG) past 2^30 - 2

 private:
  const char* name_ = nullptr;
  const char* value_ = nullptr;
  std::uint16_t name_size_ = 0;
  std::uint16_t value_size_ = 0;
  std::uint32_t shared_ : 30 = kNotShared;
  std::uint32_t prefix_ : 2 = 0;
};
static_assert(sizeof(XattrView) == 24);
inline std::string_view xattr_name(const XattrView& x) { return x.name(); }
inline std::size_t value_size(const XattrView& x) { return prefix_bytes(x.prefix()).size() + x.value().size(); }
// Byte order of the stored values.
int compare_values(const XattrView& a, const XattrView& b);

struct Inode {  // one per entry of the tree: fields ordered to leave no padding
  const tree::Node* node = nullptr;  // source of uid, gid, mtime, rdev, payload, content
  std::uint64_t size = 0;            // stored size (dirs: computed in layout)
  std::uint64_t xattr_budget = 0;    // upstream's per-node counter (docs/format.md §8 item 9)
  std::uint32_t xattr_begin = 0;     // final set: Plan::xattrs[begin, begin + count), sorted
  std::uint32_t xattr_count = 0;     // by name after preparation
  std::uint32_t mode = 0;            // may differ from node (converted whiteouts)
  std::uint32_t nlink = 0;
  std::uint32_t parent = 0;          // inode index of the parent directory
  std::uint32_t first_entry = 0;     // directories: Plan::entry_inodes index of the first child
  bool synthetic = false;            // one of the root whiteouts added by the writer
  bool external = false;             // regular file whose data lives in a backing object

  // Layout results.
  bool extended = false;
  std::uint8_t layout = 0;
  std::uint8_t shared_refs = 0;  // how many of the xattrs are table references (rules' cap)
  std::uint16_t chunk_format = 0;
  std::uint32_t xsize = 0;
  std::uint32_t tail = 0;
  std::uint64_t nid = 0;
  std::uint32_t n_blocks = 0;
  std::uint32_t blkaddr = 0;
};

struct DirEntry {
  std::string_view name;
  std::uint32_t inode;  // index into Plan::inodes
};

inline constexpr std::uint32_t kNoInode = UINT32_MAX;

struct LinkTarget {  // a node that hard-link aliases name
  std::uint32_t ino = kNoInode;
  std::uint32_t names = 1;  // its own entry and its aliases'
};

struct Plan {
  std::uint32_t version = 0;
  format::FormatRules rules = format::kUpstreamRules;
  LargeVector<Inode> inodes;            // in the format's order; index = upstream's ino
  // Per directory, one slot per child (aliases included): the inode it names.
  LargeVector<std::uint32_t> entry_inodes;
  std::vector<tree::Node*> root_children;  // root's children (+ upstream's added whiteouts)
  std::deque<tree::Node> synthetic_nodes;
  std::unordered_map<const tree::Node*, LinkTarget> alias_targets;  // resolved target
  std::int64_t min_mtime_sec = 0;
  std::uint32_t min_mtime_nsec = 0;
  bool has_acl = false;
  // Every inode's xattrs, one range each: one allocation instead of one per inode.
  LargeVector<XattrView> xattrs;

  StringArena arena;  // the bytes the writer makes up: escaped names, root whiteout names
  std::vector<const XattrView*> shared;  // shared table order
  std::vector<std::uint32_t> shared_offsets;
  std::uint32_t shared_size = 0;
  std::uint64_t inodes_end = 0;
  std::uint32_t xattr_blkaddr = 0;  // shared references count from this block
  std::uint64_t data_start = 0;
  std::uint32_t n_data_blocks = 0;

  std::span<XattrView> xattrs_of(const Inode& in) { return {xattrs.data() + in.xattr_begin, in.xattr_count}; }
  std::span<const XattrView> xattrs_of(const Inode& in) const {
    return {xattrs.data() + in.xattr_begin, in.xattr_count};
  }
  // Children of inode `index` in name order (the root's include the added whiteouts).
  const std::vector<tree::Node*>& children_of(std::uint32_t index) const {
    return index == 0 ? root_children : inodes[index].node->children;
  }
};

// Steps, in order (each in its own file).
Plan prepare(const tree::Tree& tree, const Options& options);  // prepare.cc: format.md §3
void choose_shared_xattrs(Plan& plan);                          // xattrs.cc: format.md §5
void lay_out(Plan& plan);                                       // layout.cc: format.md §4
void emit(const Plan& plan, const ByteSink& sink);              // emit.cc: format.md §2, §4-§6

// Directory entries of a directory inode, "." and ".." included, in name order.
std::vector<DirEntry> dir_entries(const Plan& plan, std::uint32_t dir);
// External files are stubs of 2^chunk_bits-sized holes (format.md §4); size > 0.
inline std::uint32_t chunk_bits(std::uint64_t size) {
  return std::clamp(static_cast<std::uint32_t>(std::bit_width(size - 1)), 12U, 43U);
}
// An xattr name's stored (e_name_index, suffix) under the plan's prefix table.
inline format::XattrKey key_of(const Plan& plan, const XattrView& x) {
  return format::split_xattr_name(x.name(), plan.rules.lustre_prefix);
}
// Encoded size of one xattr entry (format.md §5).
std::uint32_t xattr_entry_size(const Plan& plan, const XattrView& x);

}  // namespace cfs::writer
