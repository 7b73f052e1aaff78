#include "verity/measure.h"

#include <linux/fsverity.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
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

Digest compute_from_fd(int fd) {
  Hasher hasher;
  std::vector<std::byte> buf(1 << 20);
  struct stat st {};
  bool regular = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
  std::uint64_t offset = 0;
  for (;;) {
    // Holes are hashed as zeros without being read (a sparse 50 GiB file stays cheap).
    if (regular) {
      off_t data = ::lseek(fd, static_cast<off_t>(offset), SEEK_DATA);
      if (data < 0 && errno == ENXIO) {  // a hole up to the end of the file
        if (static_cast<std::uint64_t>(st.st_size) > offset) {
          hasher.update_zeros(static_cast<std::uint64_t>(st.st_size) - offset);
        }
        break;
      }
      if (data > static_cast<off_t>(offset)) {
        hasher.update_zeros(static_cast<std::uint64_t>(data) - offset);
        offset = static_cast<std::uint64_t>(data);
      }
    }
    ssize_t n = ::pread(fd, buf.data(), buf.size(), static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_errno(errno);
    }
    if (n == 0) break;
    hasher.update(std::span(buf.data(), static_cast<std::size_t>(n)));
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
