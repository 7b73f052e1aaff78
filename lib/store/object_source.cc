#include "store/object_source.h"

#include <fcntl.h>

#include <cerrno>

#include "base/error.h"

namespace cfs::store {

DirectorySource::DirectorySource(const std::vector<std::string>& dirs) {
  for (const std::string& d : dirs) {
    UniqueFd fd(::open(d.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!fd) throw_errno(errno, d);
    dirs_.push_back(std::move(fd));
  }
}

UniqueFd DirectorySource::open(const std::string& path) const {
  std::size_t start = path.find_first_not_of('/');
  if (start == std::string::npos) {
    errno = ENOENT;
    return UniqueFd();
  }
  const char* rel = path.c_str() + start;
  int last_errno = ENOENT;
  for (const UniqueFd& dir : dirs_) {
    UniqueFd fd(::openat(dir.get(), rel, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC));
    if (fd) return fd;
    if (errno != ENOENT) last_errno = errno;
  }
  errno = last_errno;
  return UniqueFd();
}

}  // namespace cfs::store
