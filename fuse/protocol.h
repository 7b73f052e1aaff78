// The FUSE wire protocol from <linux/fuse.h>, plus the passthrough additions (protocol 7.40,
// Linux 6.9) that Debian 12's 6.1 headers lack. Layer: fuse.
#pragma once

#include <linux/fuse.h>
#include <sys/ioctl.h>

#include <cstdint>

namespace cfs::fuse {

inline constexpr std::uint32_t kPassthroughMinor = 40;
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

}  // namespace cfs::fuse
