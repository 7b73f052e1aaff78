// docs/format.md §4: data representation per inode, compact/extended, nids, blocks (with
// format V2's differences, format/rules.h).
#include <sys/stat.h>

#include <algorithm>
#include <bit>

#include "base/error.h"
#include "format/erofs.h"
#include "writer/plan.h"

namespace cfs::writer {
namespace {

using format::kBlockSize;

constexpr std::uint32_t kDirentSize = 12;

// format.md §6: greedy grouping of dirents into blocks; the last group is the tail unless > B/2.
void lay_out_dir(const Plan& plan, std::uint32_t index, Inode& in) {
  std::uint32_t used = 0;
  for (const DirEntry& e : dir_entries(plan, index)) {
    std::uint32_t cost = kDirentSize + static_cast<std::uint32_t>(e.name.size());
    if (used + cost > kBlockSize) {
      ++in.n_blocks;
      used = 0;
    }
    used += cost;
  }
  if (used > kBlockSize / 2) {
    ++in.n_blocks;
    used = 0;
  }
  in.tail = used;
  in.size = static_cast<std::uint64_t>(in.n_blocks) * kBlockSize + in.tail;
}

void lay_out_data(const Plan& plan, std::uint32_t index, Inode& in) {
  const tree::Node& n = *in.node;
  switch (in.mode & S_IFMT) {
    case S_IFDIR:
      lay_out_dir(plan, index, in);
      in.layout = in.tail > 0 ? format::kLayoutFlatInline : format::kLayoutFlatPlain;
      break;
    case S_IFLNK:
      in.tail = static_cast<std::uint32_t>(n.payload.size());
      in.size = n.payload.size();
      in.layout = format::kLayoutFlatInline;
      break;
    case S_IFREG:
      if (in.external) {
        // V2: one chunk of the largest size, its index only where a digest names the data.
        std::uint32_t bits = plan.rules.chunk_bits_from_size
                                 ? chunk_bits(in.size)
                                 : format::kBlockBits + format::kChunkFormatBlkbitsMask;
        std::uint64_t chunks = ((in.size - 1) >> bits) + 1;
        bool indexed = !plan.rules.chunk_index_needs_digest || n.digest;
        in.tail = indexed ? static_cast<std::uint32_t>(4 * chunks) : 0;
        in.chunk_format = static_cast<std::uint16_t>(bits - format::kBlockBits);
        in.layout = format::kLayoutChunkBased;
      } else if (in.size > 0 && !plan.rules.blocks_for_inline_data) {
        in.tail = static_cast<std::uint32_t>(in.size);  // at most max_inline_file
        in.layout = format::kLayoutFlatInline;
      } else if (in.size > 0) {
        in.n_blocks = static_cast<std::uint32_t>(in.size / kBlockSize);
        in.tail = static_cast<std::uint32_t>(in.size % kBlockSize);
        if (in.tail > kBlockSize / 2) {
          ++in.n_blocks;
          in.tail = 0;
        }
        in.layout = in.tail > 0 ? format::kLayoutFlatInline : format::kLayoutFlatPlain;
      }
      break;
    default:
      break;  // devices, fifos, sockets: no data
  }
}

// format.md §4: compact unless some field needs the extended form.
bool needs_extended(const Plan& plan, const Inode& in) {
  const tree::Node& n = *in.node;
  return !plan.rules.compact_inodes || n.mtime_sec != plan.min_mtime_sec || n.mtime_nsec != plan.min_mtime_nsec ||
         in.nlink > 0xFFFF || n.uid > 0xFFFF || n.gid > 0xFFFF || in.size > 0xFFFFFFFFULL;
}

// format.md §4, placement: keep inline tails within one block, padding or moving the tail out.
void place_tail(Inode& in, std::uint64_t& pos, std::uint32_t isize) {
  if ((in.mode & S_IFMT) == S_IFLNK) {
    std::uint64_t total = isize + in.xsize + in.tail;
    if (total >= kBlockSize) {
      in.n_blocks = 1;
      in.tail = 0;
      in.layout = format::kLayoutFlatPlain;
    }
    // Upstream uses the size before the move-out here (docs/format.md §8 item 4).
    if (pos / kBlockSize != (pos + total - 1) / kBlockSize) pos = format::round_up(pos, kBlockSize);
    return;
  }
  if (in.tail == 0) return;
  std::uint64_t rem = kBlockSize - (pos + isize + in.xsize) % kBlockSize;
  if (rem >= in.tail) return;
  std::uint64_t pad = format::round_up(rem, 32);
  std::uint64_t rem2 = kBlockSize - (pos + isize + in.xsize + pad) % kBlockSize;
  if (in.tail <= rem2) {
    pos += pad;
    return;
  }
  ++in.n_blocks;
  in.tail = 0;
  if ((in.mode & S_IFMT) != S_IFREG || !in.external) {
    in.layout = format::kLayoutFlatPlain;
  }
  pos = format::round_up(pos, kBlockSize);
}

// V2 (composefs-rs): an inline tail whose end is not in the block of the metadata's last
// byte moves the inode on by that byte's distance to its block's end, then to a slot.
void place_tail_v2(const Inode& in, std::uint64_t& pos, std::uint32_t isize) {
  if (in.layout != format::kLayoutFlatInline) return;
  std::uint64_t start = pos + isize + in.xsize;
  if ((start - 1) / kBlockSize != (start + in.tail) / kBlockSize) {
    pos = format::round_up(pos + kBlockSize - (start - 1) % kBlockSize, format::kSlotSize);
  }
}

}  // namespace

std::vector<DirEntry> dir_entries(const Plan& plan, std::uint32_t dir) {
  const Inode& in = plan.inodes[dir];
  const auto& kids = plan.children_of(dir);
  std::vector<DirEntry> out;
  out.reserve(kids.size() + 2);
  int dots = 0;  // how many of "." and ".." are in (names between them are possible: ".-")
  auto add_dots_before = [&](std::string_view name) {
    if (dots == 0 && name > ".") {
      out.push_back({".", dir});
      dots = 1;
    }
    if (dots == 1 && name > "..") {
      out.push_back({"..", in.parent});
      dots = 2;
    }
  };
  for (std::size_t k = 0; k < kids.size(); ++k) {
    add_dots_before(kids[k]->name);
    out.push_back({kids[k]->name, plan.entry_inodes[in.first_entry + k]});
  }
  add_dots_before("\xff\xff");  // after every name
  return out;
}

void lay_out(Plan& plan) {
  std::uint64_t pos = format::kSuperblockOffset + sizeof(format::ErofsSuperblock);
  for (std::uint32_t i = 0; i < plan.inodes.size(); ++i) {
    Inode& in = plan.inodes[i];
    lay_out_data(plan, i, in);
    in.extended = needs_extended(plan, in);
    std::uint32_t isize = in.extended ? 64 : 32;
    if (in.xsize > 0 && (in.xsize - 12) / 4 + 1 > 0xFFFF) throw Error(EINVAL, "too many xattrs");
    pos = format::round_up(pos, format::kSlotSize);
    if (plan.rules.slot_padding_for_tail) {
      place_tail(in, pos, isize);
    } else {
      place_tail_v2(in, pos, isize);
    }
    in.nid = pos / format::kSlotSize;
    pos += isize + in.xsize + in.tail;
  }
  plan.inodes_end = format::round_up(pos, format::kSlotSize);
  plan.xattr_blkaddr = plan.rules.xattr_blkaddr ? static_cast<std::uint32_t>(plan.inodes_end / kBlockSize) : 0;
  plan.data_start = format::round_up(plan.inodes_end + plan.shared_size, kBlockSize);
  std::uint64_t block = plan.data_start / kBlockSize;
  for (Inode& in : plan.inodes) {
    if (in.n_blocks == 0) continue;
    if (block + in.n_blocks > UINT32_MAX) throw Error(EFBIG, "image too large");
    in.blkaddr = static_cast<std::uint32_t>(block);
    block += in.n_blocks;
  }
  plan.n_data_blocks = static_cast<std::uint32_t>(block - plan.data_start / kBlockSize);
}

}  // namespace cfs::writer
