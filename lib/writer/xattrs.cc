// image-format.md §5: which (name, value) pairs go to the shared table, and in which order.
#include <algorithm>
#include <string>
#include <unordered_map>

#include "format/erofs.h"
#include "format/xattr_name.h"
#include "writer/plan.h"

namespace cfs::writer {
namespace {

std::string pair_key(const tree::Xattr& x) {
  std::string key;
  key.reserve(x.name.size() + 1 + x.value.size());
  key += x.name;
  key += '\0';  // names never contain NUL, so the key is unambiguous
  key += x.value;
  return key;
}

// Table order: name descending, then longer value first, then value bytes descending.
bool table_before(const tree::Xattr* a, const tree::Xattr* b) {
  if (a->name != b->name) return a->name > b->name;
  if (a->value.size() != b->value.size()) return a->value.size() > b->value.size();
  return a->value > b->value;
}

}  // namespace

std::uint32_t xattr_entry_size(const tree::Xattr& x) {
  auto key = format::split_xattr_name(x.name);
  return static_cast<std::uint32_t>(format::round_up(4 + key.suffix.size() + x.value.size(), 4));
}

void choose_shared_xattrs(Plan& plan) {
  struct Use {
    std::uint32_t count = 0;
    const tree::Xattr* first = nullptr;
    std::uint32_t index = 0;
  };
  std::unordered_map<std::string, Use> uses;
  for (const Inode& in : plan.inodes) {
    for (const tree::Xattr& x : in.xattrs) {
      Use& u = uses[pair_key(x)];
      if (u.count++ == 0) u.first = &x;
    }
  }
  for (const auto& [key, use] : uses) {
    if (use.count >= 2) plan.shared.push_back(use.first);
  }
  std::sort(plan.shared.begin(), plan.shared.end(), table_before);
  std::unordered_map<std::string, std::uint32_t> shared_index;
  for (std::uint32_t i = 0; i < plan.shared.size(); ++i) {
    plan.shared_offsets.push_back(plan.shared_size);
    plan.shared_size += xattr_entry_size(*plan.shared[i]);
    shared_index.emplace(pair_key(*plan.shared[i]), i);
  }
  for (Inode& in : plan.inodes) {
    if (in.xattrs.empty()) continue;
    std::uint32_t xsize = 12;
    for (std::uint32_t i = 0; i < in.xattrs.size(); ++i) {
      auto it = plan.shared.empty() ? shared_index.end() : shared_index.find(pair_key(in.xattrs[i]));
      if (it != shared_index.end() && in.shared_refs.size() < format::kMaxSharedXattrRefs) {
        in.shared_refs.push_back(it->second);
        xsize += 4;
      } else {
        in.inline_xattrs.push_back(i);
        xsize += xattr_entry_size(in.xattrs[i]);
      }
    }
    in.xsize = xsize;
  }
}

}  // namespace cfs::writer
