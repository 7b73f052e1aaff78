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
  XattrView* x;
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

std::uint32_t xattr_entry_size(const XattrView& x) {
  auto key = format::split_xattr_name(x.name);
  return static_cast<std::uint32_t>(format::round_up(4 + key.suffix.size() + x.value.size(), 4));
}

void choose_shared_xattrs(Plan& plan) {
  std::vector<XattrUse> uses;
  for (std::uint32_t i = 0; i < plan.inodes.size(); ++i) {
    auto& xs = plan.inodes[i].xattrs;
    for (std::uint32_t j = 0; j < xs.size(); ++j) uses.push_back({&xs[j], i, j});
  }
  std::sort(uses.begin(), uses.end(), ascending);

  // Runs of equal pairs used by two or more inodes are shared; number them from the end.
  std::vector<std::uint32_t> run_starts;  // shared runs, ascending
  for (std::size_t a = 0, b; a < uses.size(); a = b) {
    for (b = a + 1; b < uses.size() && same_pair(uses[a], uses[b]);) ++b;
    if (b - a >= 2) run_starts.push_back(static_cast<std::uint32_t>(a));
  }
  auto count = static_cast<std::uint32_t>(run_starts.size());
  for (std::uint32_t k = count; k-- > 0;) {
    const XattrView* x = uses[run_starts[k]].x;
    plan.shared.push_back(x);
    plan.shared_offsets.push_back(plan.shared_size);
    plan.shared_size += xattr_entry_size(*x);
  }
  for (std::uint32_t k = 0; k < count; ++k) {
    for (std::size_t b = run_starts[k]; b < uses.size() && same_pair(uses[run_starts[k]], uses[b]); ++b) {
      uses[b].x->shared = count - 1 - k;
    }
  }

  // Per inode, in name order: references while fewer than 128 were made, inline after that.
  for (Inode& in : plan.inodes) {
    if (in.xattrs.empty()) continue;
    std::uint32_t xsize = 12;
    for (XattrView& x : in.xattrs) {
      if (x.shared != kNotShared && in.shared_refs < format::kMaxSharedXattrRefs) {
        ++in.shared_refs;
        xsize += 4;
      } else {
        x.shared = kNotShared;
        xsize += xattr_entry_size(x);
      }
    }
    in.xsize = xsize;
  }
}

}  // namespace cfs::writer
