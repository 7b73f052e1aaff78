#include "repo/layout.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstring>

#include "base/error.h"

namespace cfs::repo {

std::vector<std::string> dir_entries(int dir_fd, const std::string& dir) {
  std::vector<std::string> out;
  int fd = ::openat(dir_fd, dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    if (errno == ENOENT) return out;
    throw_errno(errno, dir);
  }
  DIR* d = ::fdopendir(fd);
  if (d == nullptr) {
    ::close(fd);
    throw_errno(errno, dir);
  }
  for (dirent* e; (e = ::readdir(d)) != nullptr;) {
    if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) out.emplace_back(e->d_name);
  }
  ::closedir(d);
  return out;
}

std::string link_text(int dir_fd, const std::string& path) {
  char buf[4096];
  ssize_t n = ::readlinkat(dir_fd, path.c_str(), buf, sizeof buf);
  if (n < 0) throw_errno(errno, path);
  return std::string(buf, static_cast<std::size_t>(n));
}

std::string object_of_link(const std::string& text) {
  std::size_t last = text.rfind('/');
  std::size_t prev = last == std::string::npos || last == 0 ? std::string::npos : text.rfind('/', last - 1);
  return prev == std::string::npos ? text : text.substr(prev + 1);
}

}  // namespace cfs::repo
