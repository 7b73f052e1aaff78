#include "support/fuse_mount.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <optional>
#include <string>
#include <thread>

#include "support/fs_compare.h"
#include "support/support.h"

namespace cfs::test {

namespace {

constexpr const char* kEnableUring = "/sys/module/fuse/parameters/enable_uring";

std::optional<char> read_parameter() {
  int fd = ::open(kEnableUring, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  char c = 'N';
  if (::read(fd, &c, 1) != 1) c = 'N';
  ::close(fd);
  return c;
}

bool write_parameter(char c) {
  int fd = ::open(kEnableUring, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool ok = ::write(fd, &c, 1) == 1;
  ::close(fd);
  return ok;
}

// Sets the parameter for the whole run when CFS_FUSE_URING=on; skips every test where the
// kernel lacks FUSE over io_uring (and fails them under CI=true only where it has it but it
// cannot be set).
class ForcedUring : public ::testing::Environment {
 public:
  void SetUp() override {
    parameter_.emplace(true);
    if (!parameter_->exists()) GTEST_SKIP() << "CFS_FUSE_URING=on: the kernel has no FUSE over io_uring";
    if (!parameter_->set()) {
      if (in_ci()) FAIL() << "CFS_FUSE_URING=on: cannot set " << kEnableUring;
      GTEST_SKIP() << "CFS_FUSE_URING=on: cannot set " << kEnableUring << " (not root?)";
    }
  }
  void TearDown() override { parameter_.reset(); }

 private:
  std::optional<UringParameter> parameter_;
};

[[maybe_unused]] ::testing::Environment* const forced_uring =
    uring_forced() ? ::testing::AddGlobalTestEnvironment(new ForcedUring) : nullptr;

}  // namespace

bool uring_forced() {
  const char* v = std::getenv("CFS_FUSE_URING");
  return v != nullptr && std::string(v) == "on";
}

UringParameter::UringParameter(bool on) : old_(read_parameter()) {
  if (old_) set_ = write_parameter(on ? '1' : '0');
}

UringParameter::~UringParameter() {
  if (old_) write_parameter(*old_ == 'Y' || *old_ == '1' ? '1' : '0');
}

FuseMount::FuseMount(const std::filesystem::path& image, const std::string& basedir, const std::filesystem::path& mnt,
                     const std::vector<std::string>& extra, const std::string& as_user,
                     const std::vector<std::string>& wrapper, const std::filesystem::path& log)
    : mnt_(mnt), user_(as_user) {
  std::vector<std::string> args = wrapper;
  if (!as_user.empty()) args.insert(args.end(), {"setpriv", "--reuid=" + as_user, "--regid=" + as_user, "--clear-groups"});
  fs::path server = as_user.empty() ? tool("composefs-fuse") : tool_for_anyone("composefs-fuse");
  args.insert(args.end(), {server.string(), "-f", "-o", "source=" + image.string() + ",basedir=" + basedir});
  for (const auto& e : extra) args.insert(args.end(), {"-o", e});
  args.push_back(mnt.string());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  if (!log.empty()) posix_spawn_file_actions_addopen(&fa, 2, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (posix_spawnp(&pid_, argv[0], &fa, nullptr, argv.data(), environ) != 0) pid_ = -1;
  posix_spawn_file_actions_destroy(&fa);
  for (int i = 0; i < 500 && pid_ > 0 && !is_mounted(mnt); ++i) {
    if (::waitpid(pid_, &status_, WNOHANG) == pid_) {  // it failed: nothing to unmount
      pid_ = -1;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

bool FuseMount::ok() const { return pid_ > 0 && is_mounted(mnt_); }

int FuseMount::stop() {
  if (pid_ <= 0) return status_;
  if (is_mounted(mnt_)) {
    if (user_.empty()) {
      ::umount2(mnt_.c_str(), MNT_DETACH);
    } else {
      run({"setpriv", "--reuid=" + user_, "--regid=" + user_, "--clear-groups", "fusermount3", "-u", mnt_.string()});
    }
  }
  int st = 0;
  bool ended = false;
  for (int i = 0; i < 1000 && !ended; ++i) {
    ended = ::waitpid(pid_, &st, WNOHANG) == pid_;
    if (!ended) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (!ended) {
    ADD_FAILURE() << "composefs-fuse did not exit within 10 s of its unmount";
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, &st, 0);
  }
  pid_ = -1;
  status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  return status_;
}

}  // namespace cfs::test
