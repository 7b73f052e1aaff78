#include "support/registry.h"

#include <unistd.h>

#include <stdexcept>

#include "support/support.h"

namespace cfs::test {

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
  process_ = ServerProcess({"/usr/bin/docker-registry", "serve", (dir / "config.yml").string()},
                           std::stoi(host_.substr(10)), dir / "registry.log");
}

LocalRegistry::~LocalRegistry() = default;

std::string LocalRegistry::log() const { return read_file(dir_ / "registry.log"); }

}  // namespace cfs::test
