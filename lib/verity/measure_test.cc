#include "verity/measure.h"

#include <gtest/gtest.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "base/error.h"
#include "base/unique_fd.h"
#include "verity/fsverity.h"

namespace cfs::verity {
namespace {

// An unnamed file in /var/tmp (a disk filesystem: SEEK_DATA finds real holes there).
UniqueFd temp_file() {
  UniqueFd fd(::open("/var/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600));
  EXPECT_TRUE(fd) << std::strerror(errno);
  return fd;
}

void put(int fd, std::string_view data, off_t at) {
  ASSERT_EQ(::pwrite(fd, data.data(), data.size(), at), static_cast<ssize_t>(data.size()));
}

// Small, large and sparse files (holes read or skipped) give the digest of their bytes.
TEST(Measure, FileDigestEqualsDigestOfItsBytes) {
  struct Case {
    std::uint64_t size;
    std::vector<std::pair<off_t, std::string>> writes;
  } cases[] = {
      {100, {{0, "small"}}},
      {(1 << 20) - 1, {{0, "just below the sparse walk"}, {700000, "x"}}},
      {3 << 20, {{0, std::string(5000, 'a')}, {(2 << 20) + 123, "data after a hole"}}},
      {5 << 20, {{(5 << 20) - 10, "tail only"}}},
      {2 << 20, {}},
  };
  for (const auto& c : cases) {
    UniqueFd fd = temp_file();
    ASSERT_EQ(::ftruncate(fd.get(), static_cast<off_t>(c.size)), 0);
    std::string bytes(c.size, '\0');
    for (const auto& [at, data] : c.writes) {
      put(fd.get(), data, at);
      bytes.replace(static_cast<std::size_t>(at), data.size(), data);
    }
    Digest expected = digest_of(std::as_bytes(std::span(bytes)));
    EXPECT_EQ(to_hex(compute_from_file(fd.get(), c.size)), to_hex(expected)) << "size " << c.size;
    EXPECT_EQ(to_hex(compute_from_fd(fd.get())), to_hex(expected)) << "size " << c.size;
  }
}

// A file shorter than the size it was scanned with is an error, not a crash (a mapped page
// past EOF would raise SIGBUS) and not a digest of other bytes.
TEST(Measure, FileThatShrankIsAnError) {
  for (std::uint64_t size : {10ul, 4ul << 20}) {
    UniqueFd fd = temp_file();
    ASSERT_EQ(::ftruncate(fd.get(), static_cast<off_t>(size / 2)), 0);
    put(fd.get(), "data", 0);
    try {
      compute_from_file(fd.get(), size);
      ADD_FAILURE() << "no error for size " << size;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ENODATA) << e.what();
    }
  }
}

}  // namespace
}  // namespace cfs::verity
