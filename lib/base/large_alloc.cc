#include "base/large_alloc.h"

#include <sys/mman.h>

#include <cstdint>
#include <new>

namespace cfs {
namespace {

std::size_t round_up(std::size_t n, std::size_t to) { return (n + to - 1) / to * to; }

std::size_t mapped_size(std::size_t bytes) { return round_up(bytes, 4096); }

// Under AddressSanitizer every block comes from operator new, which it watches.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kPlainOnly = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kPlainOnly = true;
#else
constexpr bool kPlainOnly = false;
#endif
#else
constexpr bool kPlainOnly = false;
#endif

bool plain(std::size_t bytes) { return kPlainOnly || mapped_size(bytes) < kHugePageSize; }

}  // namespace

void* allocate_large(std::size_t bytes) {
  if (plain(bytes)) return ::operator new(bytes);
  // Map a huge page more than needed, then cut the block out at a 2 MiB boundary.
  std::size_t size = mapped_size(bytes);
  void* raw = ::mmap(nullptr, size + kHugePageSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) throw std::bad_alloc();
  auto start = reinterpret_cast<std::uintptr_t>(raw);
  std::uintptr_t aligned = round_up(start, kHugePageSize);
  if (aligned > start) ::munmap(raw, aligned - start);
  std::size_t after = start + kHugePageSize - aligned;  // what is mapped past the block
  if (after > 0) ::munmap(reinterpret_cast<void*>(aligned + size), after);
  // Whole huge pages only: a partly used last one would cost up to 2 MiB for nothing.
  std::size_t whole = size / kHugePageSize * kHugePageSize;
  ::madvise(reinterpret_cast<void*>(aligned), whole, MADV_HUGEPAGE);  // a hint; may fail
  return reinterpret_cast<void*>(aligned);
}

void deallocate_large(void* p, std::size_t bytes) noexcept {
  if (p == nullptr) return;
  if (plain(bytes)) {
    ::operator delete(p);
    return;
  }
  ::munmap(p, mapped_size(bytes));
}

}  // namespace cfs
