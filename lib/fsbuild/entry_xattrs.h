// The xattrs of one directory entry, read without following symlinks and without opening the
// entry: listxattrat/getxattrat (Linux 6.13) by name in its directory, else, on older kernels,
// through an O_PATH fd and /proc/self/fd/N (which reaches symlinks themselves). Layer: fsbuild.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "base/unique_fd.h"

namespace cfs::fsbuild {

class EntryXattrs {
 public:
  // `name` in directory `dir_fd`; name == nullptr: `dir_fd` is the entry itself.
  EntryXattrs(int dir_fd, const char* name);

  // Its xattr names; none where the filesystem has no xattrs. Throws Error.
  std::vector<std::string> names();
  // The value of `key`; nullopt when it is not there (removed meanwhile, or a user.* xattr
  // a symlink cannot have). Throws Error.
  std::optional<std::string> value(const std::string& key);

 private:
  // As listxattr(2) and getxattr(2): a length, or -1 with errno set (also when the
  // fallback cannot open the entry).
  ssize_t list(char* buf, std::size_t size);
  ssize_t get(const char* key, char* buf, std::size_t size);
  bool use_xattrat() const;
  const char* proc_path();  // opens the fallback's O_PATH fd; nullptr with errno on failure

  int dir_fd_;
  const char* name_;
  UniqueFd path_fd_;  // fallback only
  std::string proc_;  // fallback only: /proc/self/fd/N
};

}  // namespace cfs::fsbuild
