#include "store/beneath.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "base/error.h"

namespace cfs::store {
namespace {

// openat2 beneath `dir_fd` with `flags` (O_PATH: a lookup that opens nothing for I/O).
UniqueFd lookup_beneath(int dir_fd, std::string_view path, std::uint64_t flags) {
  std::string p(path);
  if (p.empty() || p.find('\0') != std::string::npos) throw Error(EINVAL, "refused: an empty path");
  for (std::size_t pos = 0; pos <= p.size();) {  // ".." is refused even where it stays inside
    std::size_t slash = std::min(p.find('/', pos), p.size());
    if (p.compare(pos, slash - pos, "..") == 0 && slash - pos == 2) {
      throw Error(EXDEV, "refused: \"..\" in " + p);
    }
    pos = slash + 1;
  }
  open_how how{};
  how.flags = flags | O_CLOEXEC | O_NOFOLLOW;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  for (;;) {
    long fd = ::syscall(SYS_openat2, dir_fd, p.c_str(), &how, sizeof how);
    if (fd >= 0) return UniqueFd(static_cast<int>(fd));
    int err = errno;
    if (err == EINTR || err == EAGAIN) continue;  // EAGAIN: a rename raced the lookup
    if (err == ENOENT) return UniqueFd();
    if (err == EXDEV) throw Error(err, "refused: " + p + " leaves the directory");
    struct stat st {};
    bool is_link = err == ENOTDIR && ::fstatat(dir_fd, p.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode);
    if (err == ELOOP || is_link) throw Error(ELOOP, "refused: " + p + " goes through a symlink");
    if (err == ENOTDIR && (flags & O_DIRECTORY)) throw Error(err, "refused: " + p + " is not a directory");
    throw_errno(err);
  }
}

// `fd`, found at `path`, must be a regular file: a FIFO or device an image points at is
// refused (Error EIO).
void require_regular(int fd, std::string_view path) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) throw_errno(errno);
  if (!S_ISREG(st.st_mode)) throw Error(EIO, "refused: " + std::string(path) + " is not a regular file");
}

}  // namespace

UniqueFd open_regular_beneath(int dir_fd, std::string_view path) {
  UniqueFd found = lookup_beneath(dir_fd, path, O_PATH);
  if (!found) return found;
  require_regular(found.get(), path);
  // Reopen the very inode found (the O_PATH fd pins it) for reading.
  std::string proc = "/proc/self/fd/" + std::to_string(found.get());
  UniqueFd fd(::open(proc.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
  if (!fd) throw_errno(errno);
  return fd;
}

UniqueFd open_scanned_file_beneath(int dir_fd, std::string_view path) {
  UniqueFd fd = lookup_beneath(dir_fd, path, O_RDONLY | O_NONBLOCK | O_NOCTTY);
  if (fd) require_regular(fd.get(), path);
  return fd;
}

bool has_regular_beneath(int dir_fd, std::string_view path) {
  UniqueFd found;
  try {
    found = lookup_beneath(dir_fd, path, O_PATH);
  } catch (const Error& e) {
    if (e.code() == EXDEV || e.code() == ELOOP || e.code() == EINVAL || e.code() == ENOTDIR) return false;
    throw;
  }
  struct stat st {};
  if (found && ::fstat(found.get(), &st) != 0) throw_errno(errno, std::string(path));
  return found && S_ISREG(st.st_mode);
}

UniqueFd open_dir_beneath(int dir_fd, std::string_view path) {
  return lookup_beneath(dir_fd, path, O_PATH | O_DIRECTORY);
}

}  // namespace cfs::store
