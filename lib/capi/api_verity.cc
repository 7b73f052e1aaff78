// lcfs-writer.h: fs-verity digests of data, streams and files, and the kernel's
// (libcomposefs(3) "fs-verity"). Digests are SHA-256, 4096-byte blocks, no salt; an empty
// input has the kernel's digest (upstream 1.0.8 computed another).
#include <unistd.h>

#include <cstring>
#include <optional>
#include <vector>

#include "base/error.h"
#include "capi/boundary.h"
#include "capi/node.h"
#include "libcomposefs/lcfs-mount.h"
#include "libcomposefs/lcfs-writer.h"
#include "verity/fsverity.h"
#include "verity/measure.h"

using cfs::Digest;
using cfs::Error;
using cfs::capi::int_call;
using cfs::capi::require;

namespace {

constexpr std::size_t kReadSize = 4096;  // what upstream asks a read callback for

// The digest of everything `read` returns until it returns 0; a failed read is ENODATA.
template <class Read>
Digest digest_of_stream(Read&& read) {
  cfs::verity::Hasher hasher;
  std::vector<std::byte> buf(kReadSize);
  for (;;) {
    ssize_t n = read(buf.data(), buf.size());
    if (n == 0) return hasher.finish();
    if (n < 0) throw Error(ENODATA, "read failed");
    hasher.update(std::span(buf.data(), std::min(buf.size(), static_cast<std::size_t>(n))));
  }
}

Digest digest_of_callback(void* file, lcfs_read_cb read_cb) {
  return digest_of_stream([&](std::byte* buf, std::size_t size) { return read_cb(file, buf, size); });
}

// From the fd's current offset to its end.
Digest digest_of_fd(int fd) {
  return digest_of_stream([&](std::byte* buf, std::size_t size) {
    for (;;) {
      ssize_t n = ::read(fd, buf, size);
      if (n >= 0 || errno != EINTR) return n;
    }
  });
}

void copy_out(uint8_t* out, const Digest& d) { std::memcpy(out, d.data(), d.size()); }

// The kernel's measurement as upstream reports it: 0, or a negative errno (errno set too). A
// file without fs-verity is ENOVERITY; a digest that is not SHA-256 is EWRONGVERITY.
int measure(uint8_t* digest, int fd) {
  std::optional<Digest> d;
  int err = cfs::capi::errno_of([&] { d = cfs::verity::kernel_measure(fd); });
  if (err == 0 && !d) err = ENOVERITY;
  if (err != 0) {
    errno = err;
    return -err;
  }
  copy_out(digest, *d);
  return 0;
}

}  // namespace

extern "C" {

int lcfs_compute_fsverity_from_content(uint8_t* digest, void* file, lcfs_read_cb read_cb) {
  return int_call([&] {
    require(digest != nullptr && read_cb != nullptr);
    copy_out(digest, digest_of_callback(file, read_cb));
  });
}

int lcfs_compute_fsverity_from_fd(uint8_t* digest, int fd) {
  return int_call([&] {
    require(digest != nullptr);
    copy_out(digest, digest_of_fd(fd));
  });
}

int lcfs_compute_fsverity_from_data(uint8_t* digest, uint8_t* data, size_t data_len) {
  return int_call([&] {
    require(digest != nullptr && (data != nullptr || data_len == 0));
    copy_out(digest, cfs::verity::digest_of(std::as_bytes(std::span(data, data_len))));
  });
}

int lcfs_fd_measure_fsverity(uint8_t* digest, int fd) {
  if (digest == nullptr) {
    errno = EINVAL;
    return -EINVAL;
  }
  return measure(digest, fd);
}

// The kernel's digest, else computed from the whole file (the offset ends at EOF). A failed
// computation is -1 with errno ENODATA, as upstream.
int lcfs_fd_get_fsverity(uint8_t* digest, int fd) {
  int r = lcfs_fd_measure_fsverity(digest, fd);
  if (r != -ENOVERITY) return r;
  if (::lseek(fd, 0, SEEK_SET) < 0) return -errno;
  if (lcfs_compute_fsverity_from_fd(digest, fd) != 0) return -1;
  errno = ENOVERITY;  // what upstream leaves behind
  return 0;
}

int lcfs_fd_enable_fsverity(int fd) {
  int err = cfs::verity::try_enable_verity(fd);
  if (err == 0) return 0;
  errno = err;
  return -err;
}

int lcfs_node_set_fsverity_from_content(struct lcfs_node_s* node, void* file, lcfs_read_cb read_cb) {
  return int_call([&] {
    require(node != nullptr && read_cb != nullptr);
    node->digest = digest_of_callback(file, read_cb);
  });
}

int lcfs_node_set_fsverity_from_fd(struct lcfs_node_s* node, int fd) {
  return int_call([&] {
    require(node != nullptr);
    node->digest = digest_of_fd(fd);
  });
}

}  // extern "C"
