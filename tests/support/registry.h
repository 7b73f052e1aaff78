// Debian's docker-registry (the CNCF distribution registry) run by a test on 127.0.0.1 on a free
// port, with its storage, config, optional htpasswd users and access log in a temporary
// directory, stopped (SIGTERM, then SIGKILL) when the fixture goes. Plus the files that make
// clients trust it as plain HTTP: a registries.conf declaring it insecure, and an auth file.
#pragma once

#include <filesystem>
#include <string>

#include "support/server_process.h"

namespace cfs::test {

class LocalRegistry {
 public:
  // `user`/`password` non-empty: htpasswd (bcrypt) auth. Throws std::runtime_error when the
  // registry does not answer within 20 s.
  LocalRegistry(const std::filesystem::path& dir, const std::string& user = "", const std::string& password = "");
  ~LocalRegistry();
  LocalRegistry(const LocalRegistry&) = delete;
  LocalRegistry& operator=(const LocalRegistry&) = delete;

  const std::string& host() const { return host_; }  // "127.0.0.1:PORT"
  std::string log() const;                            // what the registry wrote (access log lines)
  // A registries.conf marking this registry insecure (for CONTAINERS_REGISTRIES_CONF).
  const std::filesystem::path& registries_conf() const { return conf_; }

  static bool available();  // docker-registry, skopeo, umoci, htpasswd installed

 private:
  std::filesystem::path dir_, conf_;
  std::string host_;
  ServerProcess process_;
};

}  // namespace cfs::test
