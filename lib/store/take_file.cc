// ObjectStore::take_file: a file of another store on this machine (containers-storage) as an
// object by reflink, hard link or copy (store.h). Layer: store.
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "base/error.h"
#include "store/store.h"
#include "verity/fsverity.h"
#include "verity/measure.h"

namespace cfs::store {
namespace {

// Whether this process may linkat(AT_EMPTY_PATH) a descriptor (CAP_DAC_READ_SEARCH).
bool can_link_by_fd() {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  if (::syscall(SYS_capget, &header, data) != 0) return false;
  return (data[0].effective & (1U << CAP_DAC_READ_SEARCH)) != 0;
}

// Reads [0, size) of `fd` once: every chunk to `observe` and to the digest. Error(ENODATA)
// when the file is shorter.
Digest read_observed(int fd, std::uint64_t size, HashAlgorithm algorithm,
                     const ObjectStore::Observe& observe) {
  thread_local std::vector<std::byte> buf(1 << 20);
  verity::Hasher hasher(algorithm);
  for (std::uint64_t at = 0; at < size;) {
    std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), size - at));
    ssize_t n = ::pread(fd, buf.data(), want, static_cast<off_t>(at));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw_errno(errno);
    if (n == 0) throw Error(ENODATA, "file shrank while being read");
    std::span<const std::byte> got(buf.data(), static_cast<std::size_t>(n));
    observe(got);
    hasher.update(got);
    at += static_cast<std::uint64_t>(n);
  }
  return hasher.finish();
}

// Copies [0, size) of src into dst the same way (a plain copy: this is the fallback).
Digest copy_observed(int src, int dst, std::uint64_t size, HashAlgorithm algorithm,
                     const ObjectStore::Observe& observe) {
  std::uint64_t at = 0;
  Digest d = read_observed(src, size, algorithm, [&](std::span<const std::byte> chunk) {
    observe(chunk);
    for (std::size_t w = 0; w < chunk.size();) {
      ssize_t k = ::pwrite(dst, chunk.data() + w, chunk.size() - w, static_cast<off_t>(at + w));
      if (k < 0 && errno == EINTR) continue;
      if (k < 0) throw_errno(errno);
      w += static_cast<std::size_t>(k);
    }
    at += chunk.size();
  });
  return d;
}

}  // namespace

// Why a file (`st`) cannot be hard-linked here ("" when it can, as far as can be known
// before trying: the bytes are read before the link is made).
std::string ObjectStore::why_no_hard_link(const struct stat& st) {
  struct stat dir {};
  if (::fstat(dir_fd_.get(), &dir) != 0) throw_errno(errno, path_);
  if (dir.st_dev != st.st_dev) return "the file is on another filesystem than the repository";
  if ((st.st_mode & (S_ISUID | S_ISGID)) != 0)
    return "a setuid or setgid file is never linked into objects/";
  if (!can_link_by_fd()) return "linking by descriptor needs CAP_DAC_READ_SEARCH (run as root)";
  return "";
}

ObjectStore::Taken ObjectStore::take_file(int src_fd, std::uint64_t size, bool zero_copy,
                                          const Observe& observe, Digest* digest) {
  struct stat st {};
  if (::fstat(src_fd, &st) != 0) throw_errno(errno);
  if (!S_ISREG(st.st_mode)) throw Error(EINVAL, "not a regular file");
  if (static_cast<std::uint64_t>(st.st_size) != size) {
    throw_corrupt("the file has " + std::to_string(st.st_size) + " bytes, not " +
                  std::to_string(size));
  }
  std::string no_reflink = "the filesystem cannot reflink";
  if (!no_reflink_) {
    UniqueFd tmp = unnamed_file();
    if (::ioctl(tmp.get(), FICLONE, src_fd) ==
        0) {  // the clone is ours: what is hashed is what is stored
      *digest = read_observed(tmp.get(), size, algorithm_, observe);
      return publish(std::move(tmp), *digest).added ? Taken::kReflinked : Taken::kPresent;
    }
    if (errno != EOPNOTSUPP && errno != EXDEV && errno != EINVAL && errno != ENOTTY)
      throw_errno(errno, "reflinking");
    if (errno == EXDEV) no_reflink = "the file is on another filesystem than the repository";
    no_reflink_ = true;
  }
  std::string no_link = why_no_hard_link(st);
  if (no_link.empty() && verity_required_) {  // the file gets fs-verity, as the store's own objects
    std::optional<Digest> measured;
    if (!verity::enable_verity(src_fd, algorithm_) ||
        !(measured = verity::kernel_measure(src_fd, algorithm_))) {
      no_link = "fs-verity cannot be enabled on the file, and the repository requires it";
    } else {
      *digest = read_observed(src_fd, size, algorithm_, observe);
      if (*digest != *measured)
        throw Error(EIO, "the file's fs-verity measurement differs from its bytes");
    }
  } else if (no_link.empty()) {
    *digest = read_observed(src_fd, size, algorithm_, observe);
  }
  if (no_link.empty()) {
    if (contains(*digest)) return Taken::kPresent;
    Subdir sub = subdir((*digest)[0], true);
    std::string name = object_path(*digest);
    if (::linkat(src_fd, "", sub.fd, name.c_str() + 3, AT_EMPTY_PATH) != 0) {
      if (errno == EEXIST) return Taken::kPresent;
      throw_errno(errno, path_ + "/" + name +
                             ": hard-linking");  // the bytes are observed already: no fallback
    }
    return Taken::kHardLinked;
  }
  if (zero_copy)
    throw Error(EXDEV, "neither a reflink (" + no_reflink + ") nor a hard link (" + no_link +
                           ") is possible, and zerocopy refuses to copy");
  UniqueFd tmp = unnamed_file();
  *digest = copy_observed(src_fd, tmp.get(), size, algorithm_, observe);
  return publish(std::move(tmp), *digest).added ? Taken::kCopied : Taken::kPresent;
}

}  // namespace cfs::store
