// Large, long-lived blocks (tree nodes, string arenas, the writer's tables) backed by
// transparent huge pages where the system allows it (THP "madvise" mode, Debian's default).
// In a VM each 4 KiB page fault is costly: building the image of a /usr dump touched 17k
// pages, a fifth of its run time. Blocks under 2 MiB (in 4 KiB pages) come from operator
// new; only whole 2 MiB stretches of a block get huge pages, so its unused tail costs no
// memory. Layer: base.
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

namespace cfs {

inline constexpr std::size_t kHugePageSize = std::size_t{2} << 20;

// The size of the next block of a pool whose blocks double from `first` up to `largest`,
// given the `blocks` it has (a plain `first << blocks` wraps once there are many blocks).
constexpr std::size_t grown_size(std::size_t first, std::size_t blocks, std::size_t largest) {
  std::size_t size = first;
  for (std::size_t i = 0; i < blocks && size < largest; ++i) size *= 2;
  return size < largest ? size : largest;
}

void* allocate_large(std::size_t bytes);                   // throws std::bad_alloc
void deallocate_large(void* p, std::size_t bytes) noexcept;  // the same `bytes`

template <class T>
struct LargeAllocator {
  using value_type = T;
  LargeAllocator() = default;
  template <class U>
  LargeAllocator(const LargeAllocator<U>&) noexcept {}
  T* allocate(std::size_t n) { return static_cast<T*>(allocate_large(n * sizeof(T))); }
  void deallocate(T* p, std::size_t n) noexcept { deallocate_large(p, n * sizeof(T)); }
  friend bool operator==(LargeAllocator, LargeAllocator) noexcept { return true; }
};

template <class T>
using LargeVector = std::vector<T, LargeAllocator<T>>;

}  // namespace cfs
