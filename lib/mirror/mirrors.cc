#include "mirror/mirrors.h"

#include <algorithm>
#include <cerrno>

#include "base/error.h"

namespace cfs::mirror {
namespace {

constexpr std::size_t kReadChunk = 1 << 20;  // what an exact-length read adds at a time

// A failed mirror waits 1 s, then 2, 4… up to a minute before it is tried first again.
std::chrono::seconds backoff(unsigned failures) {
  return std::chrono::seconds(std::min(60u, 1u << std::min(failures - 1, 6u)));
}

}  // namespace

Mirrors::Mirrors(const std::vector<std::string>& urls, MirrorOptions options)
    : options_(options), slots_(std::clamp<std::ptrdiff_t>(options.parallel, 1, 1024)) {
  options_.http.cancel = &cancelled_;
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
      std::unique_ptr<net::HttpStream> body = net::http_stream(url + "/" + path, headers, options_.http);
      long want = range ? 206 : 200;
      if (body->status() == 404) {
        errors += (errors.empty() ? "" : "; ") + url + ": HTTP 404";
        continue;  // a mirror may hold part of a repository: not a failure
      }
      if (body->status() != want) throw Error(EIO, "HTTP " + std::to_string(body->status()));
      consume(*body);
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

std::size_t Mirrors::count_bytes(net::HttpStream& body, std::span<std::byte> buf) {
  std::size_t n = body.read_some(buf);
  stats_.bytes += n;
  return n;
}

store::ObjectStore::Ingested Mirrors::fetch(const std::string& path, const std::optional<Digest>& digest,
                                            std::optional<std::uint64_t> max_size, store::ObjectStore& store) {
  store::ObjectStore::Ingested got;
  get(path, std::nullopt, [&](net::HttpStream& body) {
    std::uint64_t total = 0;
    got = store.ingest_stream(
        [&](std::span<std::byte> buf) {
          std::size_t n = count_bytes(body, buf);
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

std::string Mirrors::read_exactly(net::HttpStream& body, std::uint64_t size, const std::string& what) {
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
    std::size_t n = count_bytes(body, std::as_writable_bytes(std::span(out)).subspan(at));
    out.resize(at + n);
    if (n == 0) throw Error(EIO, wrong);
  }
  std::byte extra;
  if (count_bytes(body, std::span(&extra, 1)) != 0) throw Error(EIO, wrong);
  return out;
}

std::string Mirrors::fetch_small(const std::string& path, std::size_t size,
                                 const std::function<void(const std::string&)>& check) {
  std::string out;
  get(path, std::nullopt, [&](net::HttpStream& body) {
    out = read_exactly(body, size, "the file");
    check(out);
  });
  return out;
}

void Mirrors::fetch_range(const std::string& path, ByteRange range, const std::function<void(std::span<const std::byte>)>& check) {
  get(path, range, [&](net::HttpStream& body) {
    std::string data = read_exactly(body, range.length, "the range");
    check(std::as_bytes(std::span(data)));
  });
}

}  // namespace cfs::mirror
