#include "fuse/uring_request.h"

#include <cstring>

namespace cfs::fuse {

bool assemble_uring_request(const UringReqHeader& header, std::span<const char> payload, std::vector<char>& out) {
  fuse_in_header in;
  std::memcpy(&in, header.in_out, sizeof in);
  std::size_t payload_size = header.ent_in_out.payload_sz;
  if (payload_size > payload.size() || in.len < sizeof in + payload_size) return false;
  // The op struct's size is not sent: it is what the header's len leaves.
  std::size_t op_size = in.len - sizeof in - payload_size;
  if (op_size > sizeof header.op_in) return false;
  out.resize(in.len);
  std::memcpy(out.data(), &in, sizeof in);
  std::memcpy(out.data() + sizeof in, header.op_in, op_size);
  std::memcpy(out.data() + sizeof in + op_size, payload.data(), payload_size);
  return true;
}

}  // namespace cfs::fuse
