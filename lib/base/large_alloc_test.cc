#include "base/large_alloc.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>

namespace cfs {
namespace {

// Blocks of every size class are usable end to end and keep their contents as they grow;
// large ones start at a huge-page boundary (unless ASan makes them all plain).
TEST(LargeAlloc, BlocksAreUsableAndAligned) {
  for (std::size_t bytes : {std::size_t{1}, std::size_t{4096}, kHugePageSize - 4096, kHugePageSize - 100,
                            kHugePageSize, 5 * kHugePageSize + 12345}) {
    auto* p = static_cast<unsigned char*>(allocate_large(bytes));
    std::memset(p, 0xA5, bytes);
    EXPECT_EQ(p[bytes - 1], 0xA5) << bytes;
#if !defined(__SANITIZE_ADDRESS__)
    if (bytes >= kHugePageSize - 100) {
      EXPECT_EQ(reinterpret_cast<std::uintptr_t>(p) % kHugePageSize, 0u) << bytes;
    }
#endif
    deallocate_large(p, bytes);
  }
  LargeVector<std::uint64_t> v;
  for (std::uint64_t i = 0; i < 3 * kHugePageSize / sizeof(std::uint64_t); ++i) v.push_back(i * 7);
  for (std::uint64_t i = 0; i < v.size(); i += 4099) ASSERT_EQ(v[i], i * 7);
}

}  // namespace
}  // namespace cfs
