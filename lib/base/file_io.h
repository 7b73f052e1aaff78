// Small, checked I/O helpers. Layer: base. All fds are O_CLOEXEC; all calls retry EINTR.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/unique_fd.h"

namespace cfs {

// Writes every byte (retrying short writes and EINTR); throws Error on failure.
void write_all(int fd, std::span<const std::byte> data);
void write_all(int fd, std::string_view text);

// Reads what `fd` has, up to `buffer`'s size (retrying EINTR); 0 at its end. Throws Error.
std::size_t read_some(int fd, std::span<std::byte> buffer);

// Reads the whole of `fd` (any kind of file, including pipes) into memory.
std::vector<std::byte> read_all(int fd);

// Opens `path` read-only; throws Error("<context>: strerror") on failure.
UniqueFd open_read(const std::string& path);

// A new read-only open file description of the file `fd` refers to, through /proc/self/fd
// (so an unnamed O_TMPFILE file too): its own offset, and no write access, which fs-verity
// requires of every open. Throws Error.
UniqueFd reopen_read_only(int fd);

// A read-only view of a whole file: mmap for regular files, a heap copy for anything else
// (pipes, empty files). Move-only; spans handed out must not outlive it.
class MappedFile {
 public:
  static MappedFile open(int fd);
  MappedFile() = default;
  MappedFile(MappedFile&& o) noexcept;
  MappedFile& operator=(MappedFile&& o) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  std::span<const std::byte> bytes() const noexcept { return {data_, size_}; }

 private:
  void release() noexcept;
  const std::byte* data_ = nullptr;
  std::size_t size_ = 0;
  bool mapped_ = false;
  std::vector<std::byte> copy_;
};

}  // namespace cfs
