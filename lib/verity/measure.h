// fs-verity digests of open files: the kernel's measurement (FS_IOC_MEASURE_VERITY) and the
// user-space computation of the same value. Layer: verity (this file does I/O; fsverity.h
// does not).
#pragma once

#include <optional>

#include "base/digest.h"

namespace cfs::verity {

// The kernel's digest, or nullopt when the file has no fs-verity (ENODATA, EOPNOTSUPP,
// ENOTTY). Throws Error(EILSEQ) for a digest of another algorithm and Error(errno) on other
// failures.
std::optional<Digest> kernel_measure(int fd, HashAlgorithm algorithm = HashAlgorithm::kSha256);
// The same in whichever algorithm the file's fs-verity uses (SHA-256 or SHA-512; EILSEQ for
// another).
std::optional<Digest> kernel_measure_any(int fd);

// Computes the digest in user space of the file's data from offset 0 to EOF.
Digest compute_from_fd(int fd, HashAlgorithm algorithm = HashAlgorithm::kSha256);

// The same for a regular file whose size the caller knows: the first `size` bytes, holes
// hashed without being read; Error(ENODATA) if the file turns out shorter.
Digest compute_from_file(int fd, std::uint64_t size, HashAlgorithm algorithm = HashAlgorithm::kSha256);

// kernel_measure, else compute_from_fd: what `composefs-info measure-file` reports.
Digest measure_fd(int fd, HashAlgorithm algorithm = HashAlgorithm::kSha256);

// FS_IOC_ENABLE_VERITY (4096-byte blocks, no salt) as the kernel answers it: 0 or its errno
// (EEXIST when the file has it already).
int try_enable_verity(int fd, HashAlgorithm algorithm = HashAlgorithm::kSha256) noexcept;

// Enables fs-verity (4096-byte blocks) on a read-only fd: true when it has it now,
// false where the file or its filesystem cannot have it; Error(errno) when enabling failed
// (EIO, ENOSPC, ...).
bool enable_verity(int fd, HashAlgorithm algorithm = HashAlgorithm::kSha256);

}  // namespace cfs::verity
