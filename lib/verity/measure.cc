#include "verity/measure.h"

#include <linux/fsverity.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <memory>
#include <cstring>
#include <vector>

#include "base/error.h"
#include "verity/fsverity.h"

namespace cfs::verity {

std::optional<Digest> kernel_measure(int fd) {
  constexpr std::size_t kMaxDigest = 64;
  alignas(fsverity_digest) std::uint8_t raw[sizeof(fsverity_digest) + kMaxDigest] = {};
  auto* hdr = reinterpret_cast<fsverity_digest*>(raw);
  hdr->digest_size = kMaxDigest;
  if (::ioctl(fd, FS_IOC_MEASURE_VERITY, hdr) != 0) {
    if (errno == ENODATA || errno == EOPNOTSUPP || errno == ENOTTY) return std::nullopt;
    throw_errno(errno);
  }
  if (hdr->digest_algorithm != FS_VERITY_HASH_ALG_SHA256 || hdr->digest_size != 32) {
    throw_errno(EILSEQ);
  }
  Digest d;
  std::memcpy(d.data(), raw + sizeof(fsverity_digest), d.size());
  return d;
}

namespace {

constexpr std::size_t kReadSize = 1 << 20;

// Hashes [from, to) of a regular file through mmap windows: no copy into user space.
bool hash_mapped(int fd, std::uint64_t from, std::uint64_t to, Hasher& hasher) {
  constexpr std::uint64_t kWindow = 64 << 20;
  for (std::uint64_t at = from; at < to;) {
    std::uint64_t len = std::min(kWindow, to - at);
    void* p = ::mmap(nullptr, len, PROT_READ, MAP_SHARED, fd, static_cast<off_t>(at));
    if (p == MAP_FAILED) return false;  // caller falls back to read()
    ::madvise(p, len, MADV_SEQUENTIAL | MADV_WILLNEED);
    hasher.update(std::span(static_cast<const std::byte*>(p), len));
    ::munmap(p, len);
    at += len;
  }
  return true;
}

}  // namespace

Digest compute_from_fd(int fd) {
  // Per thread, reused: a hasher and a read buffer cost more to set up than a small file.
  thread_local Hasher hasher;
  thread_local std::unique_ptr<std::byte[]> buf(new std::byte[kReadSize]);
  hasher.reset();  // a previous call may have thrown halfway
  struct stat st {};
  bool regular = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
  auto size = static_cast<std::uint64_t>(st.st_size);
  std::uint64_t offset = 0;
  // Regular files: data ranges mapped and hashed in place, holes hashed as zeros unread.
  if (regular && size >= (1 << 20)) {
    while (offset < size) {
      off_t data = ::lseek(fd, static_cast<off_t>(offset), SEEK_DATA);
      if (data < 0) {
        if (errno != ENXIO) break;  // no SEEK_DATA: fall back to reading
        hasher.update_zeros(size - offset);
        return hasher.finish();
      }
      auto d = static_cast<std::uint64_t>(data);
      if (d > offset) hasher.update_zeros(d - offset);
      off_t hole = ::lseek(fd, data, SEEK_HOLE);
      std::uint64_t h = hole < 0 ? size : std::min<std::uint64_t>(static_cast<std::uint64_t>(hole), size);
      // mmap needs a page-aligned offset; data ranges start on block boundaries.
      if (d % 4096 != 0 || !hash_mapped(fd, d, h, hasher)) {
        offset = d;
        break;
      }
      offset = h;
    }
    if (offset >= size) return hasher.finish();
  }
  for (;;) {
    // Holes are hashed as zeros without being read (a sparse 50 GiB file stays cheap).
    if (regular) {
      off_t data = ::lseek(fd, static_cast<off_t>(offset), SEEK_DATA);
      if (data < 0 && errno == ENXIO) {  // a hole up to the end of the file
        if (size > offset) hasher.update_zeros(size - offset);
        break;
      }
      if (data > static_cast<off_t>(offset)) {
        hasher.update_zeros(static_cast<std::uint64_t>(data) - offset);
        offset = static_cast<std::uint64_t>(data);
      }
    }
    ssize_t n = ::pread(fd, buf.get(), kReadSize, static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_errno(errno);
    }
    if (n == 0) break;
    hasher.update(std::span(buf.get(), static_cast<std::size_t>(n)));
    offset += static_cast<std::uint64_t>(n);
  }
  return hasher.finish();
}

Digest measure_fd(int fd) {
  if (auto d = kernel_measure(fd)) return *d;
  return compute_from_fd(fd);
}

bool enable_verity(int fd) {
  fsverity_enable_arg arg{};
  arg.version = 1;
  arg.hash_algorithm = FS_VERITY_HASH_ALG_SHA256;
  arg.block_size = 4096;
  return ::ioctl(fd, FS_IOC_ENABLE_VERITY, &arg) == 0;
}

}  // namespace cfs::verity
