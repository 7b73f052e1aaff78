// image-format.md §5: which (name, value) pairs go to the shared table, and in which order.
#include <algorithm>
#include <string>
#include <vector>

#include "format/erofs.h"
#include "format/xattr_name.h"
#include "writer/plan.h"

namespace cfs::writer {
namespace {

struct XattrUse {
  const tree::Xattr* x;
  std::uint32_t inode;
  std::uint32_t index;  // within the inode's sorted xattrs
};

// Ascending (name, value length, value): equal pairs become neighbours, and the shared table's
// order (all three descending, image-format.md §5) is exactly the reverse.
bool ascending(const XattrUse& a, const XattrUse& b) {
  if (int c = a.x->name.compare(b.x->name); c != 0) return c < 0;
  if (a.x->value.size() != b.x->value.size()) return a.x->value.size() < b.x->value.size();
  return a.x->value < b.x->value;
}

bool same_pair(const XattrUse& a, const XattrUse& b) {
  return a.x->name == b.x->name && a.x->value == b.x->value;
}

}  // namespace

std::uint32_t xattr_entry_size(const tree::Xattr& x) {
  auto key = format::split_xattr_name(x.name);
  return static_cast<std::uint32_t>(format::round_up(4 + key.suffix.size() + x.value.size(), 4));
}

void choose_shared_xattrs(Plan& plan) {
  std::vector<XattrUse> uses;
  for (std::uint32_t i = 0; i < plan.inodes.size(); ++i) {
    const auto& xs = plan.inodes[i].xattrs;
    for (std::uint32_t j = 0; j < xs.size(); ++j) uses.push_back({&xs[j], i, j});
  }
  std::sort(uses.begin(), uses.end(), ascending);

  // Runs of equal pairs used by two or more inodes are shared; number them from the end.
  constexpr std::uint32_t kNotShared = UINT32_MAX;
  std::vector<std::uint32_t> run_shared;  // per shared run in ascending order: its first use
  for (std::size_t a = 0, b; a < uses.size(); a = b) {
    for (b = a + 1; b < uses.size() && same_pair(uses[a], uses[b]);) ++b;
    if (b - a >= 2) run_shared.push_back(static_cast<std::uint32_t>(a));
  }
  auto count = static_cast<std::uint32_t>(run_shared.size());
  for (std::uint32_t k = count; k-- > 0;) {
    const tree::Xattr* x = uses[run_shared[k]].x;
    plan.shared.push_back(x);
    plan.shared_offsets.push_back(plan.shared_size);
    plan.shared_size += xattr_entry_size(*x);
  }
  for (Inode& in : plan.inodes) in.shared_index.assign(in.xattrs.size(), kNotShared);
  for (std::uint32_t k = 0; k < count; ++k) {
    std::size_t a = run_shared[k];
    for (std::size_t b = a; b < uses.size() && same_pair(uses[a], uses[b]); ++b) {
      plan.inodes[uses[b].inode].shared_index[uses[b].index] = count - 1 - k;
    }
  }

  for (Inode& in : plan.inodes) {
    if (in.xattrs.empty()) continue;
    std::uint32_t xsize = 12;
    for (std::uint32_t i = 0; i < in.xattrs.size(); ++i) {
      std::uint32_t shared = in.shared_index[i];
      if (shared != kNotShared && in.shared_refs.size() < format::kMaxSharedXattrRefs) {
        in.shared_refs.push_back(shared);
        xsize += 4;
      } else {
        in.inline_xattrs.push_back(i);
        xsize += xattr_entry_size(in.xattrs[i]);
      }
    }
    in.shared_index.clear();
    in.shared_index.shrink_to_fit();
    in.xsize = xsize;
  }
}

}  // namespace cfs::writer
