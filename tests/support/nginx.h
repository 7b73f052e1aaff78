// Debian's nginx, run by a test on 127.0.0.1 on a free port, serving a directory (a repository
// as a mirror), with its config, logs and temporary files in a scratch directory; stopped when
// the fixture goes.
#pragma once

#include <filesystem>
#include <string>

#include "support/server_process.h"

namespace cfs::test {

class Nginx {
 public:
  // Throws std::runtime_error when nginx does not listen within 20 s. `tls`: HTTPS with a
  // self-signed certificate made for the run (which no client trusts).
  Nginx(const std::filesystem::path& scratch, const std::filesystem::path& root, bool tls = false);
  std::string url() const { return (tls_ ? "https" : "http") + std::string("://127.0.0.1:") + std::to_string(port_) + "/"; }
  std::string access_log() const;
  void stop() { process_.stop(); }

  static bool available();

 private:
  std::filesystem::path scratch_;
  int port_ = 0;
  bool tls_ = false;
  ServerProcess process_;
};

}  // namespace cfs::test
