#include "store/store.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <random>
#include <vector>

#include "base/error.h"
#include "verity/measure.h"

namespace cfs::store {
namespace {

// Copies [0, size) of src into dst keeping holes: data ranges via copy_file_range (which
// itself reflinks or copies in the kernel), holes left unwritten, size set by ftruncate.
void copy_sparse(int src, int dst, std::uint64_t size) {
  if (::ioctl(dst, FICLONE, src) == 0) return;
  off_t pos = 0;
  while (static_cast<std::uint64_t>(pos) < size) {
    off_t data = ::lseek(src, pos, SEEK_DATA);
    if (data < 0) {
      if (errno == ENXIO) break;  // only a hole is left
      data = pos;                 // no SEEK_DATA support: copy everything
    }
    off_t hole = ::lseek(src, data, SEEK_HOLE);
    if (hole < 0 || static_cast<std::uint64_t>(hole) > size) hole = static_cast<off_t>(size);
    off_t in = data, out = data;
    while (in < hole) {
      ssize_t n = ::copy_file_range(src, &in, dst, &out, static_cast<std::size_t>(hole - in), 0);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno != EXDEV && errno != ENOSYS && errno != EOPNOTSUPP && errno != EINVAL) throw_errno(errno);
        std::vector<char> buf(1 << 20);  // plain read/write fallback
        ssize_t r = ::pread(src, buf.data(), std::min<off_t>(hole - in, static_cast<off_t>(buf.size())), in);
        if (r < 0) throw_errno(errno);
        if (r == 0) throw_errno(ENODATA);
        for (ssize_t w = 0; w < r;) {
          ssize_t k = ::pwrite(dst, buf.data() + w, static_cast<std::size_t>(r - w), out + w);
          if (k < 0) throw_errno(errno);
          w += k;
        }
        in += r;
        out += r;
        continue;
      }
      if (n == 0) throw_errno(ENODATA);  // the file shrank while we copied it
    }
    pos = hole;
  }
  if (::ftruncate(dst, static_cast<off_t>(size)) != 0) throw_errno(errno);
}

}  // namespace

ObjectStore::ObjectStore(const std::string& path) : path_(path) {
  if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) throw_errno(errno, path);
  dir_fd_.reset(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir_fd_) throw_errno(errno, path);
}

bool ObjectStore::contains(const Digest& d) const {
  struct stat st {};
  return ::fstatat(dir_fd_.get(), object_path(d).c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0;
}

void ObjectStore::put(const Digest& d, int src_fd, std::uint64_t size) {
  std::string name = object_path(d);
  if (contains(d)) return;
  std::string sub = name.substr(0, 2);
  if (::mkdirat(dir_fd_.get(), sub.c_str(), 0755) != 0 && errno != EEXIST) throw_errno(errno, path_ + "/" + sub);
  // An unnamed file in the object's directory: nothing is visible until flush() links it,
  // and a crash or an error leaves nothing behind.
  UniqueFd tmp(::openat(dir_fd_.get(), sub.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0644));
  if (!tmp) throw_errno(errno, path_ + "/" + sub);
  copy_sparse(src_fd, tmp.get(), size);
  if (::fchmod(tmp.get(), 0644) != 0) throw_errno(errno);
  std::lock_guard lock(mutex_);
  pending_.push_back({std::move(name), std::move(tmp)});
  if (pending_.size() >= kBatch) flush_locked();
}

void ObjectStore::flush() {
  std::lock_guard lock(mutex_);
  flush_locked();
}

void ObjectStore::flush_locked() {
  if (pending_.empty()) return;
  if (::syncfs(dir_fd_.get()) != 0) throw_errno(errno, path_);
  std::vector<Pending> batch = std::move(pending_);
  pending_.clear();
  for (Pending& p : batch) {
    // Reopen read-only and drop the writable fd: fs-verity refuses files open for writing.
    std::string proc = "/proc/self/fd/" + std::to_string(p.fd.get());
    UniqueFd ro(::open(proc.c_str(), O_RDONLY | O_CLOEXEC));
    if (!ro) throw_errno(errno);
    p.fd.reset();
    verity::enable_verity(ro.get());  // best effort, as upstream
    std::string ro_proc = "/proc/self/fd/" + std::to_string(ro.get());
    if (::linkat(AT_FDCWD, ro_proc.c_str(), dir_fd_.get(), p.name.c_str(), AT_SYMLINK_FOLLOW) != 0 &&
        errno != EEXIST) {
      throw_errno(errno, path_ + "/" + p.name);
    }
  }
}

}  // namespace cfs::store
