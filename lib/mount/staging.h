// A staging area: a private tmpfs on a new directory, where a tree of mounts is put together
// before it is moved into place, so that a failure halfway leaves nothing mounted anywhere
// else. Layer: mount. Not thread-safe; one owner.
#pragma once

#include <sys/types.h>

#include <string>

namespace cfs::mount {

class Staging {
 public:
  // A directory "<parent>/<prefix>.XXXXXX" with a private tmpfs on it. Error if either fails
  // (the directory removed again).
  Staging(const std::string& parent, const std::string& prefix);
  // Detaches whatever is still mounted inside, then the tmpfs, and removes the directory.
  ~Staging();
  Staging(const Staging&) = delete;
  Staging& operator=(const Staging&) = delete;

  const std::string& path() const { return path_; }
  // path()/name, made as a directory with `mode`.
  std::string make_dir(const std::string& name, mode_t mode = 0755) const;

 private:
  std::string path_;
  bool mounted_ = false;
};

}  // namespace cfs::mount
