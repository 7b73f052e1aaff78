#include "mirror/mirrors.h"

#include <algorithm>
#include <cerrno>

#include "base/error.h"

namespace cfs::mirror {
namespace {

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

store::ObjectStore::Ingested Mirrors::fetch(const std::string& path, const std::optional<Digest>& digest,
                                            std::optional<std::uint64_t> max_size, store::ObjectStore& store) {
  std::string errors;
  for (std::size_t i : order()) {
    if (cancelled_) throw Error(ECANCELED, "cancelled: the mount is going away");
    std::string url;
    {
      std::lock_guard lock(mutex_);
      url = mirrors_[i].url;
    }
    try {
      slots_.acquire();
      struct Release {
        std::counting_semaphore<1024>& s;
        ~Release() { s.release(); }
      } release{slots_};
      store::ObjectStore::Ingested got = fetch_from(url + "/" + path, digest, max_size, store);
      succeeded(i);
      ++stats_.objects;
      return got;
    } catch (const Error& e) {
      failed(i);
      std::string why = e.what();
      std::string get = "GET " + url + "/" + path + ": ";  // the URL is said once
      if (why.starts_with(get)) why.erase(0, get.size());
      errors += (errors.empty() ? "" : "; ") + url + ": " + why;
    }
  }
  throw Error(EIO, "no mirror has a valid copy (" + errors + ")");
}

store::ObjectStore::Ingested Mirrors::fetch_from(const std::string& url, const std::optional<Digest>& digest,
                                                 std::optional<std::uint64_t> max_size, store::ObjectStore& store) {
  std::unique_ptr<net::HttpStream> body = net::http_stream(url, {}, options_.http);
  if (body->status() != 200) throw Error(EIO, "HTTP " + std::to_string(body->status()));
  std::uint64_t got = 0;
  return store.ingest_stream(
      [&](std::span<std::byte> buf) {
        std::size_t n = body->read_some(buf);
        got += n;
        stats_.bytes += n;
        if (max_size && got > *max_size) {
          throw Error(EFBIG, "more than the object's " + std::to_string(*max_size) + " bytes");
        }
        return n;
      },
      digest);
}

}  // namespace cfs::mirror
