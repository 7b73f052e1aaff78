// image-format.md §5: which (name, value) pairs go to the shared table, and in which order.
#include <algorithm>
#include <array>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "format/erofs.h"
#include "format/xattr_name.h"
#include "writer/plan.h"

namespace cfs::writer {
namespace {

struct XattrUse {  // 12 bytes: there is one per xattr of the image
  std::uint32_t name_id;  // equal names, equal ids
  std::uint32_t value_hash;
  std::uint32_t index;  // into Plan::xattrs
};

bool same_key(const XattrUse& a, const XattrUse& b) {
  return a.name_id == b.name_id && a.value_hash == b.value_hash;
}

// The shared table's order (image-format.md §5): name, value length and value, all descending.
bool table_order(const XattrView* a, const XattrView* b) {
  if (a->name() != b->name()) return a->name() > b->name();
  if (value_size(*a) != value_size(*b)) return value_size(*a) > value_size(*b);
  return compare_values(*a, *b) > 0;
}

}  // namespace

std::uint32_t xattr_entry_size(const XattrView& x) {
  auto key = format::split_xattr_name(x.name());
  return static_cast<std::uint32_t>(format::round_up(4 + key.suffix.size() + value_size(x), 4));
}

void choose_shared_xattrs(Plan& plan) {
  std::unordered_map<std::string_view, std::uint32_t> name_ids;
  // Most names are the writer's constants (one address each): the same address and length
  // are the same name, which spares the hash lookup.
  struct Recent {
    const char* data = nullptr;
    std::size_t size = 0;
    std::uint32_t id = 0;
  };
  std::array<Recent, 4> recent{};
  auto name_id = [&](std::string_view name) {
    for (const Recent& r : recent) {
      if (r.data == name.data() && r.size == name.size() && r.data != nullptr) return r.id;
    }
    auto id = name_ids.try_emplace(name, static_cast<std::uint32_t>(name_ids.size())).first->second;
    std::rotate(recent.begin(), recent.end() - 1, recent.end());
    recent[0] = {name.data(), name.size(), id};
    return id;
  };
  std::size_t n_uses = 0;
  for (const Inode& in : plan.inodes) n_uses += in.xattr_count;
  LargeVector<XattrUse> uses;
  uses.reserve(n_uses);
  for (const Inode& in : plan.inodes) {
    for (std::uint32_t i = in.xattr_begin; i < in.xattr_begin + in.xattr_count; ++i) {
      const XattrView& x = plan.xattrs[i];
      // Same name, same prefix: hashing the part after it is enough.
      auto hash = static_cast<std::uint32_t>(std::hash<std::string_view>{}(x.value()));
      uses.push_back({name_id(x.name()), hash, i});
    }
  }
  // Equal pairs have equal keys: sorting integers only puts them next to each other.
  std::sort(uses.begin(), uses.end(), [](const XattrUse& a, const XattrUse& b) {
    return a.name_id != b.name_id ? a.name_id < b.name_id : a.value_hash < b.value_hash;
  });

  // Pairs used by two or more inodes are shared. A run of equal keys may (rarely) mix values
  // whose hashes collide: sorted by value, the equal ones become neighbours.
  auto value_less = [&](const XattrUse& a, const XattrUse& b) {
    return compare_values(plan.xattrs[a.index], plan.xattrs[b.index]) < 0;
  };
  auto same_value = [&](const XattrUse& a, const XattrUse& b) {
    return compare_values(plan.xattrs[a.index], plan.xattrs[b.index]) == 0;
  };
  std::vector<std::pair<std::size_t, std::size_t>> runs;  // [begin, end) in `uses`
  for (std::size_t a = 0, b; a < uses.size(); a = b) {
    for (b = a + 1; b < uses.size() && same_key(uses[a], uses[b]);) ++b;
    if (b - a < 2) continue;
    auto first = uses.begin() + static_cast<std::ptrdiff_t>(a), last = uses.begin() + static_cast<std::ptrdiff_t>(b);
    if (!std::all_of(first + 1, last, [&](const XattrUse& u) { return same_value(*first, u); })) {
      std::sort(first, last, value_less);
    }
    for (std::size_t c = a, d; c < b; c = d) {
      for (d = c + 1; d < b && same_value(uses[c], uses[d]);) ++d;
      if (d - c >= 2) runs.emplace_back(c, d);
    }
  }
  std::sort(runs.begin(), runs.end(), [&](const auto& r1, const auto& r2) {
    return table_order(&plan.xattrs[uses[r1.first].index], &plan.xattrs[uses[r2.first].index]);
  });
  for (std::uint32_t k = 0; k < runs.size(); ++k) {
    const XattrView* x = &plan.xattrs[uses[runs[k].first].index];
    plan.shared.push_back(x);
    plan.shared_offsets.push_back(plan.shared_size);
    plan.shared_size += xattr_entry_size(*x);
    for (std::size_t i = runs[k].first; i < runs[k].second; ++i) plan.xattrs[uses[i].index].set_shared(k);
  }

  // Per inode, in name order: references while fewer than 128 were made, inline after that.
  for (Inode& in : plan.inodes) {
    if (in.xattr_count == 0) continue;
    std::uint32_t xsize = 12;
    for (XattrView& x : plan.xattrs_of(in)) {
      if (x.shared() != kNotShared && in.shared_refs < format::kMaxSharedXattrRefs) {
        ++in.shared_refs;
        xsize += 4;
      } else {
        x.set_shared(kNotShared);
        xsize += xattr_entry_size(x);
      }
    }
    in.xsize = xsize;
  }
}

}  // namespace cfs::writer
