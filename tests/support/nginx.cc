#include "support/nginx.h"

#include <unistd.h>

#include "support/support.h"

namespace cfs::test {

bool Nginx::available() { return ::access("/usr/sbin/nginx", X_OK) == 0; }

Nginx::Nginx(const std::filesystem::path& scratch, const std::filesystem::path& root) : scratch_(scratch) {
  std::filesystem::create_directories(scratch / "tmp");
  port_ = free_port();
  std::string s = scratch.string();
  // Workers run as root when the test does: a repository is private to its owner (0700).
  write_file(scratch / "nginx.conf",
             std::string(::geteuid() == 0 ? "user root root;\n" : "") + "daemon off;\nworker_processes 2;\npid " + s +
                 "/nginx.pid;\nerror_log " + s + "/error.log;\nevents {}\nhttp {\n  access_log " + s +
                 "/access.log;\n  client_body_temp_path " + s + "/tmp;\n  proxy_temp_path " + s +
                 "/tmp;\n  fastcgi_temp_path " + s + "/tmp;\n  uwsgi_temp_path " + s + "/tmp;\n  scgi_temp_path " + s +
                 "/tmp;\n  default_type application/octet-stream;\n  sendfile on;\n  server {\n    listen 127.0.0.1:" +
                 std::to_string(port_) + ";\n    root " + root.string() + ";\n  }\n}\n");
  process_ = ServerProcess({"/usr/sbin/nginx", "-c", s + "/nginx.conf", "-p", s}, port_, scratch / "server.log");
}

std::string Nginx::access_log() const { return read_file(scratch_ / "access.log"); }

}  // namespace cfs::test
