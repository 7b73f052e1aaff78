// Image: a checked, read-only view of a composefs image held in memory (usually a mmap).
// Layer: reader. The one reader used by composefs-info, composefs-dump, mount and FUSE.
// Ownership: borrows its bytes; the MappedFile (or buffer) must outlive the Image.
// Thread-safety: all methods are const and keep no state; share freely between threads.
// Every offset, count and length read from the image is checked before use (docs/format.md §9);
// a corrupt image raises Error(EUCLEAN) (magic/version problems: EINVAL/ENOTSUP as upstream).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace cfs::reader {

struct Inode {
  std::uint64_t nid = 0;
  std::uint32_t mode = 0;
  std::uint32_t nlink = 0;
  std::uint64_t size = 0;
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
  std::int64_t mtime_sec = 0;
  std::uint32_t mtime_nsec = 0;
  std::uint32_t i_u = 0;  // rdev for devices, block address or chunk format otherwise
  std::uint32_t ino = 0;
  unsigned layout = 0;
  bool extended = false;
  std::uint64_t xattr_offset = 0;  // absolute offset of the xattr body
  std::uint32_t xattr_size = 0;    // 0 if none
  std::uint64_t tail_offset = 0;   // absolute offset right after the xattr body
  std::uint32_t tail_size = 0;     // FLAT_INLINE tail bytes (0 otherwise)
  std::uint64_t block_count = 0;   // FLAT_* data blocks at i_u

  std::uint32_t type() const noexcept { return mode & 0170000; }
  std::uint32_t rdev() const noexcept;
};

struct DirEntryView {
  std::string_view name;
  std::uint64_t nid;
  std::uint8_t file_type;
};

// A place among a directory's entries (its index in a directory block), to go on from later.
// As one number, a readdir offset: block * kPerBlock + index, 0 the start.
struct DirPosition {
  static constexpr std::uint64_t kPerBlock = 1024;  // more than a 4K block's 12-byte entries
  std::uint64_t block = 0;
  std::uint64_t index = 0;

  std::uint64_t cookie() const noexcept { return block * kPerBlock + index; }
  static DirPosition of_cookie(std::uint64_t c) noexcept { return {c / kPerBlock, c % kPerBlock}; }
};

class Image {
 public:
  static Image open(std::span<const std::byte> bytes);

  std::uint32_t composefs_version() const noexcept { return composefs_version_; }
  std::uint32_t header_flags() const noexcept { return flags_; }
  std::uint64_t root_nid() const noexcept { return root_nid_; }
  std::int64_t build_time_sec() const noexcept { return build_time_sec_; }
  std::uint32_t build_time_nsec() const noexcept { return build_time_nsec_; }
  std::uint64_t inode_count() const noexcept { return inos_; }
  std::span<const std::byte> bytes() const noexcept { return bytes_; }

  Inode inode(std::uint64_t nid) const;

  // Inline entries first, then shared ones, each in stored order. The callback gets the full
  // name (prefix included) and the value; return false to stop.
  using XattrVisitor = std::function<bool(std::string_view name, std::string_view value)>;
  void for_each_xattr(const Inode& in, const XattrVisitor& visit) const;
  std::optional<std::string> get_xattr(const Inode& in, std::string_view name) const;

  // Entries of a directory in stored (sorted) order, "." and ".." included; return false to
  // stop. Checks each block's structure and the ordering of names.
  using DirVisitor = std::function<bool(const DirEntryView&)>;
  void for_each_dirent(const Inode& dir, const DirVisitor& visit) const;
  // The same from `from` on; the callback also gets the position after the entry.
  using DirResumeVisitor = std::function<bool(const DirEntryView&, DirPosition next)>;
  void for_each_dirent_from(const Inode& dir, DirPosition from, const DirResumeVisitor& visit) const;
  // Binary search as the kernel does; nullopt if absent.
  std::optional<DirEntryView> lookup(const Inode& dir, std::string_view name) const;

  std::string read_symlink(const Inode& link) const;
  // Copies up to out.size() bytes of a FLAT_* file's data from `offset`; returns bytes copied.
  std::size_t read_data(const Inode& file, std::uint64_t offset, std::span<std::byte> out) const;

 private:
  explicit Image(std::span<const std::byte> bytes) : bytes_(bytes) {}
  std::span<const std::byte> block_of_dir(const Inode& dir, std::uint64_t index) const;
  std::uint64_t dir_block_count(const Inode& dir) const;

  std::span<const std::byte> bytes_;
  std::uint32_t composefs_version_ = 0;
  std::uint32_t flags_ = 0;
  std::uint64_t root_nid_ = 0;
  std::uint64_t meta_offset_ = 0;
  std::uint64_t xattr_offset_ = 0;
  std::int64_t build_time_sec_ = 0;
  std::uint32_t build_time_nsec_ = 0;
  std::uint64_t inos_ = 0;
};

}  // namespace cfs::reader
