#include "boot/policy_reader.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/error.h"
#include "base/file_io.h"

namespace cfs::boot {
namespace {

// The components of a relative path; "." and ".." refused (composefs-rs: InvalidFilename).
std::vector<std::string_view> components(std::string_view path) {
  const std::string whole(path);
  std::vector<std::string_view> out;
  while (!path.empty()) {
    std::size_t slash = std::min(path.find('/'), path.size());
    std::string_view part = path.substr(0, slash);
    path.remove_prefix(std::min(slash + 1, path.size()));
    if (part.empty()) continue;
    if (part == "." || part == "..")
      throw Error(EINVAL, "invalid file name in policy path " + whole);
    out.push_back(part);
  }
  return out;
}

// openat2 with `root` as "/"; an invalid fd when the file does not exist.
UniqueFd open_in_root(int root, const std::string& path, std::uint64_t flags) {
  open_how how{};
  how.flags = flags | O_CLOEXEC;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  for (;;) {
    long fd = ::syscall(SYS_openat2, root, path.c_str(), &how, sizeof how);
    if (fd >= 0) return UniqueFd(static_cast<int>(fd));
    if (errno == EINTR || errno == EAGAIN) continue;
    if (errno == ENOENT) return UniqueFd();
    throw_errno(errno, "/" + path);
  }
}

}  // namespace

bool TreePolicyReader::has_etc_selinux() {
  const tree::Node* n = tree_.root();
  std::string path;
  for (std::string_view part : {"etc", "selinux"}) {
    path += "/" + std::string(part);
    n = n->find_child(part);
    if (n == nullptr) return false;
    if (!n->is_dir()) throw Error(ENOTDIR, path + " is not a directory");
  }
  return true;
}

std::optional<std::string> TreePolicyReader::read(const std::string& dir, const std::string& name) {
  const tree::Node* n = tree_.root()->find_child("etc")->find_child("selinux");
  std::string path = "/etc/selinux";
  for (std::string_view part : components(dir)) {
    path += "/" + std::string(part);
    n = n->find_child(part);
    if (n == nullptr) throw Error(ENOENT, path + " not found");
    if (!n->is_dir()) throw Error(ENOTDIR, path + " is not a directory");
  }
  path += "/" + name;
  const tree::Node* file = n->find_child(name);
  if (file == nullptr) return std::nullopt;
  file = file->resolve();
  if (file == nullptr) throw Error(ELOOP, path + ": hard-link loop");
  if (file->is_dir()) throw Error(EISDIR, path + " is a directory");
  if (file->type() != S_IFREG) throw Error(EINVAL, path + " is not a regular file");
  if (!file->content.empty() || file->size == 0) return std::string(file->content);
  if (!file->digest) throw Error(ENOENT, path + ": the tree holds neither its data nor its digest");
  return with_context(path, [&] { return read_object_(*file->digest); });
}

bool DirPolicyReader::has_etc_selinux() {
  UniqueFd fd = open_in_root(root_fd_, "etc/selinux", O_RDONLY | O_DIRECTORY);
  return fd.get() >= 0;
}

std::optional<std::string> DirPolicyReader::read(const std::string& dir, const std::string& name) {
  std::string path = "etc/selinux/";
  for (std::string_view part : components(dir)) path += std::string(part) + "/";
  path += name;
  UniqueFd fd = open_in_root(root_fd_, path, O_RDONLY);
  if (fd.get() < 0) return std::nullopt;
  std::vector<std::byte> bytes = with_context("/" + path, [&] { return read_all(fd.get()); });
  return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

}  // namespace cfs::boot
