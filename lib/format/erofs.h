// On-disk structures and constants of a composefs image: the 32-byte composefs header and the
// EROFS superblock, inodes, xattr entries and dirents it carries. Layer: format (no I/O).
// Field names keep the kernel's spelling. All structs are byte arrays of Le<T> (alignof 1).
#pragma once

#include <array>
#include <cstdint>

#include "base/le.h"

namespace cfs::format {

inline constexpr std::uint32_t kBlockSize = 4096;
inline constexpr unsigned kBlockBits = 12;
inline constexpr std::uint32_t kSlotSize = 32;

inline constexpr std::uint32_t kComposefsMagic = 0xD078629A;
inline constexpr std::uint32_t kComposefsHeaderVersion = 1;
inline constexpr std::uint32_t kComposefsFlagHasAcl = 1;
inline constexpr std::uint32_t kMaxFormatVersion = 1;

inline constexpr std::uint32_t kErofsMagic = 0xE0F5E1E2;
inline constexpr std::uint64_t kSuperblockOffset = 1024;
inline constexpr std::uint32_t kFeatureCompatSbChksum = 0x1;
inline constexpr std::uint32_t kFeatureCompatMtime = 0x2;
inline constexpr std::uint32_t kFeatureCompatXattrFilter = 0x4;
inline constexpr std::uint32_t kFeatureIncompatChunkedFile = 0x4;

// Inode data layouts (i_format >> 1).
inline constexpr unsigned kLayoutFlatPlain = 0;
inline constexpr unsigned kLayoutFlatInline = 2;
inline constexpr unsigned kLayoutChunkBased = 4;
inline constexpr std::uint32_t kNullBlockAddr = 0xFFFFFFFF;
inline constexpr unsigned kChunkFormatBlkbitsMask = 0x1F;
inline constexpr unsigned kChunkFormatIndexes = 0x20;

inline constexpr std::uint32_t kXattrFilterSeed = 0x25BBE08F;

// File types as stored in dirents.
enum FileType : std::uint8_t {
  kFtUnknown = 0,
  kFtRegular = 1,
  kFtDirectory = 2,
  kFtCharDevice = 3,
  kFtBlockDevice = 4,
  kFtFifo = 5,
  kFtSocket = 6,
  kFtSymlink = 7,
};

struct ComposefsHeader {
  le32 magic;
  le32 version;
  le32 flags;
  le32 composefs_version;
  std::array<le32, 4> unused;
};
static_assert(sizeof(ComposefsHeader) == 32 && alignof(ComposefsHeader) == 1);

struct ErofsSuperblock {
  le32 magic;
  le32 checksum;
  le32 feature_compat;
  std::uint8_t blkszbits;
  std::uint8_t sb_extslots;
  le16 root_nid;
  le64 inos;
  le64 build_time;
  le32 build_time_nsec;
  le32 blocks;
  le32 meta_blkaddr;
  le32 xattr_blkaddr;
  std::array<std::uint8_t, 16> uuid;
  std::array<std::uint8_t, 16> volume_name;
  le32 feature_incompat;
  le16 available_compr_algs;
  le16 extra_devices;
  le16 devt_slotoff;
  std::uint8_t dirblkbits;
  std::uint8_t xattr_prefix_count;
  le32 xattr_prefix_start;
  le64 packed_nid;
  std::uint8_t xattr_filter_reserved;
  std::array<std::uint8_t, 23> reserved;
};
static_assert(sizeof(ErofsSuperblock) == 128 && alignof(ErofsSuperblock) == 1);

struct ErofsInodeCompact {
  le16 i_format;
  le16 i_xattr_icount;
  le16 i_mode;
  le16 i_nlink;
  le32 i_size;
  le32 i_reserved;
  le32 i_u;
  le32 i_ino;
  le16 i_uid;
  le16 i_gid;
  le32 i_reserved2;
};
static_assert(sizeof(ErofsInodeCompact) == 32 && alignof(ErofsInodeCompact) == 1);

struct ErofsInodeExtended {
  le16 i_format;
  le16 i_xattr_icount;
  le16 i_mode;
  le16 i_reserved;
  le64 i_size;
  le32 i_u;
  le32 i_ino;
  le32 i_uid;
  le32 i_gid;
  le64 i_mtime;
  le32 i_mtime_nsec;
  le32 i_nlink;
  std::array<std::uint8_t, 16> i_reserved2;
};
static_assert(sizeof(ErofsInodeExtended) == 64 && alignof(ErofsInodeExtended) == 1);

struct ErofsXattrIbodyHeader {
  le32 h_name_filter;
  std::uint8_t h_shared_count;
  std::array<std::uint8_t, 7> h_reserved2;
};
static_assert(sizeof(ErofsXattrIbodyHeader) == 12);

struct ErofsXattrEntry {
  std::uint8_t e_name_len;
  std::uint8_t e_name_index;
  le16 e_value_size;
};
static_assert(sizeof(ErofsXattrEntry) == 4);

struct ErofsDirent {
  le64 nid;
  le16 nameoff;
  std::uint8_t file_type;
  std::uint8_t reserved;
};
static_assert(sizeof(ErofsDirent) == 12);

// The composefs metacopy xattr value with a digest: version 0, length 36, flags 0, SHA-256.
inline constexpr std::array<std::uint8_t, 4> kMetacopyDigestHeader = {0, 36, 0, 1};
inline constexpr std::size_t kMetacopyDigestSize = 36;
// The same record for a SHA-512 digest (composefs-rs repositories): length 68, algorithm 2.
inline constexpr std::array<std::uint8_t, 4> kMetacopySha512Header = {0, 68, 0, 2};
inline constexpr std::size_t kMetacopySha512Size = 68;

constexpr std::uint64_t round_up(std::uint64_t v, std::uint64_t a) { return (v + a - 1) / a * a; }

// Dirent file type for a st_mode.
FileType file_type_of_mode(std::uint32_t mode);

}  // namespace cfs::format
