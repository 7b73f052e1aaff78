// Mirrors: untrusted HTTP(S) copies of a composefs repository, served by any static web server
// from the directory cfsctl writes (URL/objects/xx/<rest>, URL/images/<hex>). An object comes
// from the first mirror that serves the bytes of its digest; a mirror that fails (an HTTP
// error, a reset, a stall, a drip, wrong bytes) is skipped for that object and backed off for
// a while (tried after the others), and the next one is tried. Bytes go straight into an
// ObjectStore through its checked ingest, so bytes of another digest are never stored.
// Layer: mirror.
// Thread-safe; at most `parallel` downloads run at once.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <span>
#include <memory>
#include <mutex>
#include <optional>
#include <semaphore>
#include <string>
#include <vector>

#include "base/digest.h"
#include "net/http.h"
#include "store/store.h"

namespace cfs::mirror {

struct MirrorOptions {
  unsigned parallel = 8;  // downloads at once
  // Bytes are checked anyway. A transfer slower than http.min_bytes_per_second on average over
  // http.stall_seconds (a mirror that drips: never silent, so never stalled) is cut off, and
  // the next mirror tried: a download of N bytes holds its slot for about stall_seconds +
  // N / min_bytes_per_second at most.
  net::HttpOptions http{.verify_tls = true, .allow_http = true};
};

struct MirrorStats {
  std::atomic<std::uint64_t> objects{0}, bytes{0}, failures{0};
};

class Mirrors {
 public:
  // Base URLs (http:// or https://; a trailing '/' is optional). Throws Error for others.
  explicit Mirrors(const std::vector<std::string>& urls, MirrorOptions options = {});

  // Fetches `path` beneath the repository ("objects/xx/<rest>", "images/<hex>") into `store`:
  // checked against `digest` (none: the mirror is trusted, for an image asked for by name
  // only), refused beyond `max_size` bytes. Not flushed (the caller names
  // it with store.flush()). Throws Error(EIO) naming each mirror's failure when none has a
  // valid copy.
  store::ObjectStore::Ingested fetch(const std::string& path, const std::optional<Digest>& digest,
                                     std::optional<std::uint64_t> max_size, store::ObjectStore& store);

  // A small file (a Merkle tree) of exactly `size` bytes that `check` accepts (it throws Error
  // otherwise: the next mirror is tried). A mirror stating another length is refused before a
  // byte is read; memory grows with the bytes that arrive, not with `size`. Error(ENOENT) when
  // every mirror answers 404, else Error(EIO) naming each mirror's failure.
  std::string fetch_small(const std::string& path, std::size_t size, const std::function<void(const std::string&)>& check);

  struct ByteRange {
    std::uint64_t offset, length;
  };
  // Bytes [offset, offset + length) of `path`, handed to `check`, which throws Error when they
  // are wrong: then the next mirror is tried. Error when no mirror has them right.
  void fetch_range(const std::string& path, ByteRange range,
                   const std::function<void(std::span<const std::byte>)>& check);

  const MirrorStats& stats() const { return stats_; }
  // Transfers under way end now with an Error, and later fetches fail at once.
  void cancel() { cancelled_ = true; }

 private:
  struct Mirror {
    std::string url;  // without a trailing '/'
    unsigned failures = 0;
    std::chrono::steady_clock::time_point backed_off_until{};
  };
  std::vector<std::size_t> order();  // healthy mirrors first, in the given order
  void failed(std::size_t i);
  void succeeded(std::size_t i);
  // GETs `path` (or a range of it) from the mirrors in order until `consume` takes a response
  // without throwing. A 404 is not held against a mirror (it may hold part of a repository);
  // Error(ENOENT) when all answer 404.
  using Consume = std::function<void(net::HttpStream&)>;
  void get(const std::string& path, std::optional<ByteRange> range, const Consume& consume);
  std::size_t count_bytes(net::HttpStream& body, std::span<std::byte> buf);
  // The whole of `body`, which must be `size` bytes long (as its Content-Length must say, where
  // it says one); Error naming `what` otherwise.
  std::string read_exactly(net::HttpStream& body, std::uint64_t size, const std::string& what);

  MirrorOptions options_;
  std::mutex mutex_;  // mirrors_' health (their URLs never change)
  std::vector<Mirror> mirrors_;
  std::counting_semaphore<1024> slots_;
  MirrorStats stats_;
  std::atomic<bool> cancelled_{false};
};

}  // namespace cfs::mirror
