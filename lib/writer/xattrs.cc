// docs/format.md §5: which (name, value) pairs go to the shared table, and in which order
// (format V2: every pair used twice, ascending by (e_name_index, suffix, value)).
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

// A shared pair's place in the table (docs/format.md §5): name, value length and value, all
// descending. Integers first (the name's rank, the value's size and first 8 bytes), the
// value's bytes only on a tie.
struct SharedRun {
  std::uint32_t name_rank;  // ascending name order
  std::uint32_t value_size;
  std::uint64_t value_head;  // the stored value's first 8 bytes, big-endian, zero-padded
  std::size_t begin, end;    // in `uses`
  const XattrView* x;
};

bool table_order(const SharedRun& a, const SharedRun& b) {
  if (a.name_rank != b.name_rank) return a.name_rank > b.name_rank;
  if (a.value_size != b.value_size) return a.value_size > b.value_size;
  if (a.value_head != b.value_head) return a.value_head > b.value_head;
  return compare_values(*a.x, *b.x) > 0;
}

std::uint64_t value_head(const XattrView& x) {
  std::string_view prefix = prefix_bytes(x.prefix()), value = x.value();
  std::uint64_t head = 0;
  for (std::size_t i = 0; i < 8; ++i) {
    std::uint8_t byte = 0;
    if (i < prefix.size()) {
      byte = static_cast<std::uint8_t>(prefix[i]);
    } else if (i - prefix.size() < value.size()) {
      byte = static_cast<std::uint8_t>(value[i - prefix.size()]);
    }
    head = head << 8 | byte;
  }
  return head;
}

// Ids for xattr names (equal names, equal ids) and their ranks in byte order.
class NameIds {
 public:
  std::uint32_t id(std::string_view name) {
    // Most names are the writer's constants (one address each): the same address and
    // length are the same name, which spares the hash lookup.
    for (const Recent& r : recent_) {
      if (r.data == name.data() && r.size == name.size() && r.data != nullptr) return r.id;
    }
    auto id = ids_.try_emplace(name, static_cast<std::uint32_t>(ids_.size())).first->second;
    std::rotate(recent_.begin(), recent_.end() - 1, recent_.end());
    recent_[0] = {name.data(), name.size(), id};
    return id;
  }
  std::vector<std::uint32_t> ranks() const {
    std::vector<std::string_view> names(ids_.size());
    for (const auto& [name, id] : ids_) names[id] = name;
    std::vector<std::uint32_t> by_name(names.size()), rank(names.size());
    for (std::uint32_t id = 0; id < by_name.size(); ++id) by_name[id] = id;
    std::sort(by_name.begin(), by_name.end(), [&](std::uint32_t a, std::uint32_t b) { return names[a] < names[b]; });
    for (std::uint32_t r = 0; r < by_name.size(); ++r) rank[by_name[r]] = r;
    return rank;
  }

 private:
  struct Recent {
    const char* data = nullptr;
    std::size_t size = 0;
    std::uint32_t id = 0;
  };
  std::unordered_map<std::string_view, std::uint32_t> ids_;
  std::array<Recent, 4> recent_{};
};

// Every xattr of every inode, equal pairs next to each other (sorted by integers only).
LargeVector<XattrUse> sorted_uses(const Plan& plan, NameIds& names) {
  std::size_t n_uses = 0;
  for (const Inode& in : plan.inodes) n_uses += in.xattr_count;
  LargeVector<XattrUse> uses;
  uses.reserve(n_uses);
  for (const Inode& in : plan.inodes) {
    for (std::uint32_t i = in.xattr_begin; i < in.xattr_begin + in.xattr_count; ++i) {
      const XattrView& x = plan.xattrs[i];
      // Same name, same prefix: hashing the part after it is enough.
      auto hash = static_cast<std::uint32_t>(std::hash<std::string_view>{}(x.value()));
      uses.push_back({names.id(x.name()), hash, i});
    }
  }
  std::sort(uses.begin(), uses.end(), [](const XattrUse& a, const XattrUse& b) {
    return a.name_id != b.name_id ? a.name_id < b.name_id : a.value_hash < b.value_hash;
  });
  return uses;
}

// The pairs used two or more times, in the table's order.
std::vector<SharedRun> shared_runs(const Plan& plan, LargeVector<XattrUse>& uses, const NameIds& names) {
  auto value_less = [&](const XattrUse& a, const XattrUse& b) {
    return compare_values(plan.xattrs[a.index], plan.xattrs[b.index]) < 0;
  };
  auto same_value = [&](const XattrUse& a, const XattrUse& b) {
    return compare_values(plan.xattrs[a.index], plan.xattrs[b.index]) == 0;
  };
  std::vector<std::uint32_t> rank = names.ranks();
  std::vector<SharedRun> runs;
  for (std::size_t a = 0, b; a < uses.size(); a = b) {
    for (b = a + 1; b < uses.size() && same_key(uses[a], uses[b]);) ++b;
    if (b - a < 2) continue;
    // Equal keys may (rarely) mix values whose hashes collide: sorted by value, the equal
    // ones become neighbours.
    auto first = uses.begin() + static_cast<std::ptrdiff_t>(a), last = uses.begin() + static_cast<std::ptrdiff_t>(b);
    if (!std::all_of(first + 1, last, [&](const XattrUse& u) { return same_value(*first, u); })) {
      std::sort(first, last, value_less);
    }
    for (std::size_t c = a, d; c < b; c = d) {
      for (d = c + 1; d < b && same_value(uses[c], uses[d]);) ++d;
      if (d - c < 2) continue;
      const XattrView& x = plan.xattrs[uses[c].index];
      runs.push_back({rank[uses[c].name_id], static_cast<std::uint32_t>(value_size(x)), value_head(x), c, d, &x});
    }
  }
  if (plan.rules.shared_order == format::SharedOrder::kDescendingName) {
    std::sort(runs.begin(), runs.end(), table_order);
  } else {
    std::sort(runs.begin(), runs.end(), [&](const SharedRun& a, const SharedRun& b) {
      auto ka = key_of(plan, *a.x), kb = key_of(plan, *b.x);
      if (ka.index != kb.index) return ka.index < kb.index;
      if (int c = ka.suffix.compare(kb.suffix); c != 0) return c < 0;
      return compare_values(*a.x, *b.x) < 0;
    });
  }
  return runs;
}

}  // namespace

std::uint32_t xattr_entry_size(const Plan& plan, const XattrView& x) {
  auto key = key_of(plan, x);
  return static_cast<std::uint32_t>(format::round_up(4 + key.suffix.size() + value_size(x), 4));
}

void choose_shared_xattrs(Plan& plan) {
  NameIds names;
  LargeVector<XattrUse> uses = sorted_uses(plan, names);
  std::vector<SharedRun> runs = shared_runs(plan, uses, names);
  for (std::uint32_t k = 0; k < runs.size(); ++k) {
    plan.shared.push_back(runs[k].x);
    plan.shared_offsets.push_back(plan.shared_size);
    plan.shared_size += xattr_entry_size(plan, *runs[k].x);
    for (std::size_t i = runs[k].begin; i < runs[k].end; ++i) plan.xattrs[uses[i].index].set_shared(k);
  }

  // Per inode, in its order: references while fewer than the format's cap were made, inline
  // after that. (composefs-rs has no cap below the one-byte count, and past 255 references
  // writes a count that wrapped; this writer keeps the rest inline instead.)
  for (Inode& in : plan.inodes) {
    if (in.xattr_count == 0) continue;
    std::uint32_t xsize = 12;
    for (XattrView& x : plan.xattrs_of(in)) {
      if (x.shared() != kNotShared && in.shared_refs < plan.rules.max_shared_refs) {
        ++in.shared_refs;
        xsize += 4;
      } else {
        x.set_shared(kNotShared);
        xsize += xattr_entry_size(plan, x);
      }
    }
    in.xsize = xsize;
  }
}

}  // namespace cfs::writer
