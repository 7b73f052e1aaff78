#include "store/object_source.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>

#include "base/error.h"
#include "store/beneath.h"

namespace cfs::store {

UniqueFd open_object_beneath(int dir_fd, const ObjectRef& ref) {
  UniqueFd fd = open_regular_beneath(dir_fd, ref.path);
  if (!fd) return fd;
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) throw_errno(errno);
  if (static_cast<std::uint64_t>(st.st_size) != ref.size) {
    throw Error(EIO, "size " + std::to_string(st.st_size) + " differs from " + std::to_string(ref.size));
  }
  return fd;
}

ResolvedObject ObjectSource::resolve(const ObjectRef& ref) const {
  return {ResolvedObject::Where::kLocal, open(ref), nullptr};
}

DirectorySource::DirectorySource(const std::vector<std::string>& dirs) {
  for (const std::string& d : dirs) {
    UniqueFd fd(::open(d.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!fd) throw_errno(errno, d);
    dirs_.push_back(std::move(fd));
  }
}

OpenedObject DirectorySource::open(const ObjectRef& ref) const {
  for (const UniqueFd& dir : dirs_) {
    // A refused entry throws: it is not passed over in favour of a later directory.
    if (UniqueFd fd = open_object_beneath(dir.get(), ref)) return {std::move(fd), false};
  }
  throw Error(ENOENT, "No such file or directory");
}

bool DirectorySource::has(const ObjectRef& ref) const {
  try {
    for (const UniqueFd& dir : dirs_) {
      if (open_object_beneath(dir.get(), ref)) return true;
    }
    return false;
  } catch (const Error&) {
    return true;
  }
}

}  // namespace cfs::store
