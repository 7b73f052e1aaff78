#include "reader/image.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "base/error.h"
#include "format/composefs.h"
#include "format/erofs.h"
#include "format/xattr_name.h"

namespace cfs::reader {
namespace {

using format::kBlockSize;

using format::kMaxNameLen;
constexpr std::size_t kMaxSymlink = format::kMaxPathLen;

[[noreturn]] void corrupt(const std::string& what, std::uint64_t nid) {
  throw_corrupt(what + " (inode " + std::to_string(nid) + ")");
}

bool valid_type(std::uint32_t mode) {
  return format::file_type_of_mode(mode) != format::kFtUnknown;
}

// Bounds check of [off, off + len) against the image.
bool fits(std::span<const std::byte> b, std::uint64_t off, std::uint64_t len) {
  return off <= b.size() && len <= b.size() - off;
}

std::string_view view(std::span<const std::byte> b, std::uint64_t off, std::uint64_t len) {
  return {reinterpret_cast<const char*>(b.data()) + off, static_cast<std::size_t>(len)};
}

// The validated entries of one directory block.
std::vector<DirEntryView> parse_dir_block(std::span<const std::byte> blk, std::uint64_t nid) {
  if (blk.size() < sizeof(format::ErofsDirent)) corrupt("directory block too short", nid);
  auto first = load<format::ErofsDirent>(blk, 0);
  std::uint32_t nameoff0 = first.nameoff;
  if (nameoff0 % 12 != 0 || nameoff0 < 12 || nameoff0 >= blk.size()) {
    corrupt("bad first dirent name offset", nid);
  }
  std::size_t n = nameoff0 / 12;
  std::vector<DirEntryView> out;
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    auto de = load<format::ErofsDirent>(blk, 12 * i);
    std::uint64_t start = de.nameoff;
    std::uint64_t end;
    if (i + 1 < n) {
      end = load<format::ErofsDirent>(blk, 12 * (i + 1)).nameoff;
    } else {
      end = blk.size();
      if (start < end) {
        const void* nul = std::memchr(blk.data() + start, 0, end - start);
        if (nul != nullptr) end = static_cast<const std::byte*>(nul) - blk.data();
      }
    }
    if (start < nameoff0 || end <= start || end > blk.size() || end - start > kMaxNameLen) {
      corrupt("bad dirent name", nid);
    }
    std::string_view name = view(blk, start, end - start);
    if (name.find('\0') != std::string_view::npos || name.find('/') != std::string_view::npos) {
      corrupt("bad character in a name", nid);
    }
    if (de.file_type > format::kFtSymlink) corrupt("bad dirent file type", nid);
    if (!out.empty() && !(out.back().name < name)) corrupt("directory names out of order", nid);
    out.push_back({name, de.nid, de.file_type});
  }
  return out;
}

}  // namespace

std::uint32_t Inode::rdev() const noexcept {
  return type() == S_IFCHR || type() == S_IFBLK ? i_u : 0;
}

Image Image::open(std::span<const std::byte> bytes) {
  Image img(bytes);
  if (bytes.size() < kBlockSize) throw Error(EINVAL, "Invalid argument");
  auto header = load<format::ComposefsHeader>(bytes, 0);
  if (header.magic != format::kComposefsMagic) throw Error(EINVAL, "Invalid argument");
  if (header.version != format::kComposefsHeaderVersion) throw_errno(ENOTSUP);
  auto sb = load<format::ErofsSuperblock>(bytes, format::kSuperblockOffset);
  if (sb.magic != format::kErofsMagic) throw Error(EINVAL, "Invalid argument");
  if (sb.blkszbits != format::kBlockBits) throw_corrupt("block size is not 4096");
  if ((sb.feature_incompat & ~format::kFeatureIncompatChunkedFile) != 0) {
    throw_corrupt("unsupported EROFS incompatible features");
  }
  if (sb.feature_compat & format::kFeatureCompatSbChksum) {
    throw_corrupt("superblock checksums are not used by composefs");
  }
  if (sb.dirblkbits != 0 || sb.sb_extslots != 0 || sb.xattr_prefix_count != 0) {
    throw_corrupt("unsupported EROFS superblock options");
  }
  img.meta_offset_ = static_cast<std::uint64_t>(sb.meta_blkaddr) * kBlockSize;
  img.xattr_offset_ = static_cast<std::uint64_t>(sb.xattr_blkaddr) * kBlockSize;
  if (img.meta_offset_ >= bytes.size() || img.xattr_offset_ >= bytes.size()) {
    throw Error(EINVAL, "Invalid argument");
  }
  img.composefs_version_ = header.composefs_version;
  img.flags_ = header.flags;
  img.root_nid_ = sb.root_nid;
  img.build_time_sec_ = static_cast<std::int64_t>(static_cast<std::uint64_t>(sb.build_time));
  img.build_time_nsec_ = sb.build_time_nsec;
  img.inos_ = sb.inos;
  if (img.inode(img.root_nid_).type() != S_IFDIR) throw_corrupt("root is not a directory");
  return img;
}

Inode Image::inode(std::uint64_t nid) const {
  if (nid > (bytes_.size() - meta_offset_) / format::kSlotSize) corrupt("inode out of range", nid);
  std::uint64_t off = meta_offset_ + nid * format::kSlotSize;
  auto i_format = load<le16>(bytes_, off);
  if (i_format & ~0xF) corrupt("unknown inode format bits", nid);
  Inode in;
  in.nid = nid;
  in.extended = i_format & 1;
  in.layout = i_format >> 1;
  if (in.layout != format::kLayoutFlatPlain && in.layout != format::kLayoutFlatInline &&
      in.layout != format::kLayoutChunkBased) {
    corrupt("unsupported data layout", nid);
  }
  std::uint32_t icount;
  std::uint32_t isize;
  if (in.extended) {
    auto e = load<format::ErofsInodeExtended>(bytes_, off);
    icount = e.i_xattr_icount;
    in.mode = e.i_mode;
    in.size = e.i_size;
    in.i_u = e.i_u;
    in.ino = e.i_ino;
    in.uid = e.i_uid;
    in.gid = e.i_gid;
    in.mtime_sec = static_cast<std::int64_t>(static_cast<std::uint64_t>(e.i_mtime));
    in.mtime_nsec = e.i_mtime_nsec;
    in.nlink = e.i_nlink;
    isize = 64;
  } else {
    auto c = load<format::ErofsInodeCompact>(bytes_, off);
    icount = c.i_xattr_icount;
    in.mode = c.i_mode;
    in.size = c.i_size;
    in.i_u = c.i_u;
    in.ino = c.i_ino;
    in.uid = c.i_uid;
    in.gid = c.i_gid;
    in.mtime_sec = build_time_sec_;
    in.mtime_nsec = build_time_nsec_;
    in.nlink = c.i_nlink;
    isize = 32;
  }
  if (!valid_type(in.mode)) corrupt("unknown file type", nid);
  if (icount == 1) corrupt("bad xattr count", nid);
  in.xattr_size = icount == 0 ? 0 : 12 + 4 * (icount - 1);
  in.xattr_offset = off + isize;
  in.tail_offset = in.xattr_offset + in.xattr_size;
  if (!fits(bytes_, off, in.tail_offset - off)) corrupt("inode past the end of the image", nid);

  bool has_data = in.type() == S_IFREG || in.type() == S_IFDIR || in.type() == S_IFLNK;
  if (!has_data || in.layout == format::kLayoutChunkBased) {
    if (in.layout == format::kLayoutChunkBased) {
      if (in.type() != S_IFREG) corrupt("chunk-based layout on a non-file", nid);
      if ((in.i_u & 0xFFFF) & ~format::kChunkFormatBlkbitsMask) corrupt("bad chunk format", nid);
    }
    return in;
  }
  if (in.layout == format::kLayoutFlatInline) {
    in.tail_size = static_cast<std::uint32_t>(in.size % kBlockSize);
    if (!fits(bytes_, in.tail_offset, in.tail_size)) corrupt("inline data past the end", nid);
    if (in.tail_size > 0 &&
        in.tail_offset / kBlockSize != (in.tail_offset + in.tail_size - 1) / kBlockSize) {
      corrupt("inline data crosses a block boundary", nid);
    }
    in.block_count = in.size / kBlockSize;
  } else {
    in.block_count = (in.size + kBlockSize - 1) / kBlockSize;
  }
  if (in.block_count > 0 &&
      !fits(bytes_, static_cast<std::uint64_t>(in.i_u) * kBlockSize, in.block_count * kBlockSize)) {
    corrupt("data blocks past the end of the image", nid);
  }
  return in;
}

void Image::for_each_xattr(const Inode& in, const XattrVisitor& visit) const {
  if (in.xattr_size == 0) return;
  auto header = load<format::ErofsXattrIbodyHeader>(bytes_, in.xattr_offset);
  std::uint64_t shared = header.h_shared_count;
  if (12 + 4 * shared > in.xattr_size) corrupt("shared xattr count too large", in.nid);

  // Decodes one entry at `pos` within [pos, end); returns its aligned size.
  auto entry = [&](std::uint64_t pos, std::uint64_t end, bool& go_on) -> std::uint64_t {
    if (end - pos < 4) corrupt("truncated xattr entry", in.nid);
    auto e = load<format::ErofsXattrEntry>(bytes_, pos);
    std::uint64_t len = 4 + e.e_name_len + static_cast<std::uint64_t>(e.e_value_size);
    if (len > end - pos) corrupt("xattr entry past its end", in.nid);
    auto prefix = format::xattr_prefix(e.e_name_index);
    if (!prefix) corrupt("bad xattr name index", in.nid);
    std::string name(*prefix);
    name += view(bytes_, pos + 4, e.e_name_len);
    // No bound on the whole name: the stored suffix is up to 255 bytes after its prefix, and
    // escaped overlay names (trusted.overlay.overlay.*) are 8 bytes longer than the 255 they
    // show as.
    if (name.empty() || name.find('\0') != std::string::npos) corrupt("bad xattr name", in.nid);
    go_on = visit(name, view(bytes_, pos + 4 + e.e_name_len, e.e_value_size));
    return format::round_up(len, 4);
  };

  std::uint64_t end = in.xattr_offset + in.xattr_size;
  std::uint64_t pos = in.xattr_offset + 12 + 4 * shared;
  bool go_on = true;
  while (go_on && pos + 4 <= end) pos += entry(pos, end, go_on);
  for (std::uint64_t i = 0; go_on && i < shared; ++i) {
    std::uint64_t ref = load<le32>(bytes_, in.xattr_offset + 12 + 4 * i);
    std::uint64_t at = xattr_offset_ + 4 * ref;
    if (at >= bytes_.size()) corrupt("shared xattr reference out of range", in.nid);
    entry(at, bytes_.size(), go_on);
  }
}

std::optional<std::string> Image::get_xattr(const Inode& in, std::string_view name) const {
  std::optional<std::string> found;
  for_each_xattr(in, [&](std::string_view n, std::string_view v) {
    if (n == name) found = std::string(v);  // last one wins, as upstream
    return true;
  });
  return found;
}

std::uint64_t Image::dir_block_count(const Inode& dir) const {
  return dir.block_count + (dir.tail_size > 0 ? 1 : 0);
}

std::span<const std::byte> Image::block_of_dir(const Inode& dir, std::uint64_t index) const {
  if (index < dir.block_count) {
    std::uint64_t len = kBlockSize;
    if (dir.layout == format::kLayoutFlatPlain && index + 1 == dir.block_count &&
        dir.size % kBlockSize != 0) {
      len = dir.size % kBlockSize;
    }
    return bytes_.subspan((dir.i_u + index) * kBlockSize, len);
  }
  return bytes_.subspan(dir.tail_offset, dir.tail_size);
}

void Image::for_each_dirent(const Inode& dir, const DirVisitor& visit) const {
  for_each_dirent_from(dir, {}, [&](const DirEntryView& e, DirPosition) { return visit(e); });
}

void Image::for_each_dirent_from(const Inode& dir, DirPosition from, const DirResumeVisitor& visit) const {
  if (dir.type() != S_IFDIR) throw Error(ENOTDIR, "not a directory");
  std::string last;
  bool have_last = false;
  for (std::uint64_t b = from.block; b < dir_block_count(dir); ++b) {
    auto entries = parse_dir_block(block_of_dir(dir, b), dir.nid);
    if (have_last && !(last < entries.front().name)) corrupt("directory names out of order", dir.nid);
    for (std::uint64_t i = b == from.block ? from.index : 0; i < entries.size(); ++i) {
      if (!visit(entries[i], DirPosition{b, i + 1})) return;
    }
    last = entries.back().name;
    have_last = true;
  }
}

std::optional<DirEntryView> Image::lookup(const Inode& dir, std::string_view name) const {
  if (dir.type() != S_IFDIR) throw Error(ENOTDIR, "not a directory");
  // Blocks are sorted: find the last block whose first name is <= name, then search it.
  std::uint64_t lo = 0, hi = dir_block_count(dir);
  std::vector<DirEntryView> found;
  while (lo < hi) {
    std::uint64_t mid = lo + (hi - lo) / 2;
    auto entries = parse_dir_block(block_of_dir(dir, mid), dir.nid);
    if (entries.front().name <= name) {
      found = std::move(entries);
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  auto it = std::lower_bound(found.begin(), found.end(), name,
                             [](const DirEntryView& e, std::string_view n) { return e.name < n; });
  if (it == found.end() || it->name != name) return std::nullopt;
  return *it;
}

std::string Image::read_symlink(const Inode& link) const {
  if (link.type() != S_IFLNK) throw Error(EINVAL, "not a symlink");
  if (link.size == 0 || link.size > kMaxSymlink) corrupt("bad symlink size", link.nid);
  std::string target(link.size, '\0');
  if (read_data(link, 0, std::as_writable_bytes(std::span(target))) != link.size) {
    corrupt("short symlink", link.nid);
  }
  if (target.find('\0') != std::string::npos) corrupt("NUL in symlink target", link.nid);
  return target;
}

std::size_t Image::read_data(const Inode& file, std::uint64_t offset,
                             std::span<std::byte> out) const {
  if (file.type() != S_IFREG && file.type() != S_IFLNK) throw Error(EINVAL, "no data");
  if (file.layout == format::kLayoutChunkBased) throw Error(ENXIO, "data is not in the image");
  std::size_t done = 0;
  std::uint64_t block_bytes = file.size - file.tail_size;
  while (done < out.size() && offset < file.size) {
    std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(out.size() - done, file.size - offset));
    const std::byte* src;
    if (offset < block_bytes) {
      want = static_cast<std::size_t>(std::min<std::uint64_t>(want, block_bytes - offset));
      src = bytes_.data() + static_cast<std::uint64_t>(file.i_u) * kBlockSize + offset;
    } else {
      src = bytes_.data() + file.tail_offset + (offset - block_bytes);
    }
    std::memcpy(out.data() + done, src, want);
    done += want;
    offset += want;
  }
  return done;
}

}  // namespace cfs::reader
