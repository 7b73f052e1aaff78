#include "fuse/request.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

namespace cfs::fuse {
namespace {

struct Two {
  std::uint32_t a, b;
};

TEST(ArgReader, TakesOnlyWhatTheRequestHas) {
  std::string bytes(12, '\0');
  bytes[0] = 1;
  bytes[4] = 2;
  ArgReader r(bytes.data(), 10);
  Two t = r.take<Two>();
  EXPECT_EQ(t.a, 1u);
  EXPECT_EQ(t.b, 2u);
  EXPECT_THROW(r.take<Two>(), Error) << "2 bytes left, 8 wanted";
  ArgReader empty(bytes.data(), 0);
  EXPECT_THROW(empty.take<std::uint8_t>(), Error);
}

TEST(ArgReader, PrefixOfAShorterStructIsZeroFilled) {
  std::string bytes = {3, 0, 0, 0, 7};
  ArgReader r(bytes.data(), bytes.size());
  Two t = r.take_prefix<Two>();
  EXPECT_EQ(t.a, 3u);
  EXPECT_EQ(t.b, 7u);  // the one byte it had
  EXPECT_EQ(r.take_prefix<Two>().a, 0u);
}

TEST(ArgReader, NamesMustEndWithinTheRequest) {
  std::string bytes("abc\0def", 7);
  ArgReader r(bytes.data(), bytes.size());
  EXPECT_EQ(r.name(), "abc");
  EXPECT_THROW(r.name(), Error) << "\"def\" has no NUL before the end";
}

}  // namespace
}  // namespace cfs::fuse
