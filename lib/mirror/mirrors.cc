#include "mirror/mirrors.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>

#include "base/error.h"

namespace cfs::mirror {
namespace {

constexpr std::size_t kReadChunk = 1 << 20;  // what an exact-length read adds at a time

// A failed mirror waits 1 s, then 2, 4… up to a minute before it is tried first again.
std::chrono::seconds backoff(unsigned failures) {
  return std::chrono::seconds(std::min(60u, 1u << std::min(failures - 1, 6u)));
}

}  // namespace

class Mirrors::Body {
 public:
  Body(net::HttpStream& stream, const MirrorOptions& options, MirrorStats& stats)
      : stream_(stream), stats_(stats), min_rate_(options.min_bytes_per_second),
        grace_(std::chrono::seconds(options.http.stall_seconds)) {}

  std::string header(const std::string& lowercase_name) const { return stream_.header(lowercase_name); }

  // As HttpStream::read_some; a kTransient Error once the download has fallen behind.
  std::size_t read_some(std::span<std::byte> buf) {
    std::size_t n = stream_.read_some(buf);
    stats_.bytes += n;
    received_ += n;
    if (n > 0 && min_rate_ > 0) {
      std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start_;
      if (elapsed > grace_ + std::chrono::duration<double>(static_cast<double>(received_) / static_cast<double>(min_rate_))) {
        throw Error(ErrorKind::kTransient, ETIMEDOUT,
                    "slower than " + std::to_string(min_rate_) + " bytes/s: " + std::to_string(received_) + " bytes in " +
                        std::to_string(static_cast<long>(elapsed.count())) + " s");
      }
    }
    return n;
  }

 private:
  net::HttpStream& stream_;
  MirrorStats& stats_;
  std::uint64_t min_rate_;
  std::chrono::duration<double> grace_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  std::uint64_t received_ = 0;
};

Mirrors::Mirrors(const std::vector<std::string>& urls, MirrorOptions options)
    : options_(options), slots_(std::clamp<std::ptrdiff_t>(options.parallel, 1, 1024)) {
  options_.http.cancel = &cancelled_;
  if (const char* rate = std::getenv("CFS_MIRROR_MIN_BYTES_PER_SECOND")) options_.min_bytes_per_second = std::strtoull(rate, nullptr, 10);
  if (urls.empty()) throw Error(EINVAL, "no mirror given");
  for (std::string url : urls) {
    if (!url.starts_with("http://") && !url.starts_with("https://")) {
      throw Error(EINVAL, "mirror " + url + ": only http:// and https:// URLs are supported");
    }
    while (url.ends_with('/')) url.pop_back();
    mirrors_.push_back({url});
  }
}

std::vector<std::size_t> Mirrors::order() {
  std::lock_guard lock(mutex_);
  auto now = std::chrono::steady_clock::now();
  std::vector<std::size_t> healthy, backed_off;
  for (std::size_t i = 0; i < mirrors_.size(); ++i) {
    (mirrors_[i].backed_off_until > now ? backed_off : healthy).push_back(i);
  }
  healthy.insert(healthy.end(), backed_off.begin(), backed_off.end());
  return healthy;
}

void Mirrors::failed(std::size_t i) {
  ++stats_.failures;
  std::lock_guard lock(mutex_);
  Mirror& m = mirrors_[i];
  ++m.failures;
  m.backed_off_until = std::chrono::steady_clock::now() + backoff(m.failures);
}

void Mirrors::succeeded(std::size_t i) {
  std::lock_guard lock(mutex_);
  mirrors_[i].failures = 0;
  mirrors_[i].backed_off_until = {};
}

void Mirrors::get(const std::string& path, std::optional<ByteRange> range, const Consume& consume) {
  std::string errors;
  bool all_absent = true;
  for (std::size_t i : order()) {
    if (cancelled_) throw Error(ECANCELED, "cancelled: the mount is going away");
    const std::string& url = mirrors_[i].url;  // set once by the constructor
    try {
      slots_.acquire();
      struct Release {
        std::counting_semaphore<1024>& s;
        ~Release() { s.release(); }
      } release{slots_};
      std::vector<std::string> headers;
      if (range) headers.push_back("Range: bytes=" + std::to_string(range->offset) + "-" + std::to_string(range->offset + range->length - 1));
      std::unique_ptr<net::HttpStream> response = net::http_stream(url + "/" + path, headers, options_.http);
      long want = range ? 206 : 200;
      if (response->status() == 404) {
        errors += (errors.empty() ? "" : "; ") + url + ": HTTP 404";
        continue;  // a mirror may hold part of a repository: not a failure
      }
      if (response->status() != want) throw Error(EIO, "HTTP " + std::to_string(response->status()));
      Body body(*response, options_, stats_);
      consume(body);
      succeeded(i);
      return;
    } catch (const Error& e) {
      // This machine's failure (a full cache disk) or the caller's: no mirror is to blame.
      if (e.kind() == ErrorKind::kLocalIo || e.kind() == ErrorKind::kCancelled) throw;
      all_absent = false;
      failed(i);
      errors += (errors.empty() ? "" : "; ") + url + ": " + e.cause();  // the URL is said once
    }
  }
  throw Error(all_absent ? ENOENT : EIO, "no mirror has a valid copy (" + errors + ")");
}

store::ObjectStore::Ingested Mirrors::fetch(const std::string& path, const std::optional<Digest>& digest,
                                            std::optional<std::uint64_t> max_size, store::ObjectStore& store) {
  store::ObjectStore::Ingested got;
  get(path, std::nullopt, [&](Body& body) {
    std::uint64_t total = 0;
    got = store.ingest_stream(
        [&](std::span<std::byte> buf) {
          std::size_t n = body.read_some(buf);
          total += n;
          if (max_size && total > *max_size) {
            throw Error(EFBIG, "more than the object's " + std::to_string(*max_size) + " bytes");
          }
          return n;
        },
        digest);
  });
  ++stats_.objects;
  return got;
}

std::string Mirrors::read_exactly(Body& body, std::uint64_t size, const std::string& what) {
  std::string wrong = what + " is not " + std::to_string(size) + " bytes long";
  // The length the server states, checked before a byte is read: a size from an image is
  // not trusted to be the one the mirror has, and no buffer is sized by it in advance.
  if (std::string length = body.header("content-length"); !length.empty() && length != std::to_string(size)) {
    throw Error(EIO, wrong + " (the server says " + length + ")");
  }
  std::string out;
  while (out.size() < size) {  // grown as bytes arrive
    std::size_t at = out.size();
    out.resize(at + static_cast<std::size_t>(std::min<std::uint64_t>(size - at, kReadChunk)));
    std::size_t n = body.read_some(std::as_writable_bytes(std::span(out)).subspan(at));
    out.resize(at + n);
    if (n == 0) throw Error(EIO, wrong);
  }
  std::byte extra;
  if (body.read_some(std::span(&extra, 1)) != 0) throw Error(EIO, wrong);
  return out;
}

std::string Mirrors::fetch_small(const std::string& path, std::size_t size,
                                 const std::function<void(const std::string&)>& check) {
  std::string out;
  get(path, std::nullopt, [&](Body& body) {
    out = read_exactly(body, size, "the file");
    check(out);
  });
  return out;
}

void Mirrors::fetch_range(const std::string& path, ByteRange range, const std::function<void(std::span<const std::byte>)>& check) {
  get(path, range, [&](Body& body) {
    std::string data = read_exactly(body, range.length, "the range");
    check(std::as_bytes(std::span(data)));
  });
}

}  // namespace cfs::mirror
