// The fs-verity file digest (SHA-256 or SHA-512, 4096-byte Merkle blocks, no salt), computed in user
// space exactly as the kernel's FS_IOC_MEASURE_VERITY reports it. Layer: verity (pure: no I/O).
// Each Merkle level's blocks are hashed several at once (verity/batch.h: libipsec-mb's
// multi-buffer SHA where the CPU has it, else OpenSSL). One hasher per thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "base/digest.h"
#include "verity/batch.h"

namespace cfs::verity {

class Hasher {
 public:
  explicit Hasher(HashAlgorithm algorithm = HashAlgorithm::kSha256);
  Hasher(HashAlgorithm algorithm, HashEngine engine);  // a given engine (tests, benchmarks)
  ~Hasher();
  Hasher(Hasher&&) noexcept;
  Hasher& operator=(Hasher&&) noexcept;

  void update(std::span<const std::byte> data);
  // The same as update() with `n` zero bytes, without hashing every zero block (holes).
  void update_zeros(std::uint64_t n);
  // Level-1 mode (one file hashed on several threads, a piece each): after
  // start_block_hashes(), update() collects the hashes of the blocks fed, and
  // finish_block_hashes() hands them out (the last block zero-padded) instead of a digest; the
  // pieces, in order, go to append_block_hashes() of the hasher that makes the digest.
  void start_block_hashes();
  std::vector<std::uint8_t> finish_block_hashes();
  // `hashes` of `data_bytes` bytes of data, at a block boundary (a whole number of blocks but
  // for the file's last piece).
  void append_block_hashes(std::span<const std::uint8_t> hashes, std::uint64_t data_bytes);
  // The digest of everything passed to update(); the hasher is reset afterwards.
  Digest finish();
  // Forgets everything passed so far (after an interrupted use).
  void reset();

 private:
  struct State;
  std::unique_ptr<State> s_;
};

Digest digest_of(std::span<const std::byte> data, HashAlgorithm algorithm = HashAlgorithm::kSha256);

// The largest data digest_many() takes: a tree of two levels at most, in both algorithms.
inline constexpr std::size_t kSmallFileMax = 64 * 4096;
// The digests of many small files at once (each at most kSmallFileMax bytes): their blocks,
// their root blocks and their descriptors each hashed together, across files (verity/batch.h).
void digest_many(std::span<const std::span<const std::byte>> files, HashAlgorithm algorithm, Digest* out);

}  // namespace cfs::verity
