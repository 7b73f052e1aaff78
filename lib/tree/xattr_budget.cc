#include "tree/xattr_budget.h"

#include <algorithm>

namespace cfs::tree {

bool set_xattr_budgeted(std::vector<Xattr>& xattrs, std::uint64_t& counter, std::string name,
                        std::string value) {
  auto it = std::find_if(xattrs.begin(), xattrs.end(), [&](const Xattr& x) { return x.name == name; });
  if (it != xattrs.end()) {
    std::uint64_t old_cost = 7 + it->name.size() + it->value.size();
    xattrs.erase(it);
    counter = xattrs.empty() ? 0 : counter - old_cost;
  }
  std::uint64_t cost = 7 + name.size() + value.size() + (xattrs.empty() ? 12 : 0);
  if (counter + cost > kXattrBudget) return false;
  counter += cost;
  xattrs.push_back({std::move(name), std::move(value)});
  return true;
}

}  // namespace cfs::tree
