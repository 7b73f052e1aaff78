// Progress: counters a long operation advances and another thread may watch (a progress line
// on a terminal). Layer: base.
#pragma once

#include <atomic>
#include <cstdint>

namespace cfs {

struct Progress {
  std::atomic<std::uint64_t> files_total{0}, bytes_total{0};  // grow while work is found
  std::atomic<std::uint64_t> files_done{0}, bytes_done{0};
};

}  // namespace cfs
