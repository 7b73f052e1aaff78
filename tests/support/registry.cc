#include "support/registry.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <stdexcept>
#include <thread>

#include "support/support.h"

extern char** environ;

namespace cfs::test {

int free_port() {
  int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(s);
  return ntohs(a.sin_port);
}

bool LocalRegistry::available() {
  for (const char* p : {"/usr/bin/docker-registry", "/usr/bin/skopeo", "/usr/bin/umoci", "/usr/bin/htpasswd"}) {
    if (::access(p, X_OK) != 0) return false;
  }
  return true;
}

LocalRegistry::LocalRegistry(const std::filesystem::path& dir, const std::string& user, const std::string& password)
    : dir_(dir) {
  std::filesystem::create_directories(dir / "data");
  host_ = "127.0.0.1:" + std::to_string(free_port());
  std::string config = "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: false\n"
                       "storage:\n  filesystem:\n    rootdirectory: " + (dir / "data").string() +
                       "\n  delete:\n    enabled: true\nhttp:\n  addr: " + host_ + "\n";
  if (!user.empty()) {
    Run h = run({"htpasswd", "-Bbn", user, password});
    if (h.status != 0) throw std::runtime_error("htpasswd: " + h.err);
    write_file(dir / "htpasswd", h.out);
    config += "auth:\n  htpasswd:\n    realm: test-realm\n    path: " + (dir / "htpasswd").string() + "\n";
  }
  write_file(dir / "config.yml", config);
  conf_ = dir / "registries.conf";
  write_file(conf_, "[[registry]]\nlocation = \"" + host_ + "\"\ninsecure = true\n");
  std::string log = (dir / "registry.log").string();
  std::vector<std::string> args = {"/usr/bin/docker-registry", "serve", (dir / "config.yml").string()};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  int rc = ::posix_spawn(&pid_, argv[0], &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) throw std::runtime_error("cannot start docker-registry");
  for (int i = 0; i < 200; ++i) {  // listening: it answers
    int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<std::uint16_t>(std::stoi(host_.substr(10))));
    bool up = ::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    ::close(s);
    if (up) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  this->~LocalRegistry();
  throw std::runtime_error("docker-registry did not answer on " + host_ + ": " + read_file(log));
}

LocalRegistry::~LocalRegistry() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  for (int i = 0; i < 50; ++i) {
    int status;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

std::string LocalRegistry::log() const { return read_file(dir_ / "registry.log"); }

}  // namespace cfs::test
