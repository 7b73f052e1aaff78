// BackingIds: one id per inode, kept after the last release up to a bound, checked on reuse.
#include "fuse/backing_ids.h"

#include <fcntl.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

namespace cfs::fuse {
namespace {

class CountingChannel final : public Channel {
 public:
  void reply(std::uint64_t, int, const void*, std::size_t) override {}
  int open_backing(int) override { return refuse ? -EPERM : ++last_id; }
  void close_backing(int id) override { closed.push_back(id); }
  int last_id = 0;
  bool refuse = false;
  std::vector<int> closed;
};

UniqueFd some_file() { return UniqueFd(::open("/proc/self/exe", O_RDONLY | O_CLOEXEC)); }
bool unchanged(int, const std::optional<Digest>&) { return true; }

TEST(BackingIds, IdleIdsAreKeptUpToTheBoundOldestFirst) {
  CountingChannel channel;
  BackingIds ids(channel, 2);
  for (std::uint64_t nid = 1; nid <= 3; ++nid) {
    UniqueFd fd = some_file();
    EXPECT_EQ(ids.acquire(nid, fd, std::nullopt), static_cast<int>(nid));
    EXPECT_FALSE(fd) << "taken";
    ids.release(nid);
  }
  EXPECT_EQ(channel.closed, std::vector<int>{1}) << "3 took the oldest idle one's place";
  EXPECT_EQ(ids.held(), 2u);
  EXPECT_EQ(ids.share(1, unchanged), 0);
  EXPECT_EQ(ids.share(2, unchanged), 2);
  ids.release(2);  // now the newest idle one
  UniqueFd fd = some_file();
  ids.acquire(4, fd, std::nullopt);
  ids.release(4);
  EXPECT_EQ(channel.closed, (std::vector<int>{1, 3}));
  ids.close_all();
  std::sort(channel.closed.begin(), channel.closed.end());
  EXPECT_EQ(channel.closed, (std::vector<int>{1, 2, 3, 4}));
  EXPECT_EQ(ids.held(), 0u);
}

TEST(BackingIds, AChangedObjectIsNotShared) {
  CountingChannel channel;
  BackingIds ids(channel, 8);
  UniqueFd fd = some_file();
  ASSERT_EQ(ids.acquire(1, fd, std::nullopt), 1);
  auto changed = [](int, const std::optional<Digest>&) { return false; };
  EXPECT_EQ(ids.share(1, changed), 0);
  EXPECT_TRUE(channel.closed.empty()) << "still in use: kept";
  ids.release(1);
  EXPECT_EQ(ids.share(1, changed), 0);
  EXPECT_EQ(channel.closed, std::vector<int>{1}) << "idle and changed: given back";
  EXPECT_EQ(ids.held(), 0u);
}

TEST(BackingIds, NoMoreFdsAreHeldThanTheBudget) {
  CountingChannel channel;
  BackingIds ids(channel, 1);
  UniqueFd a = some_file(), b = some_file();
  ASSERT_EQ(ids.acquire(1, a, std::nullopt), 1);
  ASSERT_EQ(ids.acquire(2, b, std::nullopt), 2);
  EXPECT_FALSE(b) << "registered, then closed: over the budget";
  auto changed = [](int, const std::optional<Digest>&) { return false; };
  EXPECT_EQ(ids.share(2, changed), 2) << "in use and not checkable: shared as the kernel would";
  ids.release(2);
  ids.release(2);
  EXPECT_EQ(channel.closed, std::vector<int>{2}) << "not kept idle without its fd";
  ids.release(1);
  EXPECT_EQ(ids.held(), 1u) << "1 kept idle";
  UniqueFd c = some_file();
  ASSERT_EQ(ids.acquire(3, c, std::nullopt), 3);
  EXPECT_EQ(channel.closed, (std::vector<int>{2, 1})) << "3 took 1's fd budget";
}

TEST(BackingIds, ARefusedRegistrationLeavesTheFd) {
  CountingChannel channel;
  channel.refuse = true;
  BackingIds ids(channel, 8);
  UniqueFd fd = some_file();
  EXPECT_EQ(ids.acquire(1, fd, std::nullopt), -EPERM);
  EXPECT_TRUE(fd) << "the caller serves reads from it";
  EXPECT_EQ(ids.held(), 0u);
}

}  // namespace
}  // namespace cfs::fuse
