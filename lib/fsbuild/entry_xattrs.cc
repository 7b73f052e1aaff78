#include "fsbuild/entry_xattrs.h"

#include <fcntl.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>

#include "base/error.h"
#include "format/composefs.h"

namespace cfs::fsbuild {
namespace {

// Debian 12's headers predate these system calls (x86-64 and arm64 share the numbers).
constexpr long kGetxattrat = 464;
constexpr long kListxattrat = 465;
struct XattrArgs {  // struct xattr_args
  std::uint64_t value;
  std::uint32_t size;
  std::uint32_t flags;
};

// Cleared at the first sign that the kernel (or a seccomp filter) lacks the *at calls.
std::atomic<bool> have_xattrat{true};

// listxattr never fails with EPERM by itself: a seccomp filter that does not know the call.
bool missing_syscall(ssize_t rc, bool eperm_too) {
  return rc < 0 && (errno == ENOSYS || (eperm_too && errno == EPERM));
}

}  // namespace

EntryXattrs::EntryXattrs(int dir_fd, const char* name) : dir_fd_(dir_fd), name_(name) {}

bool EntryXattrs::use_xattrat() const { return name_ != nullptr && !path_fd_ && have_xattrat; }

const char* EntryXattrs::proc_path() {
  if (!path_fd_) {
    path_fd_.reset(::openat(dir_fd_, name_, O_PATH | O_NOFOLLOW | O_CLOEXEC));
    if (!path_fd_) return nullptr;
    proc_ = "/proc/self/fd/" + std::to_string(path_fd_.get());
  }
  return proc_.c_str();
}

ssize_t EntryXattrs::list(char* buf, std::size_t size) {
  if (name_ == nullptr) return ::flistxattr(dir_fd_, buf, size);
  if (use_xattrat()) {
    ssize_t rc = ::syscall(kListxattrat, dir_fd_, name_, AT_SYMLINK_NOFOLLOW, buf, size);
    if (!missing_syscall(rc, true)) return rc;
    have_xattrat = false;
  }
  const char* proc = proc_path();
  return proc == nullptr ? -1 : ::listxattr(proc, buf, size);
}

ssize_t EntryXattrs::get(const char* key, char* buf, std::size_t size) {
  if (name_ == nullptr) return ::fgetxattr(dir_fd_, key, buf, size);
  if (use_xattrat()) {
    XattrArgs args{reinterpret_cast<std::uintptr_t>(buf), static_cast<std::uint32_t>(size), 0};
    ssize_t rc = ::syscall(kGetxattrat, dir_fd_, name_, AT_SYMLINK_NOFOLLOW, key, &args, sizeof args);
    if (!missing_syscall(rc, false)) return rc;
    have_xattrat = false;
  }
  const char* proc = proc_path();
  return proc == nullptr ? -1 : ::getxattr(proc, key, buf, size);
}

std::vector<std::string> EntryXattrs::names() {
  std::vector<char> buf(4096);
  ssize_t len;
  while ((len = list(buf.data(), buf.size())) < 0 && errno == ERANGE) buf.resize(buf.size() * 4);
  if (len < 0 && errno == ENOTSUP) return {};
  if (len < 0) throw_errno(errno);
  std::vector<std::string> names;
  for (ssize_t i = 0; i < len; i += static_cast<ssize_t>(names.back().size()) + 1) {
    names.emplace_back(buf.data() + i, strnlen(buf.data() + i, static_cast<std::size_t>(len - i)));
  }
  return names;
}

std::optional<std::string> EntryXattrs::value(const std::string& key) {
  std::string value(256, '\0');
  ssize_t len;
  while ((len = get(key.c_str(), value.data(), value.size())) < 0 && errno == ERANGE &&
         value.size() <= format::kMaxXattrValue) {
    value.resize(value.size() * 4);
  }
  if (len < 0 && errno == ENODATA) return std::nullopt;
  if (len < 0) throw_errno(errno);
  value.resize(static_cast<std::size_t>(len));
  return value;
}

}  // namespace cfs::fsbuild
