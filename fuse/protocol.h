// The FUSE wire protocol from <linux/fuse.h>, plus what Debian 12's 6.1 headers lack: the
// passthrough additions (protocol 7.40, Linux 6.9) and FUSE over io_uring (7.42, Linux 6.14).
// Layer: fuse.
#pragma once

#include <linux/fuse.h>
#include <sys/ioctl.h>

#include <cstddef>
#include <cstdint>

namespace cfs::fuse {

inline constexpr std::uint32_t kPassthroughMinor = 40;
inline constexpr std::uint32_t kUringMinor = 42;
// The largest read a request asks for (our FUSE_INIT answer's max_write and max_pages).
inline constexpr std::uint32_t kMaxWrite = 1 << 20;
inline constexpr std::uint64_t kInitPassthrough = 1ULL << 37;  // FUSE_PASSTHROUGH (flags2 bit 5)
inline constexpr std::uint32_t kOpenPassthrough = 1U << 7;     // FOPEN_PASSTHROUGH

// fuse_init_out as of 7.40: max_stack_depth replaced the first unused word.
struct InitOut {
  std::uint32_t major;
  std::uint32_t minor;
  std::uint32_t max_readahead;
  std::uint32_t flags;
  std::uint16_t max_background;
  std::uint16_t congestion_threshold;
  std::uint32_t max_write;
  std::uint32_t time_gran;
  std::uint16_t max_pages;
  std::uint16_t map_alignment;
  std::uint32_t flags2;
  std::uint32_t max_stack_depth;
  std::uint32_t unused[6];
};
static_assert(sizeof(InitOut) == sizeof(fuse_init_out));

// fuse_open_out as of 7.40: the padding became the backing file id.
struct OpenOut {
  std::uint64_t fh;
  std::uint32_t open_flags;
  std::int32_t backing_id;
};
static_assert(sizeof(OpenOut) == sizeof(fuse_open_out));

struct BackingMap {
  std::int32_t fd;
  std::uint32_t flags;
  std::uint64_t padding;
};

inline constexpr unsigned long kIocBackingOpen = _IOW(229, 1, BackingMap);
inline constexpr unsigned long kIocBackingClose = _IOW(229, 2, std::uint32_t);

// --- FUSE over io_uring (Documentation/filesystems/fuse-io-uring.rst) ---------------------
inline constexpr std::uint64_t kInitOverIoUring = 1ULL << 41;  // FUSE_OVER_IO_URING (flags2 bit 9)

// The io_uring command ops (sqe->cmd_op of an IORING_OP_URING_CMD on the /dev/fuse fd).
inline constexpr std::uint32_t kUringCmdRegister = 1;        // hand the kernel an entry's buffers
inline constexpr std::uint32_t kUringCmdCommitAndFetch = 2;  // answer its request, take the next

// What the kernel and the server tell each other about one entry's request.
struct UringEntInOut {
  std::uint64_t flags;
  std::uint64_t commit_id;  // the request's; the commit names it
  std::uint32_t payload_sz;  // bytes in the payload buffer: the request's, then the reply's
  std::uint32_t padding;
  std::uint64_t reserved;
};

// An entry's header buffer: the in (then out) header, the opcode's own argument struct, and
// the sizes above. The other arguments (names, data) travel in the entry's payload buffer.
inline constexpr std::size_t kUringInOutSize = 128;
inline constexpr std::size_t kUringOpInSize = 128;
struct UringReqHeader {
  char in_out[kUringInOutSize];  // fuse_in_header, then fuse_out_header
  char op_in[kUringOpInSize];
  UringEntInOut ent_in_out;
};
static_assert(sizeof(UringReqHeader) == 288);

// The 80-byte command area of a 128-byte SQE.
struct UringCmdReq {
  std::uint64_t flags;
  std::uint64_t commit_id;  // COMMIT_AND_FETCH: the request answered
  std::uint16_t qid;        // the queue (its CPU)
  std::uint8_t padding[6];
};
static_assert(sizeof(UringCmdReq) == 24);

}  // namespace cfs::fuse
