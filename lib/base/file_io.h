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

// An output that appears only when complete: an unnamed (O_TMPFILE) file beside the
// destination, named and renamed over it by commit(); destroyed without commit, or killed,
// nothing is left behind. Where O_TMPFILE is unsupported a hidden named temporary is used.
// The destination "-" means stdout (written directly: there is nothing to rename).
class AtomicOutput {
 public:
  explicit AtomicOutput(const std::string& path);
  AtomicOutput(const AtomicOutput&) = delete;
  AtomicOutput& operator=(const AtomicOutput&) = delete;
  ~AtomicOutput();

  // Appends `data` (throws Error). The file's writeback starts at once, so that commit()'s
  // fsync finds little left to wait for.
  void write(std::span<const std::byte> data);
  // The hidden temporary file's name, for a signal handler to remove (it exists only in the
  // named fallback and briefly during commit).
  const std::string& temp_path() const noexcept { return tmp_path_; }
  void commit();

 private:
  std::string path_;
  std::string tmp_path_;
  UniqueFd fd_;
  std::uint64_t written_ = 0;
  std::uint64_t started_ = 0;  // writeback started for [0, started_)
  bool to_stdout_ = false;
  bool unnamed_ = false;  // O_TMPFILE: no name until commit
  bool named_ = false;    // tmp_path_ exists and must be removed on failure
  bool committed_ = false;
};

}  // namespace cfs
