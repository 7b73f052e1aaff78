// The read-ahead stage: bytes in order whatever the chunk and read sizes, the source's Error
// where it happened, and an early stop that does not wait for the source to end.
#include "oci/read_ahead.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <string>

#include "base/error.h"

namespace cfs::oci {
namespace {

// `total` bytes of a counting pattern, `step` at a time; a transient Error after `fail_at`.
ReadSome counting(std::size_t total, std::size_t step, std::size_t fail_at = SIZE_MAX) {
  auto at = std::make_shared<std::size_t>(0);
  return [=](std::span<std::byte> buf) -> std::size_t {
    if (*at >= fail_at) throw Error(ErrorKind::kTransient, EIO, "connection reset");
    std::size_t n = std::min({buf.size(), step, total - *at, fail_at - *at});
    for (std::size_t i = 0; i < n; ++i) buf[i] = static_cast<std::byte>((*at + i) * 7);
    *at += n;
    return n;
  };
}

std::string read_all(ReadAhead& r, std::size_t read_size) {
  std::string out;
  std::vector<std::byte> buf(read_size);
  for (std::size_t n; (n = r.read_some(buf)) != 0;)
    out.append(reinterpret_cast<const char*>(buf.data()), n);
  return out;
}

std::string expected(std::size_t total) {
  std::string s(total, '\0');
  for (std::size_t i = 0; i < total; ++i) s[i] = static_cast<char>(i * 7);
  return s;
}

TEST(ReadAhead, BytesInOrder) {
  struct Case {
    std::size_t total, step, chunk, chunks, read;
  };
  for (const Case& c :
       {Case{0, 10, 16, 2, 5}, Case{100000, 333, 4096, 2, 1000}, Case{100000, 5000, 64, 1, 7},
        Case{1 << 20, 1 << 20, 1 << 16, 8, 1 << 20}}) {
    ReadAhead r(counting(c.total, c.step), c.chunk, c.chunks);
    EXPECT_EQ(read_all(r, c.read), expected(c.total)) << c.total << " " << c.step << " " << c.chunk;
    EXPECT_EQ(r.read_some(std::span<std::byte>()), 0U);
  }
}

TEST(ReadAhead, TheSourcesErrorComesAfterTheBytesBeforeIt) {
  ReadAhead r(counting(100000, 1000, 50000), 4096, 2);
  std::string got;
  std::vector<std::byte> buf(3000);
  try {
    for (std::size_t n; (n = r.read_some(buf)) != 0;)
      got.append(reinterpret_cast<const char*>(buf.data()), n);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kTransient);  // still retried by the pull
    EXPECT_EQ(got, expected(50000));
  }
}

TEST(ReadAhead, StopsEarlyWithoutReadingToTheEnd) {
  std::atomic<std::size_t> calls{0};
  {
    ReadAhead r(
        [&](std::span<std::byte> buf) {
          ++calls;
          std::memset(buf.data(), 1, buf.size());
          return buf.size();  // never ends
        },
        1024, 4);
    std::byte b[10];
    EXPECT_EQ(r.read_some(b), 10U);
  }  // the reader gave up: the destructor must not wait for an end that never comes
  EXPECT_LE(calls.load(), 6U);  // bounded: the chunks that fit, not the whole source
}

}  // namespace
}  // namespace cfs::oci
