// The fs-verity file digest (SHA-256 or SHA-512, 4096-byte Merkle blocks, no salt), computed in user
// space exactly as the kernel's FS_IOC_MEASURE_VERITY reports it. Layer: verity (pure: no I/O).
// The hashes come from OpenSSL (SHA-NI where the CPU has it). One hasher per thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "base/digest.h"

namespace cfs::verity {

class Hasher {
 public:
  explicit Hasher(HashAlgorithm algorithm = HashAlgorithm::kSha256);
  ~Hasher();
  Hasher(Hasher&&) noexcept;
  Hasher& operator=(Hasher&&) noexcept;

  void update(std::span<const std::byte> data);
  // The same as update() with `n` zero bytes, without hashing every zero block (holes).
  void update_zeros(std::uint64_t n);
  // The digest of everything passed to update(); the hasher is reset afterwards.
  Digest finish();
  // Forgets everything passed so far (after an interrupted use).
  void reset();

 private:
  struct State;
  std::unique_ptr<State> s_;
};

Digest digest_of(std::span<const std::byte> data, HashAlgorithm algorithm = HashAlgorithm::kSha256);

}  // namespace cfs::verity
