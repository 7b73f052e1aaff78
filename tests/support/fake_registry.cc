#include "support/fake_registry.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>

extern char** environ;

namespace cfs::test {

FakeRegistry::FakeRegistry(const std::filesystem::path& layout, const std::string& fault, const std::vector<std::string>& extra) {
  int out[2];
  EXPECT_EQ(::pipe2(out, O_CLOEXEC), 0);
  std::vector<std::string> args = {"python3", (std::filesystem::path(CFS_SOURCE_DIR) / "tests" / "integration" / "fake_registry.py").string(),
                                   "--layout", layout.string(), "--fault", fault};
  args.insert(args.end(), extra.begin(), extra.end());
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  ::posix_spawnp(&pid_, "python3", &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  ::close(out[1]);
  std::string line;  // up to the newline: unbuffered (PYTHONUNBUFFERED=1), it comes in a later write
  char c;
  while (line.size() < 16 && ::read(out[0], &c, 1) == 1 && c != '\n') line += c;
  ::close(out[0]);
  port_ = std::atoi(line.c_str());
}

FakeRegistry::~FakeRegistry() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
}

}  // namespace cfs::test
