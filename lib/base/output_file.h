// OutputFile: where a tool writes an image, following the rules users expect of `cmd > path`
// without ever leaving a partial or clobbered file behind where that can be avoided:
// - "-": stdout.
// - a path that does not exist or is a regular file (a symlink is followed, and kept): an
//   unnamed (O_TMPFILE) file beside the final name, renamed over it by commit(); destroyed
//   without commit, or killed, it leaves nothing behind. A replaced file keeps its mode and
//   (as root) its owner, as writing through it would.
// - a regular file in a directory the caller cannot write: written in place at commit()
//   from a private temporary copy, so a failed build still leaves it untouched.
// - anything else (a device, FIFO or socket, /proc/self/fd/N, /dev/stdout): written straight
//   through, as upstream does (`mkcomposefs SRC /dev/null` must not replace /dev/null).
// - a directory: refused (EISDIR) by the constructor, before any work.
// Layer: base. Not thread-safe.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "base/unique_fd.h"

namespace cfs {

class OutputFile {
 public:
  explicit OutputFile(const std::string& path);  // throws Error
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;
  ~OutputFile();

  // Appends `data` (throws Error). A temporary file's writeback starts at once, so that
  // commit()'s fsync finds little left to wait for.
  void write(std::span<const std::byte> data);
  // The hidden temporary file's name, for a signal handler to remove (it exists only where
  // O_TMPFILE is unsupported, and briefly during commit).
  const std::string& temp_path() const noexcept { return tmp_path_; }
  void commit();

 private:
  enum class Kind { kStdout, kThrough, kReplace, kInPlace };
  void open_temp(const std::string& dir);
  void start_writeback();

  Kind kind_ = Kind::kReplace;
  std::string final_;    // the name replaced (symlinks resolved), or written in place
  std::string tmp_path_;
  UniqueFd fd_;          // what write() appends to
  UniqueFd in_place_;    // kInPlace: the destination, opened for writing up front
  std::uint32_t keep_mode_ = 0;  // kReplace over an existing file: its mode, uid, gid
  std::int64_t keep_uid_ = -1, keep_gid_ = -1;
  std::uint64_t written_ = 0;
  std::uint64_t started_ = 0;  // writeback started for [0, started_)
  bool unnamed_ = false;  // O_TMPFILE: no name until commit
  bool named_ = false;    // tmp_path_ exists and must be removed on failure
  bool committed_ = false;
};

}  // namespace cfs
