// StreamingObject: a large object fetched from mirrors in byte ranges and served while it
// arrives. The hash of each of its 4096-byte blocks (fs-verity's level 0, from the mirror's
// merkle/ file) has been checked against the object's fs-verity digest before it is built;
// every block is checked against its hash before it is written to an unnamed file in the cache,
// so only checked bytes are ever read back. A background thread fetches the object front to
// back, 4 MiB at a time; a read of blocks not there yet fetches their range itself (1 MiB at
// least) instead of waiting its turn. When every block is there the file is named in the
// store: the object is local, and later opens pass it through. Layer: mirror. Thread-safe.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/digest.h"
#include "base/unique_fd.h"
#include "mirror/mirrors.h"
#include "store/object_source.h"
#include "store/store.h"

namespace cfs::mirror {

class StreamingObject final : public store::PartialObject {
 public:
  static constexpr std::uint64_t kBlock = 4096;

  // `block_hashes`: checked against `digest` by the caller. Borrows `cache` and `mirrors`.
  StreamingObject(store::ObjectStore& cache, Mirrors& mirrors, std::string path, const Digest& digest,
                  std::uint64_t size, std::vector<std::uint8_t> block_hashes);
  ~StreamingObject() override;
  StreamingObject(const StreamingObject&) = delete;
  StreamingObject& operator=(const StreamingObject&) = delete;

  void start();  // the background fetch
  bool complete() const;
  // The background fetch stopped before the end: a local failure (a full cache disk), or a
  // run of mirror failures. Readers still fetch what they read; the owner drops the object, so
  // that its partial file goes with the last of them.
  bool gave_up() const;

  bool ready(std::uint64_t offset, std::size_t size) const override;
  std::size_t read(std::uint64_t offset, std::span<std::byte> buf) override;

 private:
  enum class Block : std::uint8_t { kMissing, kFetching, kHere };
  struct Run {
    std::size_t first, last;  // blocks [first, last)
  };
  Run blocks_of(std::uint64_t offset, std::size_t size) const;
  // Waits until blocks [r.first, r.last) are here, fetching those nobody fetches. Throws Error.
  void wait_for(Run r);
  // Marks missing blocks from `first` on (at most `max`) as fetching; the run (empty: none).
  Run claim(std::size_t first, std::size_t max);  // under mutex_
  // Fetches a claimed run: its blocks end up here, or missing again (and Error is thrown).
  void fetch(Run r);
  void background();

  store::ObjectStore& cache_;
  Mirrors& mirrors_;
  std::string path_;  // "objects/xx/<rest>"
  Digest digest_;
  std::uint64_t size_;
  std::vector<std::uint8_t> hashes_;
  UniqueFd file_;  // unnamed until complete
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<Block> blocks_;
  std::size_t here_ = 0;
  bool stop_ = false;
  bool gave_up_ = false;
  std::thread thread_;
};

}  // namespace cfs::mirror
