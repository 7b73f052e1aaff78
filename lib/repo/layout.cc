#include "repo/layout.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "base/error.h"
#include "store/beneath.h"

namespace cfs::repo {
namespace {

std::vector<std::string> components(std::string_view path) {
  std::vector<std::string> parts;
  for (std::size_t pos = 0; pos <= path.size();) {
    std::size_t slash = std::min(path.find('/', pos), path.size());
    if (slash > pos) parts.emplace_back(path.substr(pos, slash - pos));
    pos = slash + 1;
  }
  return parts;
}

}  // namespace

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

UniqueFd open_repo_file(int repo_fd, const std::string& path) { return store::open_regular_beneath(repo_fd, path); }

bool has_repo_file(int repo_fd, const std::string& path) { return store::has_regular_beneath(repo_fd, path); }

std::string link_text_to(const std::string& link, const std::string& target) {
  std::vector<std::string> from = components(link), to = components(target);
  from.pop_back();  // the link's own name
  std::size_t common = 0;
  while (common < from.size() && common < to.size() && from[common] == to[common]) ++common;
  std::string out;
  for (std::size_t i = common; i < from.size(); ++i) out += "../";
  for (std::size_t i = common; i < to.size(); ++i) out += to[i] + (i + 1 < to.size() ? "/" : "");
  return out;
}

std::optional<Digest> linked_object(std::string_view text, HashAlgorithm algorithm) {
  constexpr std::string_view kPrefix = "../objects/";
  if (!text.starts_with(kPrefix) || text.size() < kPrefix.size() + 3 || text[kPrefix.size() + 2] != '/') return std::nullopt;
  std::string hex = std::string(text.substr(kPrefix.size(), 2)) + std::string(text.substr(kPrefix.size() + 3));
  std::optional<Digest> d = parse_hex_digest(hex, algorithm);
  if (!d || to_hex(*d) != hex) return std::nullopt;  // lowercase only, as the object is named
  return d;
}

void check_ref_path(std::string_view ref) {
  for (std::size_t pos = 0; pos <= ref.size();) {
    std::size_t slash = std::min(ref.find('/', pos), ref.size());
    std::string_view part = ref.substr(pos, slash - pos);
    if (part.empty() || part == "." || part == "..") {
      throw Error(EINVAL, "invalid name '" + std::string(ref) + "': a ref has no empty, '.' or '..' component");
    }
    pos = slash + 1;
  }
}

std::optional<std::string> ref_entry(std::string_view ref, std::string_view text) {
  std::string prefix;
  for (std::size_t i = 0; i < components(ref).size(); ++i) prefix += "../";
  if (!text.starts_with(prefix)) return std::nullopt;
  std::string_view name = text.substr(prefix.size());
  if (name.empty() || name == "." || name == ".." || name.find('/') != std::string_view::npos) return std::nullopt;
  return std::string(name);
}

}  // namespace cfs::repo
