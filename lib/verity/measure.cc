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
#include <exception>
#include <thread>

#include "base/error.h"
#include "verity/fsverity.h"

namespace cfs::verity {

std::optional<Digest> kernel_measure_any(int fd) {
  alignas(fsverity_digest) std::uint8_t raw[sizeof(fsverity_digest) + Digest::kMaxSize] = {};
  auto* hdr = reinterpret_cast<fsverity_digest*>(raw);
  hdr->digest_size = Digest::kMaxSize;
  if (::ioctl(fd, FS_IOC_MEASURE_VERITY, hdr) != 0) {
    if (errno == ENODATA || errno == EOPNOTSUPP || errno == ENOTTY) return std::nullopt;
    throw_errno(errno);
  }
  HashAlgorithm algorithm = static_cast<HashAlgorithm>(hdr->digest_algorithm);
  if ((algorithm != HashAlgorithm::kSha256 && algorithm != HashAlgorithm::kSha512) ||
      hdr->digest_size != digest_size(algorithm)) {
    throw_errno(EILSEQ);
  }
  Digest d(algorithm);
  std::memcpy(d.data(), raw + sizeof(fsverity_digest), d.size());
  return d;
}

std::optional<Digest> kernel_measure(int fd, HashAlgorithm algorithm) {
  std::optional<Digest> d = kernel_measure_any(fd);
  if (d && d->algorithm() != algorithm) throw_errno(EILSEQ);
  return d;
}

namespace {

constexpr std::size_t kReadSize = 1 << 20;
// Below this size a file is read whole: looking for holes costs more than reading them.
constexpr std::uint64_t kSparseMin = 1 << 20;
constexpr std::uint64_t kParallelMin = 128 << 20;  // below: one thread is as fast (start-up)

// Per thread, reused: a hasher and a read buffer cost more to set up than a small file.
struct ThreadState {
  Hasher sha256{HashAlgorithm::kSha256};
  std::unique_ptr<Hasher> sha512;  // made on first use
  std::unique_ptr<std::byte[]> buf{new std::byte[kReadSize]};
  Hasher* hasher = &sha256;
};
ThreadState& thread_state(HashAlgorithm algorithm) {
  thread_local ThreadState state;
  if (algorithm == HashAlgorithm::kSha512) {
    if (!state.sha512) state.sha512 = std::make_unique<Hasher>(HashAlgorithm::kSha512);
    state.hasher = state.sha512.get();
  } else {
    state.hasher = &state.sha256;
  }
  state.hasher->reset();  // a previous call may have thrown halfway
  return state;
}

// Hashes [from, to) of a regular file through mmap windows: no copy into user space.
bool hash_mapped(int fd, std::uint64_t from, std::uint64_t to, Hasher& hasher) {
  // Small windows: mapped page-cache pages count in RSS until unmapped.
  constexpr std::uint64_t kWindow = 8 << 20;
  if (from % 4096 != 0) return false;  // mmap needs a page-aligned offset
  for (std::uint64_t at = from; at < to;) {
    std::uint64_t len = std::min(kWindow, to - at);
    void* p = ::mmap(nullptr, len, PROT_READ, MAP_SHARED, fd, static_cast<off_t>(at));
    if (p == MAP_FAILED) {
      if (at == from) return false;  // caller falls back to read()
      throw_errno(errno);
    }
    ::madvise(p, len, MADV_SEQUENTIAL | MADV_WILLNEED);
    hasher.update(std::span(static_cast<const std::byte*>(p), len));
    ::munmap(p, len);
    at += len;
  }
  return true;
}

// Hashes [from, to) by pread; a file that ends early has changed under us.
void hash_read(int fd, std::uint64_t from, std::uint64_t to, ThreadState& t) {
  while (from < to) {
    ssize_t n = ::pread(fd, t.buf.get(), std::min<std::uint64_t>(kReadSize, to - from), static_cast<off_t>(from));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw_errno(errno);
    if (n == 0) throw Error(ENODATA, "file shrank while being read");
    t.hasher->update(std::span(t.buf.get(), static_cast<std::size_t>(n)));
    from += static_cast<std::uint64_t>(n);
  }
}

// Not a regular file (a pipe, say): read to EOF.
Digest hash_stream(int fd, ThreadState& t) {
  for (;;) {
    ssize_t n = ::read(fd, t.buf.get(), kReadSize);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw_errno(errno);
    if (n == 0) return t.hasher->finish();
    t.hasher->update(std::span(t.buf.get(), static_cast<std::size_t>(n)));
  }
}

}  // namespace

namespace {

// Hashes [from, to) into t.hasher: data ranges mapped (or read), holes hashed as zeros without
// being read, so a sparse 50 GiB file stays cheap.
void hash_range(int fd, std::uint64_t from_offset, std::uint64_t end, ThreadState& t) {
  for (std::uint64_t offset = from_offset; offset < end;) {
    off_t data = ::lseek(fd, static_cast<off_t>(offset), SEEK_DATA);
    if (data < 0 && errno == ENXIO) {  // a hole up to the end
      t.hasher->update_zeros(end - offset);
      break;
    }
    std::uint64_t from = data < 0 ? offset : std::min<std::uint64_t>(static_cast<std::uint64_t>(data), end);
    off_t hole = data < 0 ? -1 : ::lseek(fd, data, SEEK_HOLE);  // data < 0: no SEEK_DATA here
    std::uint64_t to = hole < 0 ? end : std::min<std::uint64_t>(static_cast<std::uint64_t>(hole), end);
    if (from > offset) t.hasher->update_zeros(from - offset);
    if (!hash_mapped(fd, from, to, *t.hasher)) hash_read(fd, from, to, t);
    offset = to;
  }
}

// A large file on every core: each thread hashes the blocks of its piece into level-1 hashes,
// which one hasher then builds the tree from. Rounds of one piece per thread bound memory.
Digest hash_parallel(int fd, std::uint64_t size, HashAlgorithm algorithm, unsigned threads) {
  constexpr std::uint64_t kPiece = 64 << 20;
  Hasher tree(algorithm);
  std::vector<std::vector<std::uint8_t>> hashes(threads);
  std::vector<std::exception_ptr> failures(threads);
  for (std::uint64_t round = 0; round < size; round += kPiece * threads) {
    auto work = [&](unsigned i) {
      std::uint64_t from = round + kPiece * i, to = std::min(size, from + kPiece);
      if (from >= to) return;
      try {
        ThreadState& t = thread_state(algorithm);
        t.hasher->start_block_hashes();
        hash_range(fd, from, to, t);
        hashes[i] = t.hasher->finish_block_hashes();
      } catch (...) {
        failures[i] = std::current_exception();
      }
    };
    std::vector<std::thread> pool;
    for (unsigned i = 1; i < threads; ++i) pool.emplace_back(work, i);
    work(0);
    for (std::thread& t : pool) t.join();
    for (unsigned i = 0; i < threads; ++i) {
      if (failures[i]) std::rethrow_exception(failures[i]);
      std::uint64_t from = round + kPiece * i, to = std::min(size, from + kPiece);
      if (from < to) tree.append_block_hashes(hashes[i], to - from);
    }
  }
  return tree.finish();
}

}  // namespace

Digest compute_from_file(int fd, std::uint64_t size, HashAlgorithm algorithm) {
  ThreadState& t = thread_state(algorithm);
  if (size < kSparseMin) {
    hash_read(fd, 0, size, t);
    return t.hasher->finish();
  }
  // Mapped pages past EOF would fault (SIGBUS): check the file is still as long.
  struct stat st {};
  if (::fstat(fd, &st) != 0) throw_errno(errno);
  if (static_cast<std::uint64_t>(st.st_size) < size) throw Error(ENODATA, "file shrank while being read");
  unsigned threads = std::thread::hardware_concurrency();
  if (size >= kParallelMin && threads > 1) return hash_parallel(fd, size, algorithm, threads);
  hash_range(fd, 0, size, t);
  return t.hasher->finish();
}

Digest compute_from_fd(int fd, HashAlgorithm algorithm) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) throw_errno(errno);
  if (!S_ISREG(st.st_mode)) return hash_stream(fd, thread_state(algorithm));
  return compute_from_file(fd, static_cast<std::uint64_t>(st.st_size), algorithm);
}

Digest measure_fd(int fd, HashAlgorithm algorithm) {
  if (auto d = kernel_measure(fd, algorithm)) return *d;
  return compute_from_fd(fd, algorithm);
}

int try_enable_verity(int fd, HashAlgorithm algorithm) noexcept {
  fsverity_enable_arg arg{};
  arg.version = 1;
  arg.hash_algorithm = static_cast<std::uint32_t>(algorithm);
  arg.block_size = 4096;
  for (;;) {
    if (::ioctl(fd, FS_IOC_ENABLE_VERITY, &arg) == 0) return 0;
    if (errno != EINTR) return errno;
  }
}

bool enable_verity(int fd, HashAlgorithm algorithm) {
  switch (int err = try_enable_verity(fd, algorithm)) {
    case 0: case EEXIST:  // enabled now, or already
      return true;
    // This file or filesystem cannot have it (no support, not allowed, read-only).
    case EOPNOTSUPP: case ENOTTY: case EINVAL: case EPERM: case EACCES: case EROFS:
      return false;
    default:
      throw_errno(err, "enabling fs-verity");  // EIO, ENOSPC, ENOMEM, ...
  }
}

}  // namespace cfs::verity
