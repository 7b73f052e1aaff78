// StringArena: bump storage for many small strings (node names, payloads, escaped xattr
// names): one allocation per 64 KiB instead of one per string, no per-string header or
// slack, stable addresses until the arena dies. Not thread-safe. Layer: base.
#pragma once

#include <cstddef>
#include <memory>
#include <string_view>
#include <vector>

namespace cfs {

class StringArena {
 public:
  // A copy of a + b + c, owned by the arena.
  std::string_view concat(std::string_view a, std::string_view b = {}, std::string_view c = {});

 private:
  std::vector<std::unique_ptr<char[]>> chunks_;
  std::size_t used_ = 0, size_ = 0;
};

}  // namespace cfs
