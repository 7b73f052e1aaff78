// HTTP(S) GETs through libcurl, for registries now and object mirrors next: whole small
// bodies (manifests, tokens) and streamed large ones (blobs) pulled by the reader, with bounded
// buffering. Redirects are followed without forwarding Authorization to another host and
// never from https to http unless plain HTTP is allowed; a stalled or dripping transfer is cut
// off. Failures worth a retry (connection reset, timeout, too slow) are of ErrorKind::kTransient.
// Layer: net (below oci and mirror).
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <span>

#include "base/error.h"

namespace cfs::net {

// Bytes read as they come: a blob, a response body.
class BlobReader {
 public:
  virtual ~BlobReader() = default;
  // Up to buf.size() bytes; 0 at the end. Throws Error (of kind kTransient for network
  // failures worth a retry).
  virtual std::size_t read_some(std::span<std::byte> buf) = 0;
};


struct HttpOptions {
  bool verify_tls = true;
  bool allow_http = false;  // plain http:// URLs and redirects to them
  // A transfer slower than min_bytes_per_second on average over stall_seconds (libcurl's low
  // speed limit) is cut off with a kTransient Error, so that a server dripping a few bytes a
  // second cannot hold it forever; with min_bytes_per_second 0, only one with no byte at all
  // for stall_seconds is. $CFS_HTTP_STALL_SECONDS and $CFS_HTTP_MIN_BYTES_PER_SECOND override
  // these (an Error when they are not numbers).
  long stall_seconds = 60;
  long min_bytes_per_second = 1024;
  const std::atomic<bool>* cancel = nullptr;  // set: transfers end now, with an Error
};

struct HttpResponse {
  long status = 0;
  std::string url;                              // the final response's: after any redirect
  std::map<std::string, std::string> headers;  // lowercase names, the final response's
  std::string body;
};

// The whole response (bodies over `max_body` are an Error). Throws a kTransient Error on network
// failures, Error otherwise; any status is returned.
HttpResponse http_get(const std::string& url, const std::vector<std::string>& headers, const HttpOptions& options,
                      std::size_t max_body = 16 << 20);

// A response whose body is read as it arrives.
class HttpStream : public BlobReader {
 public:
  virtual long status() const = 0;
  virtual std::string url() const = 0;  // the URL that answered: after any redirect
  virtual std::string header(const std::string& lowercase_name) const = 0;
};
std::unique_ptr<HttpStream> http_stream(const std::string& url, const std::vector<std::string>& headers,
                                        const HttpOptions& options);

// "scheme://host[:port]" of an absolute URL, lowercase: whom a response came from.
std::string origin(const std::string& url);

std::string base64_encode(std::string_view s);
std::string base64_decode(std::string_view s);  // Error on invalid input

}  // namespace cfs::net
