// A request as FUSE over io_uring delivers it, made whole again: the kernel puts the
// fuse_in_header and the opcode's own argument struct in the entry's header buffer and the
// other arguments (names) in its payload buffer; the operations read the bytes /dev/fuse
// would have given (header, then arguments, contiguous). Layer: fuse (pure).
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "fuse/protocol.h"

namespace cfs::fuse {

// The request `header` and `payload` (the payload buffer, of which header.ent_in_out.payload_sz
// bytes are the request's) hold, into `out`. False when their sizes disagree (the header's
// len is not header + op struct + payload, or the op struct would be larger than its room).
bool assemble_uring_request(const UringReqHeader& header, std::span<const char> payload, std::vector<char>& out);

}  // namespace cfs::fuse
