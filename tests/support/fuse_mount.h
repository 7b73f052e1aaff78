// A foreground composefs-fuse started by a test, unmounted and reaped by the destructor.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

namespace cfs::test {

class FuseMount {
 public:
  // `extra`: more -o options; `as_user`: run it as that user (setpriv); `wrapper`: a command
  // that execs the server (its pid stays the server's), e.g. prlimit; `log`: its stderr goes
  // there (else the test's). Waits up to 5 s for the mount.
  FuseMount(const std::filesystem::path& image, const std::string& basedir, const std::filesystem::path& mnt,
            const std::vector<std::string>& extra = {}, const std::string& as_user = "",
            const std::vector<std::string>& wrapper = {}, const std::filesystem::path& log = {});
  ~FuseMount() { stop(); }
  FuseMount(const FuseMount&) = delete;
  FuseMount& operator=(const FuseMount&) = delete;

  bool ok() const;
  pid_t pid() const { return pid_; }
  // Unmounts; returns the server's exit status (a server that does not end within 10 s of its
  // unmount is killed, and the test fails).
  int stop();

 private:
  std::filesystem::path mnt_;
  std::string user_;
  pid_t pid_ = -1;
  int status_ = -1;
};

}  // namespace cfs::test
