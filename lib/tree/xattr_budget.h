// The per-node xattr size budget shared by the dump parser and the writer: each xattr costs
// 7 + name length + value length, plus 12 once for the first, and the total must stay within
// 32767 (the bound of an EROFS inline xattr body). Layer: tree.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tree/tree.h"

namespace cfs::tree {

inline constexpr std::uint64_t kXattrBudget = 32767;

// Sets or replaces `name` in `xattrs`, charging `counter` as upstream does: a replaced entry is
// first refunded (64-bit wrap-around, as upstream), and the counter restarts at 0 when the
// list becomes empty. Returns false, leaving the new entry out, if the budget would be exceeded.
bool set_xattr_budgeted(std::vector<Xattr>& xattrs, std::uint64_t& counter, std::string name,
                        std::string value);

}  // namespace cfs::tree
