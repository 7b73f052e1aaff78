// A tmpfs of a given size mounted by a test (root only), unmounted by the destructor: a
// filesystem that fills up on cue.
#pragma once

#include <sys/mount.h>

#include <filesystem>
#include <string>

namespace cfs::test {

class Tmpfs {
 public:
  Tmpfs(const std::filesystem::path& dir, const std::string& size) : dir_(dir) {
    std::filesystem::create_directories(dir);
    ok_ = ::mount("tmpfs", dir.c_str(), "tmpfs", 0, ("size=" + size).c_str()) == 0;
  }
  ~Tmpfs() {
    if (ok_) ::umount2(dir_.c_str(), MNT_DETACH);
  }
  Tmpfs(const Tmpfs&) = delete;
  Tmpfs& operator=(const Tmpfs&) = delete;
  bool ok() const { return ok_; }

 private:
  std::filesystem::path dir_;
  bool ok_;
};

}  // namespace cfs::test
