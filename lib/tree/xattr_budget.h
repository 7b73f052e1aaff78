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
// X is any {name, value} aggregate (tree::Xattr, or the writer's views).
template <class X, class Name, class Value>
bool set_xattr_budgeted(std::vector<X>& xattrs, std::uint64_t& counter, Name&& name, Value&& value) {
  std::string_view n = name, v = value;
  auto it = std::find_if(xattrs.begin(), xattrs.end(), [&](const X& x) { return x.name == n; });
  if (it != xattrs.end()) {
    std::uint64_t old_cost = 7 + it->name.size() + it->value.size();
    xattrs.erase(it);
    counter = xattrs.empty() ? 0 : counter - old_cost;
  }
  std::uint64_t cost = 7 + n.size() + v.size() + (xattrs.empty() ? 12 : 0);
  if (counter + cost > kXattrBudget) return false;
  counter += cost;
  xattrs.push_back(X{std::forward<Name>(name), std::forward<Value>(value)});
  return true;
}

}  // namespace cfs::tree
