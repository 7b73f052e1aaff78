// docs/format.md §4: data representation per inode, compact/extended, nids, blocks.
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
        std::uint32_t bits = chunk_bits(in.size);
        std::uint64_t chunks = ((in.size - 1) >> bits) + 1;
        in.tail = static_cast<std::uint32_t>(4 * chunks);
        in.chunk_format = bits - format::kBlockBits;
        in.layout = format::kLayoutChunkBased;
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
  return n.mtime_sec != plan.min_mtime_sec || n.mtime_nsec != plan.min_mtime_nsec ||
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
  std::uint32_t next_child = in.first_child;
  for (const tree::Node* c : kids) {
    add_dots_before(c->name);
    std::uint32_t target = c->is_alias() ? plan.alias_targets.at(c->resolve()) : next_child++;
    out.push_back({c->name, target});
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
    place_tail(in, pos, isize);
    in.nid = pos / format::kSlotSize;
    pos += isize + in.xsize + in.tail;
  }
  plan.inodes_end = format::round_up(pos, format::kSlotSize);
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
