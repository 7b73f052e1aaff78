#include "support/nginx.h"

#include <unistd.h>

#include <stdexcept>

#include "support/support.h"

namespace cfs::test {

bool Nginx::available() { return ::access("/usr/sbin/nginx", X_OK) == 0; }

Nginx::Nginx(const std::filesystem::path& scratch, const std::filesystem::path& root, bool tls)
    : scratch_(scratch), tls_(tls) {
  std::filesystem::create_directories(scratch / "tmp");
  port_ = free_port();
  std::string s = scratch.string();
  std::string listen = std::to_string(port_);
  if (tls) {
    Run r = run({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-days", "1",
                 "-keyout", s + "/key.pem", "-out", s + "/cert.pem"});
    if (r.status != 0) throw std::runtime_error("openssl req: " + r.err);
    listen += " ssl;\n    ssl_certificate " + s + "/cert.pem;\n    ssl_certificate_key " + s + "/key.pem";
  }
  // Workers run as root when the test does: a repository is private to its owner (0700).
  write_file(scratch / "nginx.conf",
             std::string(::geteuid() == 0 ? "user root root;\n" : "") + "daemon off;\nworker_processes 2;\npid " + s +
                 "/nginx.pid;\nerror_log " + s + "/error.log;\nevents {}\nhttp {\n  access_log " + s +
                 "/access.log;\n  client_body_temp_path " + s + "/tmp;\n  proxy_temp_path " + s +
                 "/tmp;\n  fastcgi_temp_path " + s + "/tmp;\n  uwsgi_temp_path " + s + "/tmp;\n  scgi_temp_path " + s +
                 "/tmp;\n  default_type application/octet-stream;\n  sendfile on;\n  server {\n    listen 127.0.0.1:" +
                 listen + ";\n    root " + root.string() + ";\n  }\n}\n");
  process_ = ServerProcess({"/usr/sbin/nginx", "-c", s + "/nginx.conf", "-p", s}, port_, scratch / "server.log");
}

std::string Nginx::access_log() const { return read_file(scratch_ / "access.log"); }

}  // namespace cfs::test
