#include "fuse/uring_request.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

namespace cfs::fuse {
namespace {

// A header buffer as the kernel fills it: `len` in the in header, `op` in op_in, and
// `payload_sz` announced.
UringReqHeader header(std::uint32_t len, std::uint32_t opcode, const std::string& op, std::uint32_t payload_sz) {
  UringReqHeader h{};
  fuse_in_header in{};
  in.len = len;
  in.opcode = opcode;
  in.unique = 42;
  std::memcpy(h.in_out, &in, sizeof in);
  std::memcpy(h.op_in, op.data(), op.size());
  h.ent_in_out.payload_sz = payload_sz;
  return h;
}

TEST(UringRequest, ReassemblesWhatDevFuseWouldHaveGiven) {
  constexpr std::uint32_t kIn = sizeof(fuse_in_header);
  struct Case {
    const char* what;
    std::uint32_t len, opcode;
    std::string op, payload;
    bool whole;
  } cases[] = {
      {"lookup: no op struct, the name in the payload", kIn + 4, FUSE_LOOKUP, "", std::string("abc\0", 4), true},
      {"getattr: op struct only", kIn + 16, FUSE_GETATTR, std::string(16, 'g'), "", true},
      {"getxattr: op struct and name", kIn + 8 + 5, FUSE_GETXATTR, std::string(8, 'x'), std::string("user\0", 5), true},
      {"readlink: nothing but the header", kIn, FUSE_READLINK, "", "", true},
      {"len shorter than the payload", kIn + 2, FUSE_LOOKUP, "", std::string("abc\0", 4), false},
      {"len shorter than the header", 8, FUSE_GETATTR, "", "", false},
      {"an op struct beyond its 128 bytes", kIn + 129, FUSE_GETATTR, "", "", false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    UringReqHeader h = header(c.len, c.opcode, c.op, static_cast<std::uint32_t>(c.payload.size()));
    std::string payload_buffer = c.payload + std::string(64, 'p');  // the buffer is larger
    std::vector<char> out;
    ASSERT_EQ(assemble_uring_request(h, payload_buffer, out), c.whole);
    if (!c.whole) continue;
    std::string want(reinterpret_cast<const char*>(h.in_out), kIn);
    want += c.op + c.payload;
    EXPECT_EQ(std::string(out.begin(), out.end()), want);
  }
}

TEST(UringRequest, APayloadSizeBeyondTheBufferIsRefused) {
  UringReqHeader h = header(sizeof(fuse_in_header) + 100, FUSE_LOOKUP, "", 100);
  std::string small(10, 'x');
  std::vector<char> out;
  EXPECT_FALSE(assemble_uring_request(h, small, out));
}

}  // namespace
}  // namespace cfs::fuse
