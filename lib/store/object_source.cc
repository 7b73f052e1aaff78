#include "store/object_source.h"

#include <fcntl.h>

#include <cerrno>

#include "base/error.h"
#include "store/beneath.h"

namespace cfs::store {

DirectorySource::DirectorySource(const std::vector<std::string>& dirs) {
  for (const std::string& d : dirs) {
    UniqueFd fd(::open(d.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!fd) throw_errno(errno, d);
    dirs_.push_back(std::move(fd));
  }
}

UniqueFd DirectorySource::open(std::string_view object) const {
  for (const UniqueFd& dir : dirs_) {
    // A refused entry throws: it is not passed over in favour of a later directory.
    if (UniqueFd fd = open_regular_beneath(dir.get(), object)) return fd;
  }
  throw Error(ENOENT, "No such file or directory");
}

}  // namespace cfs::store
