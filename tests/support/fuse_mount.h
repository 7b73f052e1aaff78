// A foreground composefs-fuse started by a test, unmounted and reaped by the destructor.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <optional>
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

// The fuse module's enable_uring parameter, set for as long as this lives and given back its
// old value after (it decides only what new mounts may ask for). exists(): the kernel has the
// parameter (FUSE over io_uring, Linux 6.14+); set(): it now says what was asked.
class UringParameter {
 public:
  explicit UringParameter(bool on);
  ~UringParameter();
  UringParameter(const UringParameter&) = delete;
  UringParameter& operator=(const UringParameter&) = delete;
  bool exists() const { return old_.has_value(); }
  bool set() const { return set_; }

 private:
  std::optional<char> old_;
  bool set_ = false;
};

// Under CFS_FUSE_URING=on (ctest's Uring.* runs of the FUSE suites) every composefs-fuse a test
// starts serves over io_uring: the parameter is on while the tests run.
bool uring_forced();

}  // namespace cfs::test
