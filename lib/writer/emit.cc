// docs/format.md §2, §4–§6: the bytes, in file order, checked against the plan (format V2's
// differences: format/rules.h).
#include <sys/stat.h>

#include <cassert>
#include <cstring>
#include <memory>
#include <span>

#include "base/error.h"
#include "format/erofs.h"
#include "format/xattr_name.h"
#include "writer/plan.h"

namespace cfs::writer {
namespace {

using format::kBlockSize;

// Buffers output and hands it to the sink in large chunks; tracks the file offset.
class Output {
 public:
  explicit Output(const ByteSink& sink) : sink_(sink), buf_(new std::byte[kChunk]) {}
  ~Output() = default;

  void put(const void* data, std::size_t n) {
    const auto* p = static_cast<const std::byte*>(data);
    pos_ += n;
    while (n > 0) {
      std::size_t take = std::min(n, kChunk - used_);
      std::memcpy(buf_.get() + used_, p, take);
      used_ += take;
      p += take;
      n -= take;
      if (used_ == kChunk) flush();
    }
  }
  template <class T>
  void put(const T& v) {
    put(&v, sizeof v);
  }
  void fill_to(std::uint64_t offset, std::byte value = std::byte{0}) {
    if (offset < pos_) throw Error(EINVAL, "writer layout mismatch");
    while (pos_ < offset) {
      std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(offset - pos_, kChunk - used_));
      std::memset(buf_.get() + used_, static_cast<int>(value), n);
      used_ += n;
      pos_ += n;
      if (used_ == kChunk) flush();
    }
  }
  std::uint64_t pos() const { return pos_; }
  void flush() {
    if (used_ > 0) sink_(std::span<const std::byte>(buf_.get(), used_));
    used_ = 0;
  }

 private:
  static constexpr std::size_t kChunk = 256 << 10;
  const ByteSink& sink_;
  std::unique_ptr<std::byte[]> buf_;  // [0, used_) pending
  std::size_t used_ = 0;
  std::uint64_t pos_ = 0;
};

void put_xattr_entry(Output& out, const Plan& plan, const XattrView& x) {
  auto key = key_of(plan, x);
  format::ErofsXattrEntry e;
  e.e_name_len = static_cast<std::uint8_t>(key.suffix.size());
  e.e_name_index = key.index;
  e.e_value_size = static_cast<std::uint16_t>(value_size(x));
  std::uint64_t start = out.pos();
  out.put(e);
  out.put(key.suffix.data(), key.suffix.size());
  std::string_view prefix = prefix_bytes(x.prefix());
  out.put(prefix.data(), prefix.size());
  out.put(x.value().data(), x.value().size());
  out.fill_to(format::round_up(out.pos() - start, 4) + start);
}

// One directory block (full or tail): dirents, then the names.
void put_dir_block(Output& out, const Plan& plan, std::span<const DirEntry> entries) {
  std::uint16_t nameoff = static_cast<std::uint16_t>(12 * entries.size());
  for (const DirEntry& e : entries) {
    const Inode& target = plan.inodes[e.inode];
    format::ErofsDirent d{};
    d.nid = target.nid;
    d.nameoff = nameoff;
    d.file_type = format::file_type_of_mode(target.mode);
    out.put(d);
    nameoff = static_cast<std::uint16_t>(nameoff + e.name.size());
  }
  for (const DirEntry& e : entries) out.put(e.name.data(), e.name.size());
}

// Splits a directory's entries into its full blocks and its tail, as lay_out_dir grouped them.
std::vector<std::span<const DirEntry>> dir_groups(const std::vector<DirEntry>& entries) {
  std::vector<std::span<const DirEntry>> groups;
  std::size_t start = 0, used = 0;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    std::size_t cost = 12 + entries[i].name.size();
    if (used + cost > kBlockSize) {
      groups.emplace_back(entries.data() + start, i - start);
      start = i;
      used = 0;
    }
    used += cost;
  }
  groups.emplace_back(entries.data() + start, entries.size() - start);
  return groups;
}

std::uint32_t inode_u(const Inode& in) {
  switch (in.mode & S_IFMT) {
    case S_IFCHR:
    case S_IFBLK:
      return static_cast<std::uint32_t>(in.node->rdev);
    case S_IFREG:
      if (in.external) {
        // A moved-out chunk table: block number with its low half overwritten (format.md §8 item 5).
        return in.n_blocks > 0 ? (in.blkaddr & 0xFFFF0000U) | in.chunk_format : in.chunk_format;
      }
      return in.blkaddr;
    case S_IFDIR:
    case S_IFLNK:
      return in.blkaddr;
    default:
      return 0;
  }
}

void put_inode_core(Output& out, const Plan& plan, const Inode& in, std::uint32_t index) {
  auto ino = static_cast<std::uint32_t>(plan.rules.ino_is_nid ? in.nid : index);
  std::uint16_t icount = in.xsize == 0 ? 0 : static_cast<std::uint16_t>((in.xsize - 12) / 4 + 1);
  std::uint16_t format = static_cast<std::uint16_t>(in.layout << 1 | (in.extended ? 1 : 0));
  std::uint64_t size = (in.mode & S_IFMT) == S_IFDIR || (in.mode & S_IFMT) == S_IFLNK ||
                               (in.mode & S_IFMT) == S_IFREG
                           ? in.size
                           : 0;
  const tree::Node& n = *in.node;
  if (in.extended) {
    format::ErofsInodeExtended e{};
    e.i_format = format;
    e.i_xattr_icount = icount;
    e.i_mode = static_cast<std::uint16_t>(in.mode);
    e.i_size = size;
    e.i_u = inode_u(in);
    e.i_ino = ino;
    e.i_uid = n.uid;
    e.i_gid = n.gid;
    e.i_mtime = static_cast<std::uint64_t>(n.mtime_sec);
    e.i_mtime_nsec = plan.rules.stores_mtime_nsec ? n.mtime_nsec : 0;
    e.i_nlink = in.nlink;
    out.put(e);
  } else {
    format::ErofsInodeCompact c{};
    c.i_format = format;
    c.i_xattr_icount = icount;
    c.i_mode = static_cast<std::uint16_t>(in.mode);
    c.i_nlink = static_cast<std::uint16_t>(in.nlink);
    c.i_size = static_cast<std::uint32_t>(size);
    c.i_u = inode_u(in);
    c.i_ino = ino;
    c.i_uid = static_cast<std::uint16_t>(n.uid);
    c.i_gid = static_cast<std::uint16_t>(n.gid);
    out.put(c);
  }
}

void put_xattr_body(Output& out, const Plan& plan, const Inode& in) {
  if (in.xsize == 0) return;
  std::uint32_t bits = 0;
  for (const XattrView& x : plan.xattrs_of(in)) bits |= 1U << format::xattr_filter_bit(key_of(plan, x));
  format::ErofsXattrIbodyHeader h{};
  h.h_name_filter = ~bits;
  h.h_shared_count = static_cast<std::uint8_t>(in.shared_refs);
  out.put(h);
  std::uint64_t base = plan.inodes_end - static_cast<std::uint64_t>(plan.xattr_blkaddr) * kBlockSize;
  for (const XattrView& x : plan.xattrs_of(in)) {
    if (x.shared() == kNotShared) continue;
    le32 v = static_cast<std::uint32_t>((base + plan.shared_offsets[x.shared()]) / 4);
    out.put(v);
  }
  for (const XattrView& x : plan.xattrs_of(in)) {
    if (x.shared() == kNotShared) put_xattr_entry(out, plan, x);
  }
}

void put_tail(Output& out, const Plan& plan, std::uint32_t index, const Inode& in) {
  if (in.tail == 0) return;
  const tree::Node& n = *in.node;
  switch (in.mode & S_IFMT) {
    case S_IFDIR: {
      auto entries = dir_entries(plan, index);
      put_dir_block(out, plan, dir_groups(entries).back());
      break;
    }
    case S_IFLNK:
      out.put(n.payload.data(), n.payload.size());
      break;
    case S_IFREG:
      if (in.external) {
        out.fill_to(out.pos() + in.tail, std::byte{0xFF});
      } else {
        out.put(n.content.data() + n.content.size() - in.tail, in.tail);
      }
      break;
    default:
      break;
  }
}

void put_data_blocks(Output& out, const Plan& plan, std::uint32_t index, const Inode& in) {
  if (in.n_blocks == 0) return;
  if (out.pos() != static_cast<std::uint64_t>(in.blkaddr) * kBlockSize) {
    throw Error(EINVAL, "writer layout mismatch");
  }
  std::uint64_t end = out.pos() + static_cast<std::uint64_t>(in.n_blocks) * kBlockSize;
  const tree::Node& n = *in.node;
  switch (in.mode & S_IFMT) {
    case S_IFDIR: {
      auto entries = dir_entries(plan, index);
      auto groups = dir_groups(entries);
      for (std::size_t g = 0; g < in.n_blocks; ++g) {
        put_dir_block(out, plan, groups[g]);
        out.fill_to(format::round_up(out.pos(), kBlockSize));
      }
      break;
    }
    case S_IFLNK:
      out.put(n.payload.data(), n.payload.size());
      break;
    case S_IFREG:
      if (in.external) {
        out.fill_to(end, std::byte{0xFF});  // a moved-out chunk table: 1024 holes (format.md §8 item 5)
      } else {
        out.put(n.content.data(), n.content.size() - in.tail);
      }
      break;
    default:
      break;
  }
  out.fill_to(end);
}

}  // namespace

void emit(const Plan& plan, const ByteSink& sink) {
  Output out(sink);
  format::ComposefsHeader header{};
  header.magic = format::kComposefsMagic;
  header.version = format::kComposefsHeaderVersion;
  header.flags = plan.has_acl ? format::kComposefsFlagHasAcl : 0;
  header.composefs_version = plan.version;
  out.put(header);
  out.fill_to(format::kSuperblockOffset);

  format::ErofsSuperblock sb{};
  sb.magic = format::kErofsMagic;
  sb.feature_compat = format::kFeatureCompatMtime | format::kFeatureCompatXattrFilter;
  sb.blkszbits = format::kBlockBits;
  sb.root_nid = static_cast<std::uint16_t>(plan.inodes[0].nid);
  sb.inos = plan.inodes.size();
  if (plan.rules.build_time_is_min_mtime) {
    sb.build_time = static_cast<std::uint64_t>(plan.min_mtime_sec);
    sb.build_time_nsec = plan.min_mtime_nsec;
  }
  sb.blocks = static_cast<std::uint32_t>(plan.data_start / kBlockSize + plan.n_data_blocks);
  sb.xattr_blkaddr = plan.xattr_blkaddr;
  out.put(sb);

  for (std::uint32_t i = 0; i < plan.inodes.size(); ++i) {
    const Inode& in = plan.inodes[i];
    out.fill_to(in.nid * format::kSlotSize);
    put_inode_core(out, plan, in, i);
    put_xattr_body(out, plan, in);
    put_tail(out, plan, i, in);
  }
  out.fill_to(plan.inodes_end);
  for (const XattrView* x : plan.shared) put_xattr_entry(out, plan, *x);
  out.fill_to(plan.data_start);
  for (std::uint32_t i = 0; i < plan.inodes.size(); ++i) put_data_blocks(out, plan, i, plan.inodes[i]);
  out.flush();
}

}  // namespace cfs::writer
