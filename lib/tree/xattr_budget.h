// The per-node xattr size budget shared by the dump parser and the writer: each xattr costs
// 7 + name length + value length, plus 12 once for the first, and the total must stay within
// 32767 (the bound of an EROFS inline xattr body). Layer: tree.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tree/tree.h"

namespace cfs::tree {

inline constexpr std::uint64_t kXattrBudget = 32767;

// Sets or replaces `name` in `xattrs`, charging `counter` as upstream does: a replaced entry is
// first refunded (64-bit wrap-around, as upstream), and the counter restarts at 0 when the
// list becomes empty. Returns false, leaving the new entry out, if the budget would be exceeded.
// X is tree::Xattr or the writer's view; xattr_name(x) and value_size(x), found by
// argument-dependent lookup, are its name and the length of its value as stored.
inline std::string_view xattr_name(const Xattr& x) { return x.name; }
inline std::size_t value_size(const Xattr& x) { return x.value.size(); }

template <class X>
bool set_xattr_budgeted(std::vector<X>& xattrs, std::uint64_t& counter, X x) {
  auto it = std::find_if(xattrs.begin(), xattrs.end(), [&](const X& e) { return xattr_name(e) == xattr_name(x); });
  if (it != xattrs.end()) {
    std::uint64_t old_cost = 7 + xattr_name(*it).size() + value_size(*it);
    xattrs.erase(it);
    counter = xattrs.empty() ? 0 : counter - old_cost;
  }
  std::uint64_t cost = 7 + xattr_name(x).size() + value_size(x) + (xattrs.empty() ? 12 : 0);
  if (counter + cost > kXattrBudget) return false;
  counter += cost;
  xattrs.push_back(std::move(x));
  return true;
}

}  // namespace cfs::tree
