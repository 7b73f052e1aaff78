#include "base/string_arena.h"

#include <algorithm>

namespace cfs {

std::string_view StringArena::concat(std::string_view a, std::string_view b, std::string_view c) {
  std::size_t n = a.size() + b.size() + c.size();
  if (n == 0) return {};
  if (size_ - used_ < n) {
    size_ = std::max<std::size_t>(n, 64 * 1024);
    chunks_.push_back(std::make_unique_for_overwrite<char[]>(size_));
    used_ = 0;
  }
  char* p = chunks_.back().get() + used_;
  a.copy(p, a.size());
  b.copy(p + a.size(), b.size());
  c.copy(p + a.size() + b.size(), c.size());
  used_ += n;
  return {p, n};
}

}  // namespace cfs
