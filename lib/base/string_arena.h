// StringArena: bump storage for many small strings (node names, payloads, escaped xattr
// names): one allocation per chunk (64 KiB growing to 2 MiB, then in huge pages) instead of
// one per string, no per-string header or slack, stable addresses until the arena dies.
// Not thread-safe. Layer: base.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

namespace cfs {

class StringArena {
 public:
  // A copy of a + b + c, owned by the arena.
  std::string_view concat(std::string_view a, std::string_view b = {}, std::string_view c = {});

  StringArena() = default;
  StringArena(StringArena&& other) noexcept;
  StringArena& operator=(StringArena&& other) noexcept;
  ~StringArena();

 private:
  struct Chunk {
    char* data;
    std::size_t size;
  };
  void release() noexcept;
  std::vector<Chunk> chunks_;
  std::size_t used_ = 0, size_ = 0;
};

}  // namespace cfs
