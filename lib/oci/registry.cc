#include "oci/registry.h"

#include <cstdlib>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <vector>

#include "base/error.h"
#include "net/http.h"
#include "net/retry.h"
#include "oci/image_name.h"
#include "oci/referrers_index.h"
#include "oci/registries_conf.h"
#include "verity/sha256.h"

namespace cfs::oci {
using net::base64_decode;
using net::base64_encode;
using net::http_get;
using net::http_stream;
using net::HttpOptions;
using net::HttpResponse;
using net::HttpStream;
using net::with_retries;

namespace {

using json = nlohmann::json;

std::string trim(std::string s) {
  s.erase(0, s.find_first_not_of(" \t\r"));
  s.erase(s.find_last_not_of(" \t\r") + 1);
  return s;
}

std::optional<std::string> read_file(const std::string& path) {
  std::ifstream f(path);
  if (!f) return std::nullopt;
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

// USER:PASSWORD for `host` from the auth files, if any has it.
std::string stored_credentials(const std::string& host) {
  std::vector<std::string> files;
  if (const char* f = std::getenv("REGISTRY_AUTH_FILE")) files.push_back(f);
  if (const char* r = std::getenv("XDG_RUNTIME_DIR")) files.push_back(std::string(r) + "/containers/auth.json");
  if (const char* h = std::getenv("HOME")) {
    files.push_back(std::string(h) + "/.config/containers/auth.json");
    files.push_back(std::string(h) + "/.docker/config.json");
  }
  for (const std::string& path : files) {
    std::optional<std::string> text = read_file(path);
    if (!text) continue;
    json j = json::parse(*text, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("auths") || !j["auths"].is_object()) continue;
    for (const auto& [key, entry] : j["auths"].items()) {
      std::string k = key;
      if (k.starts_with("https://")) k = k.substr(8);
      if (k.starts_with("http://")) k = k.substr(7);
      k = k.substr(0, k.find('/'));
      if (k != host || !entry.is_object() || !entry.contains("auth") || !entry["auth"].is_string()) continue;
      try {
        return base64_decode(entry["auth"].get<std::string>());
      } catch (const Error&) {
        throw Error(EINVAL, path + ": the auth entry for " + host + " is not base64");
      }
    }
  }
  return "";
}

// Parameters of a WWW-Authenticate challenge: scheme, then key="value" pairs.
std::pair<std::string, std::map<std::string, std::string>> parse_challenge(const std::string& h) {
  std::size_t space = h.find(' ');
  std::string scheme = h.substr(0, space);
  std::transform(scheme.begin(), scheme.end(), scheme.begin(), [](unsigned char c) { return std::tolower(c); });
  std::map<std::string, std::string> params;
  static const std::regex kParam(R"re(([A-Za-z_]+)="([^"]*)")re");
  std::string rest = space == std::string::npos ? "" : h.substr(space + 1);
  for (std::sregex_iterator it(rest.begin(), rest.end(), kParam), end; it != end; ++it) params[(*it)[1]] = (*it)[2];
  return {scheme, params};
}

std::string url_escape(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

// One registry endpoint: a repository on a host.
class Endpoint final : public ImageSource {
 public:
  // `creds`: --creds, or "" for the auth files' entry for the host.
  Endpoint(const PullSource& source, const SourceOptions& options, const std::string& creds)
      : ref_{registry_host(source.domain), source.path, source.reference} {
    credentials_ = !creds.empty() ? creds : stored_credentials(source.domain);
    bool insecure = options.tls_verify ? !*options.tls_verify : source.insecure;
    http_.verify_tls = !insecure;
    http_.allow_http = insecure;
    base_ = "https://" + ref_.host;
    if (insecure) {  // as containers/image: HTTPS unverified first, plain HTTP when that fails
      try {
        http_get(base_ + "/v2/", {}, http_);
      } catch (const Error&) {
        base_ = "http://" + ref_.host;
      }
    }
  }

  std::string reference() const override { return ref_.reference; }

  std::pair<std::string, std::string> fetch_manifest(const std::string& reference) override {
    std::string url = base_ + "/v2/" + ref_.repository + "/manifests/" + reference;
    HttpResponse r = with_retries([&] { return get(url, {"Accept: " + manifest_accept_header()}); });
    if (r.status == 404) throw Error(ENOENT, "manifest " + ref_.repository + ":" + reference + " not found on " + ref_.host);
    check_status(r.status, url);
    std::string type = r.headers["content-type"];
    type = trim(type.substr(0, type.find(';')));
    if (std::string d = r.headers["docker-content-digest"]; !d.empty() && verity::is_sha256_digest(d) &&
                                                            verity::sha256_digest(r.body) != d) {
      throw_corrupt("manifest " + reference + ": the registry's Docker-Content-Digest " + d + " is not its digest");
    }
    return {r.body, type};
  }

  // The referrers API (OCI distribution 1.1); where the registry has none (404, 400, 405,
  // or an answer that is not an index: older registries route the path nowhere), the index
  // tagged sha256-<hex>; nullopt when that tag is not there either.
  std::optional<std::string> fetch_referrers(const std::string& digest) override {
    std::string url = base_ + "/v2/" + ref_.repository + "/referrers/" + digest;
    std::string accept = "Accept: " + std::string(kOciIndex);
    HttpResponse r = with_retries([&] { return get(url, {accept}, kMaxReferrersIndex); });
    bool absent = r.status == 404 || r.status == 400 || r.status == 405;
    if (!absent) check_status(r.status, url);
    std::string type = r.headers["content-type"];
    if (!absent && trim(type.substr(0, type.find(';'))) == kOciIndex) return r.body;
    try {
      return fetch_manifest(referrers_tag(digest)).first;
    } catch (const Error& e) {
      if (e.code() == ENOENT) return std::nullopt;
      throw;
    }
  }

  std::unique_ptr<BlobReader> open_blob(const Descriptor& blob) override {
    std::string url = base_ + "/v2/" + ref_.repository + "/blobs/" + blob.digest;
    return with_retries([&]() -> std::unique_ptr<BlobReader> {
      for (int auth_round = 0;; ++auth_round) {
        std::unique_ptr<HttpStream> s = http_stream(url, auth_headers({}), http_);
        long status = s->status();
        if (status == 401 && auth_round == 0) {
          authenticate(s->header("www-authenticate"), url, s->url());
          continue;
        }
        if (status == 404) throw Error(ENOENT, "blob " + blob.digest + " not found on " + ref_.host);
        check_status(status, url);
        return s;
      }
    });
  }

 private:
  std::vector<std::string> auth_headers(std::vector<std::string> headers) {
    std::lock_guard lock(mutex_);
    if (!authorization_.empty()) headers.push_back("Authorization: " + authorization_);
    return headers;
  }

  HttpResponse get(const std::string& url, const std::vector<std::string>& headers, std::size_t max_body = 16 << 20) {
    HttpResponse r = http_get(url, auth_headers(headers), http_, max_body);
    if (r.status == 401) {
      authenticate(r.headers["www-authenticate"], url, r.url);
      r = http_get(url, auth_headers(headers), http_, max_body);
    }
    return r;
  }

  void check_status(long status, const std::string& url) {
    if (status >= 200 && status < 300) return;
    std::string what = "GET " + url + ": HTTP " + std::to_string(status);
    if (status == 401 || status == 403) throw Error(EACCES, what + " (authentication failed or not allowed)");
    if (status >= 500 || status == 429) throw Error(ErrorKind::kTransient, EIO, what);
    throw Error(EIO, what);
  }

  // Takes up `challenge`, the 401 that `answered_by` gave to a GET of `url`. Only the registry
  // itself is believed: a host it redirects to (a CDN) gets no credentials, and the token its
  // realm would hand out is not ours to use (containers/image too takes challenges only from
  // the registry).
  void authenticate(const std::string& challenge, const std::string& url, const std::string& answered_by) {
    if (net::origin(answered_by) != net::origin(base_)) {
      throw Error(EACCES, "GET " + url + ": HTTP 401 from " + net::origin(answered_by) +
                              ", where the registry redirected (credentials go only to the registry)");
    }
    auto [scheme, params] = parse_challenge(challenge);
    if (scheme == "basic") {
      if (credentials_.empty()) throw Error(EACCES, "GET " + url + ": the registry wants credentials (--creds or an auth file)");
      std::lock_guard lock(mutex_);
      authorization_ = "Basic " + base64_encode(credentials_);
      return;
    }
    if (scheme != "bearer" || params["realm"].empty()) throw Error(EACCES, "GET " + url + ": unsupported authentication '" + challenge + "'");
    std::string realm = params["realm"];
    std::string token_url = realm + (realm.find('?') == std::string::npos ? "?" : "&") + "service=" + url_escape(params["service"]) +
                            "&scope=" + url_escape(params.count("scope") ? params["scope"] : "repository:" + ref_.repository + ":pull");
    std::vector<std::string> headers;
    if (!credentials_.empty()) headers.push_back("Authorization: Basic " + base64_encode(credentials_));
    HttpResponse r = with_retries([&] { return http_get(token_url, headers, http_, 1 << 20); });
    if (r.status != 200) throw Error(EACCES, "token from " + realm + ": HTTP " + std::to_string(r.status));
    json j = json::parse(r.body, nullptr, false);
    std::string token;
    if (j.is_object()) {
      if (j.contains("token") && j["token"].is_string()) token = j["token"];
      else if (j.contains("access_token") && j["access_token"].is_string()) token = j["access_token"];
    }
    if (token.empty()) throw Error(EACCES, "token from " + realm + ": no token in the answer");
    std::lock_guard lock(mutex_);
    authorization_ = "Bearer " + token;
  }

  struct {
    std::string host, repository, reference;
  } ref_;
  HttpOptions http_;
  std::string base_, credentials_;
  std::mutex mutex_;  // authorization_: layers download in parallel
  std::string authorization_;
};

// The pull sources of one name, tried in order until one serves the manifest; that one then
// serves every later manifest and blob, as in containers/image.
class Registry final : public ImageSource {
 public:
  Registry(std::vector<PullSource> sources, const SourceOptions& options, std::string primary_domain)
      : sources_(std::move(sources)), options_(options), primary_domain_(std::move(primary_domain)) {}

  std::string reference() const override { return sources_.back().reference; }

  std::pair<std::string, std::string> fetch_manifest(const std::string& reference) override {
    if (chosen_) return chosen_->fetch_manifest(reference);
    std::vector<std::pair<const PullSource*, Error>> failed;
    for (const PullSource& s : sources_) {
      try {
        // --creds are for the registry named, not for a mirror on another host.
        auto e = std::make_unique<Endpoint>(s, options_, s.domain == primary_domain_ ? options_.creds : "");
        // A location may rewrite the tag; a digest asked for is asked for everywhere.
        const std::string& want = reference == this->reference() ? s.reference : reference;
        std::pair<std::string, std::string> m = e->fetch_manifest(want);
        if (verity::is_sha256_digest(want) && verity::sha256_digest(m.first) != want) {
          throw_corrupt("manifest " + want + " from " + s.domain + " does not have that digest");
        }
        chosen_ = std::move(e);
        return m;
      } catch (const Error& e) {
        if (e.kind() == ErrorKind::kCancelled) throw;
        failed.emplace_back(&s, e);
      }
    }
    const Error& primary = failed.back().second;
    if (failed.size() == 1) throw primary;
    std::string mirrors;
    for (std::size_t i = 0; i + 1 < failed.size(); ++i) mirrors += " [" + failed[i].first->name() + ": " + failed[i].second.what() + "]";
    throw Error(primary.kind(), primary.code(),
                failed.back().first->name() + ": " + primary.what() + " (mirrors also failed:" + mirrors + ")");
  }

  std::optional<std::string> fetch_referrers(const std::string& digest) override {
    if (!chosen_) throw Error(EINVAL, "referrers of " + digest + " asked for before the manifest");
    return chosen_->fetch_referrers(digest);
  }

  std::unique_ptr<BlobReader> open_blob(const Descriptor& blob) override {
    if (!chosen_) throw Error(EINVAL, "blob " + blob.digest + " asked for before the manifest");
    return chosen_->open_blob(blob);
  }

 private:
  std::vector<PullSource> sources_;
  SourceOptions options_;
  std::string primary_domain_;
  std::unique_ptr<Endpoint> chosen_;
};

}  // namespace

std::unique_ptr<ImageSource> open_registry(const std::string& ref, const SourceOptions& options) {
  std::vector<PullSource> sources = pull_sources(load_registries_conf(), ref);
  return std::make_unique<Registry>(sources, options, parse_image_name(ref).domain);
}

}  // namespace cfs::oci
