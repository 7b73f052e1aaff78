// Mirrors: untrusted HTTP(S) copies of a composefs repository, served by any static web server
// from the directory cfsctl writes (URL/objects/xx/<rest>, URL/images/<hex>). An object comes
// from the first mirror that serves the bytes of its digest; a mirror that fails (an HTTP
// error, a reset, a stall, wrong bytes) is skipped for that object and backed off for a while
// (tried after the others), and the next one is tried. Bytes go straight into an ObjectStore
// through its checked ingest, so bytes of another digest are never stored. Layer: mirror.
// Thread-safe; at most `parallel` downloads run at once.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
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
  net::HttpOptions http{.verify_tls = true, .allow_http = true};  // bytes are checked anyway
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
  store::ObjectStore::Ingested fetch_from(const std::string& url, const std::optional<Digest>& digest,
                                          std::optional<std::uint64_t> max_size, store::ObjectStore& store);

  MirrorOptions options_;
  std::mutex mutex_;  // mirrors_' health
  std::vector<Mirror> mirrors_;
  std::counting_semaphore<1024> slots_;
  MirrorStats stats_;
  std::atomic<bool> cancelled_{false};
};

}  // namespace cfs::mirror
