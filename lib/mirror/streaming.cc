#include "mirror/streaming.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "base/error.h"
#include "verity/fsverity.h"

namespace cfs::mirror {
namespace {

constexpr std::size_t kReadAhead = (1 << 20) / StreamingObject::kBlock;    // a read fetches 1 MiB at least
constexpr std::size_t kBackground = (4 << 20) / StreamingObject::kBlock;   // the background 4 MiB at a time
constexpr int kBackgroundTries = 5;  // consecutive failures before the background stops

}  // namespace

StreamingObject::StreamingObject(store::ObjectStore& cache, Mirrors& mirrors, std::string path, const Digest& digest,
                                 std::uint64_t size, std::vector<std::uint8_t> block_hashes)
    : cache_(cache), mirrors_(mirrors), path_(std::move(path)), digest_(digest), size_(size),
      hashes_(std::move(block_hashes)), file_(cache.unnamed_file()),
      blocks_((size + kBlock - 1) / kBlock, Block::kMissing) {
  if (::ftruncate(file_.get(), static_cast<off_t>(size)) != 0) throw_errno(errno, "an unnamed file in the cache");
}

StreamingObject::~StreamingObject() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  changed_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void StreamingObject::start() { thread_ = std::thread([this] { background(); }); }

bool StreamingObject::complete() const {
  std::lock_guard lock(mutex_);
  return here_ == blocks_.size();
}

bool StreamingObject::gave_up() const {
  std::lock_guard lock(mutex_);
  return gave_up_;
}

StreamingObject::Run StreamingObject::blocks_of(std::uint64_t offset, std::size_t size) const {
  std::uint64_t end = std::min(size_, offset + size);
  if (offset >= end) return {0, 0};
  return {static_cast<std::size_t>(offset / kBlock), static_cast<std::size_t>((end + kBlock - 1) / kBlock)};
}

bool StreamingObject::ready(std::uint64_t offset, std::size_t size) const {
  Run r = blocks_of(offset, size);
  std::lock_guard lock(mutex_);
  return std::all_of(blocks_.begin() + static_cast<std::ptrdiff_t>(r.first), blocks_.begin() + static_cast<std::ptrdiff_t>(r.last),
                     [](Block b) { return b == Block::kHere; });
}

std::size_t StreamingObject::read(std::uint64_t offset, std::span<std::byte> buf) {
  if (offset >= size_) return 0;
  std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), size_ - offset));
  wait_for(blocks_of(offset, n));
  std::size_t got = 0;
  while (got < n) {
    ssize_t r = ::pread(file_.get(), buf.data() + got, n - got, static_cast<off_t>(offset + got));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) throw Error(EIO, "reading the cached blocks: " + std::string(r < 0 ? std::strerror(errno) : "short"));
    got += static_cast<std::size_t>(r);
  }
  return n;
}

StreamingObject::Run StreamingObject::claim(std::size_t first, std::size_t max) {
  Run r{first, first};
  while (r.last < blocks_.size() && r.last - r.first < max && blocks_[r.last] == Block::kMissing) {
    blocks_[r.last++] = Block::kFetching;
  }
  return r;
}

void StreamingObject::wait_for(Run want) {
  std::unique_lock lock(mutex_);
  for (;;) {
    auto missing = std::find_if(blocks_.begin() + static_cast<std::ptrdiff_t>(want.first),
                                blocks_.begin() + static_cast<std::ptrdiff_t>(want.last),
                                [](Block b) { return b != Block::kHere; });
    if (missing == blocks_.begin() + static_cast<std::ptrdiff_t>(want.last)) return;
    auto first = static_cast<std::size_t>(missing - blocks_.begin());
    if (*missing == Block::kMissing) {
      Run r = claim(first, std::max(kReadAhead, want.last - first));
      lock.unlock();
      fetch(r);  // throws: no mirror has these blocks right
      lock.lock();
    } else {
      changed_.wait(lock);  // someone else fetches it
    }
  }
}

void StreamingObject::fetch(Run r) {
  std::uint64_t offset = r.first * kBlock, end = std::min<std::uint64_t>(size_, r.last * kBlock);
  std::size_t hash_size = digest_size(digest_.algorithm());
  try {
    mirrors_.fetch_range(path_, {offset, end - offset}, [&](std::span<const std::byte> data) {
      verity::Hasher hasher(digest_.algorithm());
      hasher.start_block_hashes();
      hasher.update(data);
      std::vector<std::uint8_t> got = hasher.finish_block_hashes();
      const std::uint8_t* want = hashes_.data() + r.first * hash_size;
      for (std::size_t i = 0; i < r.last - r.first; ++i) {
        if (std::memcmp(got.data() + i * hash_size, want + i * hash_size, hash_size) != 0) {
          throw Error(EBADMSG, "block " + std::to_string(r.first + i) + " differs from its Merkle tree hash");
        }
      }
      for (std::size_t done = 0; done < data.size();) {
        ssize_t n = ::pwrite(file_.get(), data.data() + done, data.size() - done, static_cast<off_t>(offset + done));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) throw_errno(errno, "writing to the cache");
        done += static_cast<std::size_t>(n);
      }
    });
  } catch (...) {
    {
      std::lock_guard lock(mutex_);
      std::fill(blocks_.begin() + static_cast<std::ptrdiff_t>(r.first), blocks_.begin() + static_cast<std::ptrdiff_t>(r.last), Block::kMissing);
    }
    changed_.notify_all();
    throw;
  }
  bool now_complete;
  {
    std::lock_guard lock(mutex_);
    std::fill(blocks_.begin() + static_cast<std::ptrdiff_t>(r.first), blocks_.begin() + static_cast<std::ptrdiff_t>(r.last), Block::kHere);
    here_ += r.last - r.first;
    now_complete = here_ == blocks_.size();
  }
  changed_.notify_all();
  if (now_complete) {
    // Every block is its checked self: the file is the object. Named now, it is local.
    UniqueFd copy(::fcntl(file_.get(), F_DUPFD_CLOEXEC, 0));
    if (copy) {
      try {
        cache_.adopt(std::move(copy), digest_);
      } catch (const Error&) {  // not named: reads go on from the unnamed file, a later open fetches it again
      }
    }
  }
}

void StreamingObject::background() {
  std::size_t next = 0;
  int failures = 0;
  std::unique_lock lock(mutex_);
  while (!stop_ && here_ < blocks_.size()) {
    auto missing = std::find(blocks_.begin() + static_cast<std::ptrdiff_t>(next), blocks_.end(), Block::kMissing);
    if (missing == blocks_.end()) missing = std::find(blocks_.begin(), blocks_.end(), Block::kMissing);
    if (missing == blocks_.end()) {  // the rest is being fetched by readers
      changed_.wait(lock);
      continue;
    }
    Run r = claim(static_cast<std::size_t>(missing - blocks_.begin()), kBackground);
    lock.unlock();
    bool retry = true;
    try {
      fetch(r);
      failures = 0;
      next = r.last;
    } catch (const Error& e) {
      // Mirrors failed: try again later. This machine failed (a full cache disk): stop now.
      retry = e.kind() != ErrorKind::kLocalIo && e.kind() != ErrorKind::kCancelled && ++failures < kBackgroundTries;
    } catch (...) {  // out of memory: nothing leaves the thread
      retry = false;
    }
    lock.lock();
    if (!retry) {  // readers fetch what they need, and report
      gave_up_ = true;
      return;
    }
    if (failures > 0) changed_.wait_for(lock, std::chrono::seconds(1 << failures), [&] { return stop_; });
  }
}

}  // namespace cfs::mirror
