#include "verity/fsverity.h"

#define OPENSSL_SUPPRESS_DEPRECATED  // SHA256_*: still in OpenSSL 3, and faster than EVP
#include <openssl/sha.h>

#include <array>
#include <cstring>
#include <vector>

#include "base/error.h"
#include "base/le.h"

namespace cfs::verity {
namespace {

constexpr std::size_t kBlock = 4096;
constexpr std::size_t kMaxHash = 64;
constexpr int kMaxLevels = 10;  // 4096-byte blocks of 64-byte hashes cover 2^64 bytes in 10

struct Descriptor {
  std::uint8_t version = 1;
  std::uint8_t hash_algorithm = 1;
  std::uint8_t log_blocksize = 12;
  std::uint8_t salt_size = 0;
  le32 reserved1;
  le64 data_size;
  std::array<std::uint8_t, 64> root_hash{};
  std::array<std::uint8_t, 32> salt{};
  std::array<std::uint8_t, 144> reserved2{};
};
static_assert(sizeof(Descriptor) == 256);

}  // namespace

// A Merkle tree built level by level with one block buffer per level. A full buffer is
// hashed only when more data arrives for it, so that the top level is never hashed early.
struct Hasher::State {
  explicit State(HashAlgorithm a)
      : algorithm(a), hash_size(digest_size(a)), hash(a == HashAlgorithm::kSha512 ? sha512 : sha256) {}

  HashAlgorithm algorithm;
  std::size_t hash_size;
  void (*hash)(const void* data, std::size_t n, std::uint8_t* out);
  std::array<std::array<std::byte, kBlock>, kMaxLevels> level;  // only [0, fill) is meaningful
  std::array<std::size_t, kMaxLevels> fill{};
  int levels = 1;
  std::uint64_t size = 0;

  // OpenSSL's SHA-256 (SHA-NI where the CPU has it) and SHA-512 through the low-level
  // interface: the EVP one costs about 5% more per 4 KiB block (provider dispatch, context
  // cleansing).
  static void sha256(const void* data, std::size_t n, std::uint8_t* out) {
    SHA256_CTX c;
    SHA256_Init(&c);
    SHA256_Update(&c, data, n);
    SHA256_Final(out, &c);
  }
  static void sha512(const void* data, std::size_t n, std::uint8_t* out) {
    SHA512_CTX c;
    SHA512_Init(&c);
    SHA512_Update(&c, data, n);
    SHA512_Final(out, &c);
  }

  // Hashes the full block of `lvl` into level lvl+1.
  void flush(int lvl) {
    std::uint8_t h[kMaxHash];
    hash(level[lvl].data(), kBlock, h);
    fill[lvl] = 0;
    append(lvl + 1, reinterpret_cast<const std::byte*>(h), hash_size);
  }

  void append(int lvl, const std::byte* p, std::size_t n) {
    if (lvl >= kMaxLevels) throw Error(EFBIG, "file too large for fs-verity");
    if (lvl >= levels) levels = lvl + 1;
    while (n > 0) {
      if (fill[lvl] == kBlock) flush(lvl);
      std::size_t take = std::min(n, kBlock - fill[lvl]);
      std::memcpy(level[lvl].data() + fill[lvl], p, take);
      fill[lvl] += take;
      p += take;
      n -= take;
    }
  }
};

Hasher::Hasher(HashAlgorithm algorithm) : s_(std::make_unique<State>(algorithm)) {}
Hasher::~Hasher() = default;
Hasher::Hasher(Hasher&&) noexcept = default;
Hasher& Hasher::operator=(Hasher&&) noexcept = default;

void Hasher::update(std::span<const std::byte> data) {
  State& s = *s_;
  s.size += data.size();
  const std::byte* p = data.data();
  std::size_t n = data.size();
  // Whole blocks straight from the caller's buffer, without copying into level 0.
  while (n > 0) {
    if (s.fill[0] == 0 && n > kBlock) {
      std::uint8_t h[kMaxHash];
      s.hash(p, kBlock, h);
      s.append(1, reinterpret_cast<const std::byte*>(h), s.hash_size);
      p += kBlock;
      n -= kBlock;
      continue;
    }
    std::size_t take = std::min(n, kBlock - s.fill[0]);
    if (s.fill[0] == kBlock) {
      s.flush(0);
      continue;
    }
    std::memcpy(s.level[0].data() + s.fill[0], p, take);
    s.fill[0] += take;
    p += take;
    n -= take;
  }
}

void Hasher::update_zeros(std::uint64_t n) {
  static const std::array<std::byte, kBlock> kZeros{};
  State& s = *s_;
  // Fill the partial block first, so whole zero blocks start on a block boundary.
  if (s.fill[0] != 0 && s.fill[0] != kBlock) {
    std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(n, kBlock - s.fill[0]));
    update(std::span(kZeros.data(), take));
    n -= take;
  }
  if (n > kBlock) {
    if (s.fill[0] == kBlock) s.flush(0);
    // The hash of a zero block, per algorithm (computed once).
    static const auto kZeroHash = [] {
      std::array<std::array<std::uint8_t, kMaxHash>, 2> h{};
      State::sha256(kZeros.data(), kBlock, h[0].data());
      State::sha512(kZeros.data(), kBlock, h[1].data());
      return h;
    }();
    const auto& zero_hash = kZeroHash[s.algorithm == HashAlgorithm::kSha512 ? 1 : 0];
    // Every whole block but the last is certainly followed by more data: hash it now.
    std::uint64_t blocks = (n - 1) / kBlock;
    for (std::uint64_t i = 0; i < blocks; ++i) {
      s.append(1, reinterpret_cast<const std::byte*>(zero_hash.data()), s.hash_size);
    }
    s.size += blocks * kBlock;
    n -= blocks * kBlock;
  }
  while (n > 0) {
    std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(n, kBlock));
    update(std::span(kZeros.data(), take));
    n -= take;
  }
}

Digest Hasher::finish() {
  State& s = *s_;
  Descriptor desc;
  desc.hash_algorithm = static_cast<std::uint8_t>(s.algorithm);
  desc.data_size = s.size;
  // Empty data has an all-zero root hash (the kernel's rule; upstream's user space differs).
  if (s.size > 0) {
    for (int lvl = 0;; ++lvl) {
      std::memset(s.level[lvl].data() + s.fill[lvl], 0, kBlock - s.fill[lvl]);
      if (lvl == s.levels - 1) {
        s.hash(s.level[lvl].data(), kBlock, desc.root_hash.data());
        break;
      }
      s.fill[lvl] = kBlock;
      s.flush(lvl);
    }
  }
  Digest out(s.algorithm);
  s.hash(&desc, sizeof desc, out.data());
  reset();
  return out;
}

void Hasher::reset() {
  s_->fill.fill(0);
  s_->levels = 1;
  s_->size = 0;
}

Digest digest_of(std::span<const std::byte> data, HashAlgorithm algorithm) {
  Hasher h(algorithm);
  h.update(data);
  return h.finish();
}

}  // namespace cfs::verity
