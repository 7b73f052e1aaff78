#include "net/http.h"

#include <curl/curl.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>

#include "base/error.h"

namespace cfs::net {
namespace {

constexpr std::size_t kStreamBuffer = 8 << 20;  // bytes a stream holds ahead of its reader

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// $name as a number of at least `min`, else `fallback`.
long from_environment(const char* name, long fallback, long min) {
  const char* s = std::getenv(name);
  if (s == nullptr) return fallback;
  char* end = nullptr;
  errno = 0;
  long v = std::strtol(s, &end, 10);
  if (end == s || *end != '\0' || errno != 0 || v < min) {
    throw Error(EINVAL, std::string("$") + name + " is '" + s + "', not a number of at least " + std::to_string(min));
  }
  return v;
}

bool transient(CURLcode rc) {
  switch (rc) {
    case CURLE_COULDNT_CONNECT: case CURLE_OPERATION_TIMEDOUT: case CURLE_RECV_ERROR: case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING: case CURLE_PARTIAL_FILE: case CURLE_HTTP2: case CURLE_HTTP2_STREAM:
    case CURLE_COULDNT_RESOLVE_HOST:
      return true;
    default:
      return false;
  }
}

struct Easy {
  CURL* h = nullptr;
  curl_slist* headers = nullptr;
  char error[CURL_ERROR_SIZE] = {};
  std::map<std::string, std::string> response_headers;
  Easy(const std::string& url, const std::vector<std::string>& hs, const HttpOptions& o) {
    long min_rate = from_environment("CFS_HTTP_MIN_BYTES_PER_SECOND", o.min_bytes_per_second, 0);
    long stall = from_environment("CFS_HTTP_STALL_SECONDS", o.stall_seconds, 1);
    global_init();
    h = curl_easy_init();
    if (h == nullptr) throw Error(ENOMEM, "libcurl");
    for (const std::string& x : hs) headers = curl_slist_append(headers, x.c_str());
    curl_easy_setopt(h, CURLOPT_URL, url.c_str());
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(h, CURLOPT_MAXREDIRS, 10L);
    curl_easy_setopt(h, CURLOPT_UNRESTRICTED_AUTH, 0L);  // no Authorization to another host
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, o.allow_http ? "http,https" : "https");
    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, o.allow_http ? "http,https" : "https");
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, o.verify_tls ? 1L : 0L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, o.verify_tls ? 2L : 0L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 30L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, std::max(1L, min_rate));  // 0: at least a byte
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, stall);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "composefs-cpp");
    if (o.cancel != nullptr) {  // checked about once a second, and on every block
      curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
      curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, &Easy::on_progress);
      curl_easy_setopt(h, CURLOPT_XFERINFODATA, o.cancel);
    }
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &Easy::on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, this);
  }
  ~Easy() {
    curl_slist_free_all(headers);
    curl_easy_cleanup(h);
  }
  static int on_progress(void* cancel, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
    return static_cast<const std::atomic<bool>*>(cancel)->load() ? 1 : 0;
  }
  static std::size_t on_header(char* data, std::size_t size, std::size_t n, void* self) {
    auto* e = static_cast<Easy*>(self);
    std::string line(data, size * n);
    if (line.starts_with("HTTP/")) e->response_headers.clear();  // a new response (after a redirect)
    std::size_t colon = line.find(':');
    if (colon != std::string::npos) {
      std::string name = line.substr(0, colon), value = line.substr(colon + 1);
      std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
      value.erase(0, value.find_first_not_of(" \t"));
      while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) value.pop_back();
      e->response_headers[name] = value;
    }
    return size * n;
  }
  std::string effective_url() const {
    char* u = nullptr;
    curl_easy_getinfo(h, CURLINFO_EFFECTIVE_URL, &u);
    return u != nullptr ? u : "";
  }
  [[noreturn]] void fail(CURLcode rc, const std::string& url) const {
    std::string why = error[0] != '\0' ? error : curl_easy_strerror(rc);
    if (rc == CURLE_SSL_CONNECT_ERROR && url.starts_with("https://")) {
      why += " (a plain-HTTP server? a registry must then be marked insecure in registries.conf, or use --tls-verify=false)";
    }
    // Only HttpOptions::cancel aborts from a callback: the caller's wish, not the server's fault.
    if (rc == CURLE_ABORTED_BY_CALLBACK) throw Error(ECANCELED, "cancelled").wrap("GET " + url);
    throw Error(transient(rc) ? ErrorKind::kTransient : ErrorKind::kFailed, EIO, why).wrap("GET " + url);
  }
};

class Stream final : public HttpStream {
 public:
  Stream(const std::string& url, const std::vector<std::string>& headers, const HttpOptions& o)
      : url_(url), easy_(url, headers, o) {
    curl_easy_setopt(easy_.h, CURLOPT_BUFFERSIZE, 256L << 10);  // fewer, larger chunks
    curl_easy_setopt(easy_.h, CURLOPT_WRITEFUNCTION, &Stream::on_body);
    curl_easy_setopt(easy_.h, CURLOPT_WRITEDATA, this);
    worker_ = std::thread([this] {
      CURLcode rc = curl_easy_perform(easy_.h);
      std::lock_guard lock(mutex_);
      rc_ = rc;
      if (status_ == 0) curl_easy_getinfo(easy_.h, CURLINFO_RESPONSE_CODE, &status_);
      if (!started_) effective_url_ = easy_.effective_url();
      headers_ = easy_.response_headers;
      finished_ = true;
      changed_.notify_all();
    });
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return started_ || finished_; });
    if (finished_ && rc_ != CURLE_OK && !cancelled_) {
      lock.unlock();
      worker_.join();
      easy_.fail(rc_, url_);
    }
  }
  ~Stream() override {
    {
      std::lock_guard lock(mutex_);
      cancelled_ = true;
      changed_.notify_all();
    }
    worker_.join();
  }
  long status() const override {
    std::lock_guard lock(mutex_);
    return status_;
  }
  std::string url() const override {
    std::lock_guard lock(mutex_);
    return effective_url_;
  }
  std::string header(const std::string& name) const override {
    std::lock_guard lock(mutex_);
    auto it = headers_.find(name);
    return it == headers_.end() ? "" : it->second;
  }
  std::size_t read_some(std::span<std::byte> buf) override {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return !chunks_.empty() || finished_; });
    if (chunks_.empty()) {
      if (rc_ != CURLE_OK) {
        CURLcode rc = rc_;
        lock.unlock();
        easy_.fail(rc, url_);
      }
      return 0;
    }
    std::size_t n = 0;  // as much as is queued and fits, across chunks
    while (n < buf.size() && !chunks_.empty()) {
      std::vector<std::byte>& front = chunks_.front();
      std::size_t take = std::min(buf.size() - n, front.size() - front_used_);
      std::memcpy(buf.data() + n, front.data() + front_used_, take);
      n += take;
      front_used_ += take;
      if (front_used_ == front.size()) {
        spare_.push_back(std::move(front));  // reused: no fresh (zeroed) pages per chunk
        chunks_.pop_front();
        front_used_ = 0;
      }
    }
    queued_ -= n;
    changed_.notify_all();
    return n;
  }

 private:
  static std::size_t on_body(char* data, std::size_t size, std::size_t n, void* self) {
    auto* s = static_cast<Stream*>(self);
    std::unique_lock lock(s->mutex_);
    if (!s->started_) {
      curl_easy_getinfo(s->easy_.h, CURLINFO_RESPONSE_CODE, &s->status_);
      s->effective_url_ = s->easy_.effective_url();
      s->headers_ = s->easy_.response_headers;
      s->started_ = true;
      s->changed_.notify_all();
    }
    s->changed_.wait(lock, [&] { return s->cancelled_ || s->queued_ < kStreamBuffer; });
    if (s->cancelled_) return 0;  // aborts the transfer
    auto* b = reinterpret_cast<std::byte*>(data);
    if (s->spare_.empty()) {
      s->chunks_.emplace_back(b, b + size * n);
    } else {
      s->chunks_.push_back(std::move(s->spare_.back()));
      s->spare_.pop_back();
      s->chunks_.back().assign(b, b + size * n);
    }
    s->queued_ += size * n;
    s->changed_.notify_all();
    return size * n;
  }

  std::string url_;
  Easy easy_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<std::vector<std::byte>> chunks_;  // as curl delivered them
  std::vector<std::vector<std::byte>> spare_;  // read chunks, for the next ones
  std::size_t front_used_ = 0;                 // bytes of chunks_.front() read already
  std::size_t queued_ = 0;                     // bytes in chunks_, unread
  long status_ = 0;
  std::string effective_url_;
  std::map<std::string, std::string> headers_;
  bool started_ = false, finished_ = false, cancelled_ = false;
  CURLcode rc_ = CURLE_OK;
  std::thread worker_;
};

}  // namespace

HttpResponse http_get(const std::string& url, const std::vector<std::string>& headers, const HttpOptions& options,
                      std::size_t max_body) {
  Easy e(url, headers, options);
  HttpResponse r;
  struct Sink {
    std::string* body;
    std::size_t max;
    bool over = false;
  } sink{&r.body, max_body};
  curl_easy_setopt(e.h, CURLOPT_WRITEFUNCTION, +[](char* d, std::size_t s, std::size_t n, void* p) -> std::size_t {
    auto* k = static_cast<Sink*>(p);
    if (k->body->size() + s * n > k->max) {
      k->over = true;
      return 0;
    }
    k->body->append(d, s * n);
    return s * n;
  });
  curl_easy_setopt(e.h, CURLOPT_WRITEDATA, &sink);
  CURLcode rc = curl_easy_perform(e.h);
  if (sink.over) throw Error(EFBIG, "GET " + url + ": the response is larger than " + std::to_string(max_body) + " bytes");
  if (rc != CURLE_OK) e.fail(rc, url);
  curl_easy_getinfo(e.h, CURLINFO_RESPONSE_CODE, &r.status);
  r.url = e.effective_url();
  r.headers = e.response_headers;
  return r;
}

std::unique_ptr<HttpStream> http_stream(const std::string& url, const std::vector<std::string>& headers,
                                        const HttpOptions& options) {
  return std::make_unique<Stream>(url, headers, options);
}

std::string origin(const std::string& url) {
  std::size_t scheme = url.find("://");
  std::size_t end = scheme == std::string::npos ? std::string::npos : url.find_first_of("/?#", scheme + 3);
  std::string o = url.substr(0, end);
  std::transform(o.begin(), o.end(), o.begin(), [](unsigned char c) { return std::tolower(c); });
  return o;
}

std::string base64_encode(std::string_view s) {
  static constexpr char k[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < s.size(); i += 3) {
    unsigned v = (static_cast<unsigned char>(s[i]) << 16) | (static_cast<unsigned char>(s[i + 1]) << 8) | static_cast<unsigned char>(s[i + 2]);
    out += {k[v >> 18], k[(v >> 12) & 63], k[(v >> 6) & 63], k[v & 63]};
  }
  if (i + 1 == s.size()) {
    unsigned v = static_cast<unsigned char>(s[i]) << 16;
    out += {k[v >> 18], k[(v >> 12) & 63], '=', '='};
  } else if (i + 2 == s.size()) {
    unsigned v = (static_cast<unsigned char>(s[i]) << 16) | (static_cast<unsigned char>(s[i + 1]) << 8);
    out += {k[v >> 18], k[(v >> 12) & 63], k[(v >> 6) & 63], '='};
  }
  return out;
}

std::string base64_decode(std::string_view s) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
  };
  std::string out;
  unsigned acc = 0;
  int bits = 0;
  for (char c : s) {
    if (c == '=') break;
    int v = value(c);
    if (v < 0) throw Error(EINVAL, "invalid base64");
    acc = (acc << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  return out;
}

}  // namespace cfs::net
