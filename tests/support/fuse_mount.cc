#include "support/fuse_mount.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "support/fs_compare.h"
#include "support/support.h"

namespace cfs::test {

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
