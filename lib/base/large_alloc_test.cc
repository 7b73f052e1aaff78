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

namespace cfs {
namespace {

// Pools ask for their next block's size by block count: it doubles, stops at the largest,
// and never wraps to 0 however many blocks there are (it did after 54 blocks).
TEST(LargeAlloc, GrownSizeDoublesThenStays) {
  EXPECT_EQ(grown_size(1024, 0, 1 << 20), 1024u);
  EXPECT_EQ(grown_size(1024, 3, 1 << 20), 8192u);
  EXPECT_EQ(grown_size(1024, 10, 1 << 20), std::size_t{1} << 20);
  for (std::size_t blocks : {54u, 64u, 1000u, 100000u}) EXPECT_EQ(grown_size(1024, blocks, 1 << 20), std::size_t{1} << 20);
}

}  // namespace
}  // namespace cfs
