#include "verity/fsverity.h"

#include <array>
#include <cstring>
#include <vector>

#include "base/error.h"
#include "base/le.h"
#include "verity/batch.h"

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

// A Merkle tree built level by level. Each level stages up to kBatchWidth blocks, which are
// hashed together (verity/batch.h) once more data follows them: a block is never hashed before
// it is known not to be the last, so the top level is never hashed early. Whole blocks of a
// large update() are hashed straight from the caller's buffer.
struct Hasher::State {
  State(HashAlgorithm a, HashEngine e) : algorithm(a), engine(e), hash_size(digest_size(a)) {}

  HashAlgorithm algorithm;
  HashEngine engine;
  std::size_t hash_size;
  std::array<std::vector<std::byte>, kMaxLevels> level;  // staged bytes (whole blocks, then a partial one)
  int levels = 1;
  std::uint64_t size = 0;
  bool collecting = false;                 // level-1 mode: level 1 is collected, not built on
  std::vector<std::uint8_t> block_hashes;

  void single(const void* data, std::size_t n, std::uint8_t* out) const {
    const auto* p = static_cast<const std::byte*>(data);
    hash_many(algorithm, HashEngine::kOpenSsl, std::span(&p, 1), n, out);
  }

  // Hashes `count` blocks at `blocks` into level lvl+1.
  void hash_blocks(int lvl, const std::byte* blocks, std::size_t count) {
    std::array<const std::byte*, kBatchWidth> ptrs;
    std::array<std::uint8_t, kBatchWidth * kMaxHash> out;
    while (count > 0) {
      std::size_t n = std::min(count, kBatchWidth);
      for (std::size_t i = 0; i < n; ++i) ptrs[i] = blocks + i * kBlock;
      hash_many(algorithm, engine, std::span(ptrs.data(), n), kBlock, out.data());
      append(lvl + 1, reinterpret_cast<const std::byte*>(out.data()), n * hash_size);
      blocks += n * kBlock;
      count -= n;
    }
  }

  // The staged whole blocks of `lvl`, hashed: more data follows them.
  void flush_whole(int lvl) {
    std::vector<std::byte>& v = level[lvl];
    std::size_t whole = v.size() / kBlock;
    if (whole == 0) return;
    hash_blocks(lvl, v.data(), whole);
    v.erase(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(whole * kBlock));
  }

  void append(int lvl, const std::byte* p, std::size_t n) {
    if (lvl == 1 && collecting) {
      block_hashes.insert(block_hashes.end(), reinterpret_cast<const std::uint8_t*>(p), reinterpret_cast<const std::uint8_t*>(p) + n);
      return;
    }
    if (lvl >= kMaxLevels) throw Error(EFBIG, "file too large for fs-verity");
    if (lvl >= levels) levels = lvl + 1;
    std::vector<std::byte>& v = level[lvl];
    while (n > 0) {
      if (v.size() == kBatchWidth * kBlock) flush_whole(lvl);  // more follows
      std::size_t take = std::min(n, kBatchWidth * kBlock - v.size());
      v.insert(v.end(), p, p + take);
      p += take;
      n -= take;
    }
  }
};

Hasher::Hasher(HashAlgorithm algorithm) : Hasher(algorithm, default_engine(algorithm)) {}
Hasher::Hasher(HashAlgorithm algorithm, HashEngine engine) : s_(std::make_unique<State>(algorithm, engine)) {}
Hasher::~Hasher() = default;
Hasher::Hasher(Hasher&&) noexcept = default;
Hasher& Hasher::operator=(Hasher&&) noexcept = default;

void Hasher::update(std::span<const std::byte> data) {
  State& s = *s_;
  s.size += data.size();
  const std::byte* p = data.data();
  std::size_t n = data.size();
  std::vector<std::byte>& staged = s.level[0];
  while (n > 0) {
    if (!staged.empty()) {
      if (staged.size() % kBlock == 0) {
        s.flush_whole(0);  // whole staged blocks, now followed by more data
        continue;
      }
      std::size_t take = std::min(n, kBlock - staged.size() % kBlock);  // complete the partial block
      staged.insert(staged.end(), p, p + take);
      p += take;
      n -= take;
      continue;
    }
    std::size_t blocks = std::min<std::size_t>(kBatchWidth, (n - 1) / kBlock);  // each followed by more
    if (blocks == 0) {
      staged.insert(staged.end(), p, p + n);
      break;
    }
    s.hash_blocks(0, p, blocks);
    p += blocks * kBlock;
    n -= blocks * kBlock;
  }
}

void Hasher::update_zeros(std::uint64_t n) {
  static const std::array<std::byte, kBlock> kZeros{};
  State& s = *s_;
  std::vector<std::byte>& staged = s.level[0];
  // Fill the partial block first, so whole zero blocks start on a block boundary.
  if (staged.size() % kBlock != 0) {
    std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(n, kBlock - staged.size() % kBlock));
    update(std::span(kZeros.data(), take));
    n -= take;
  }
  if (n > kBlock) {
    s.flush_whole(0);
    // The hash of a zero block, per algorithm (computed once).
    static const auto kZeroHash = [] {
      std::array<std::array<std::uint8_t, kMaxHash>, 2> h{};
      State(HashAlgorithm::kSha256, HashEngine::kOpenSsl).single(kZeros.data(), kBlock, h[0].data());
      State(HashAlgorithm::kSha512, HashEngine::kOpenSsl).single(kZeros.data(), kBlock, h[1].data());
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
      std::vector<std::byte>& v = s.level[lvl];
      v.resize((v.size() + kBlock - 1) / kBlock * kBlock, std::byte{0});  // the last block, zero-padded
      if (lvl == s.levels - 1 && v.size() == kBlock) {  // the top: one block, nothing above it
        s.single(v.data(), kBlock, desc.root_hash.data());
        break;
      }
      s.flush_whole(lvl);
    }
  }
  Digest out(s.algorithm);
  s.single(&desc, sizeof desc, out.data());
  reset();
  return out;
}

void Hasher::start_block_hashes() {
  reset();
  s_->collecting = true;
}

std::vector<std::uint8_t> Hasher::finish_block_hashes() {
  State& s = *s_;
  std::vector<std::byte>& v = s.level[0];
  v.resize((v.size() + kBlock - 1) / kBlock * kBlock, std::byte{0});
  s.flush_whole(0);
  std::vector<std::uint8_t> out = std::move(s.block_hashes);
  reset();
  return out;
}

void Hasher::append_block_hashes(std::span<const std::uint8_t> hashes, std::uint64_t data_bytes) {
  State& s = *s_;
  if (!s.level[0].empty()) throw Error(EINVAL, "block hashes appended off a block boundary");
  s.append(1, reinterpret_cast<const std::byte*>(hashes.data()), hashes.size());
  s.size += data_bytes;
}

void Hasher::reset() {
  for (auto& v : s_->level) v.clear();
  s_->collecting = false;
  s_->block_hashes.clear();
  s_->levels = 1;
  s_->size = 0;
}

void digest_many(std::span<const std::span<const std::byte>> files, HashAlgorithm algorithm, Digest* out) {
  HashEngine engine = default_engine(algorithm);
  std::size_t hs = digest_size(algorithm);
  // Level 0: every block of every file (a last partial block zero-padded in `pads`).
  std::vector<const std::byte*> blocks;
  std::vector<std::size_t> first(files.size() + 1);
  std::vector<std::array<std::byte, kBlock>> pads;
  pads.reserve(files.size());
  for (std::size_t i = 0; i < files.size(); ++i) {
    std::span<const std::byte> f = files[i];
    if (f.size() > kSmallFileMax) throw Error(EINVAL, "digest_many: a file over its limit");
    first[i] = blocks.size();
    for (std::size_t at = 0; at < f.size(); at += kBlock) {
      if (f.size() - at >= kBlock) {
        blocks.push_back(f.data() + at);
        continue;
      }
      std::array<std::byte, kBlock>& pad = pads.emplace_back();
      std::memcpy(pad.data(), f.data() + at, f.size() - at);
      std::memset(pad.data() + (f.size() - at), 0, kBlock - (f.size() - at));
      blocks.push_back(pad.data());
    }
  }
  first[files.size()] = blocks.size();
  std::vector<std::uint8_t> level1(blocks.size() * hs);
  hash_many(algorithm, engine, blocks, kBlock, level1.data());
  // Roots: a one-block file's is its block's hash; else the hash of its level-1 block.
  std::vector<Descriptor> desc(files.size());
  std::vector<std::array<std::byte, kBlock>> tops;
  std::vector<const std::byte*> top_ptrs;
  std::vector<std::size_t> top_of;
  tops.reserve(files.size());
  for (std::size_t i = 0; i < files.size(); ++i) {
    desc[i].hash_algorithm = static_cast<std::uint8_t>(algorithm);
    desc[i].data_size = files[i].size();
    std::size_t n = first[i + 1] - first[i];
    if (n == 1) std::memcpy(desc[i].root_hash.data(), &level1[first[i] * hs], hs);
    if (n <= 1) continue;  // empty data: an all-zero root
    std::array<std::byte, kBlock>& top = tops.emplace_back();
    std::memcpy(top.data(), &level1[first[i] * hs], n * hs);
    std::memset(top.data() + n * hs, 0, kBlock - n * hs);
    top_ptrs.push_back(top.data());
    top_of.push_back(i);
  }
  std::vector<std::uint8_t> roots(top_ptrs.size() * hs);
  hash_many(algorithm, engine, top_ptrs, kBlock, roots.data());
  for (std::size_t t = 0; t < top_of.size(); ++t) std::memcpy(desc[top_of[t]].root_hash.data(), &roots[t * hs], hs);
  std::vector<const std::byte*> desc_ptrs;
  for (const Descriptor& d : desc) desc_ptrs.push_back(reinterpret_cast<const std::byte*>(&d));
  std::vector<std::uint8_t> digests(files.size() * hs);
  hash_many(algorithm, engine, desc_ptrs, sizeof(Descriptor), digests.data());
  for (std::size_t i = 0; i < files.size(); ++i) {
    out[i] = Digest(algorithm);
    std::memcpy(out[i].data(), &digests[i * hs], hs);
  }
}

Digest digest_of(std::span<const std::byte> data, HashAlgorithm algorithm) {
  Hasher h(algorithm);
  h.update(data);
  return h.finish();
}

}  // namespace cfs::verity
