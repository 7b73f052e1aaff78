// A server a test starts (nginx, docker-registry, a fault-injecting Python server): spawned with
// its output in a log file, waited for until it accepts connections on 127.0.0.1:PORT, stopped
// (SIGTERM, then SIGKILL after 5 s) and reaped when destroyed.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

namespace cfs::test {

class ServerProcess {
 public:
  ServerProcess() = default;
  // Throws std::runtime_error (with the log) when it does not listen within 20 s.
  ServerProcess(const std::vector<std::string>& argv, int port, const std::filesystem::path& log);
  ~ServerProcess() { stop(); }
  ServerProcess(ServerProcess&& o) noexcept : pid_(o.pid_) { o.pid_ = -1; }
  ServerProcess& operator=(ServerProcess&& o) noexcept;

  void stop();  // SIGTERM, then SIGKILL
  void kill();  // SIGKILL now (a server dying mid-transfer)
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
};

int free_port();
bool accepts_connections(int port);  // something listens on 127.0.0.1:port

}  // namespace cfs::test
