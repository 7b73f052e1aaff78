#include "base/string_arena.h"

#include <algorithm>
#include <utility>

#include "base/large_alloc.h"

namespace cfs {

std::string_view StringArena::concat(std::string_view a, std::string_view b, std::string_view c) {
  std::size_t n = a.size() + b.size() + c.size();
  if (n == 0) return {};
  if (size_ - used_ < n) {
    std::size_t grown = grown_size(64 * 1024, chunks_.size(), kHugePageSize);
    size_ = std::max(n, grown);
    chunks_.push_back({static_cast<char*>(allocate_large(size_)), size_});
    used_ = 0;
  }
  char* p = chunks_.back().data + used_;
  a.copy(p, a.size());
  b.copy(p + a.size(), b.size());
  c.copy(p + a.size() + b.size(), c.size());
  used_ += n;
  return {p, n};
}

StringArena::StringArena(StringArena&& other) noexcept { *this = std::move(other); }

StringArena& StringArena::operator=(StringArena&& other) noexcept {
  if (this != &other) {
    release();
    chunks_ = std::exchange(other.chunks_, {});
    used_ = std::exchange(other.used_, 0);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

StringArena::~StringArena() { release(); }

void StringArena::release() noexcept {
  for (const Chunk& c : chunks_) deallocate_large(c.data, c.size);
  chunks_.clear();
  used_ = size_ = 0;
}

}  // namespace cfs
