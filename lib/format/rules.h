// The layout rules that differ between image format versions, in one table: versions 0 and 1
// (upstream C mkcomposefs 1.0.x, docs/format.md) and version 2 (composefs-rs's legacy layout,
// header composefs_version 2; ../shared/spec/boot.md §3.7). The writer and the reader ask
// here instead of testing version numbers. Layer: format (pure).
#pragma once

#include <cstddef>
#include <cstdint>

#include "format/composefs.h"

namespace cfs::format {

inline constexpr std::uint32_t kFormatV2 = 2;  // composefs-rs's legacy format

// Order of the shared xattr table.
enum class SharedOrder : std::uint8_t {
  kDescendingName,        // upstream: full name, then value length, then value, descending
  kAscendingIndexSuffix,  // V2: (e_name_index, suffix, value bytes), ascending
};

struct FormatRules {
  std::uint32_t composefs_version;  // the header field (upstream: 0 or 1, chosen per tree)
  bool depth_first;                 // inode order: pre-order DFS (V2) or BFS (upstream)
  bool compact_inodes;              // 32-byte inodes where the fields fit (else always 64)
  bool build_time_is_min_mtime;     // superblock build_time = the minimum mtime (else 0)
  bool stores_mtime_nsec;           // extended inodes keep nanoseconds (V2 writes 0)
  bool ino_is_nid;                  // i_ino = nid (V2) or the inode's index in the order
  bool root_whiteouts;              // the 256 char-device whiteouts 00..ff in the root
  // A whiteout is stored as a marked regular file and the root gets
  // trusted.overlay.opaque=y (V2 stores whiteouts as they are).
  bool escaped_whiteouts;
  bool xattr_budget;  // upstream's per-node xattr size budget
  // An inode's xattrs in name order (V2: the overlay ones first, then the tree's by their
  // unescaped names).
  bool sorted_inode_xattrs;
  bool lustre_prefix;  // "lustre." stored with e_name_index 5 (upstream: index 0)
  bool acl_flag;       // header flag kComposefsFlagHasAcl when ACL xattrs occur
  bool xattr_blkaddr;  // shared refs count from xattr_blkaddr's block (V2: from 0)
  SharedOrder shared_order;
  std::size_t max_shared_refs;  // per inode; upstream stores the rest inline
  bool blocks_for_inline_data;  // file data and symlinks over the tail limit go to blocks
  // Bytes of file data the format stores in the image (V2's writer refuses more: it has no
  // data blocks).
  std::size_t max_inline_file;
  bool chunk_bits_from_size;      // external files: chunks sized to the file (else one 2^43)
  bool chunk_index_needs_digest;  // V2 stores the chunk index only for files with a digest
  bool slot_padding_for_tail;     // upstream's tail padding (docs/format.md §4); else V2's own
  bool leaf_nlink_from_names;     // nlink of a non-directory = its names in the tree (V2)
  // An external file with a digest and no payload is redirected to the digest's object path
  // (V2; upstream: no redirect).
  bool redirect_from_digest;
};

inline constexpr FormatRules kUpstreamRules{
    .composefs_version = 0,
    .depth_first = false,
    .compact_inodes = true,
    .build_time_is_min_mtime = true,
    .stores_mtime_nsec = true,
    .ino_is_nid = false,
    .root_whiteouts = true,
    .escaped_whiteouts = true,
    .xattr_budget = true,
    .sorted_inode_xattrs = true,
    .lustre_prefix = false,
    .acl_flag = true,
    .xattr_blkaddr = true,
    .shared_order = SharedOrder::kDescendingName,
    .max_shared_refs = 128,
    .blocks_for_inline_data = true,
    .max_inline_file = kMaxInlineContent,
    .chunk_bits_from_size = true,
    .chunk_index_needs_digest = false,
    .slot_padding_for_tail = true,
    .leaf_nlink_from_names = false,
    .redirect_from_digest = false,
};

inline constexpr FormatRules kV2Rules{
    .composefs_version = kFormatV2,
    .depth_first = true,
    .compact_inodes = false,
    .build_time_is_min_mtime = false,
    .stores_mtime_nsec = false,
    .ino_is_nid = true,
    .root_whiteouts = false,
    .escaped_whiteouts = false,
    .xattr_budget = false,
    .sorted_inode_xattrs = false,
    .lustre_prefix = true,
    .acl_flag = false,
    .xattr_blkaddr = false,
    .shared_order = SharedOrder::kAscendingIndexSuffix,
    .max_shared_refs = 255,  // h_shared_count is one byte; V2 has no cap below it
    .blocks_for_inline_data = false,
    .max_inline_file = 512,  // composefs-rs's MAX_INLINE_CONTENT; V2 has no data blocks
    .chunk_bits_from_size = false,
    .chunk_index_needs_digest = true,
    .slot_padding_for_tail = false,
    .leaf_nlink_from_names = true,
    .redirect_from_digest = true,
};

// The rules an image was written by, from its header's composefs_version: V2's for 2,
// upstream's for anything else (upstream's reader does not check the field either).
const FormatRules& rules_for_image(std::uint32_t composefs_version);

}  // namespace cfs::format
