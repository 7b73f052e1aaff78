#include "oci/registry.h"

#include <cstdlib>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "base/error.h"
#include "net/http.h"
#include "net/retry.h"
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

// The quoted string values of a TOML line "key = "v"" or "key = ["a", "b"]".
std::vector<std::string> toml_strings(const std::string& value) {
  std::vector<std::string> out;
  for (std::size_t at = 0; (at = value.find('"', at)) != std::string::npos;) {
    std::size_t end = value.find('"', at + 1);
    if (end == std::string::npos) break;
    out.push_back(value.substr(at + 1, end - at - 1));
    at = end + 1;
  }
  return out;
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

class Registry final : public ImageSource {
 public:
  Registry(RegistryReference ref, const SourceOptions& options) : ref_(std::move(ref)) {
    credentials_ = !options.creds.empty() ? options.creds : stored_credentials(ref_.host);
    bool insecure = options.tls_verify ? !*options.tls_verify : registry_insecure(ref_.host);
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

  HttpResponse get(const std::string& url, const std::vector<std::string>& headers) {
    HttpResponse r = http_get(url, auth_headers(headers), http_);
    if (r.status == 401) {
      authenticate(r.headers["www-authenticate"], url, r.url);
      r = http_get(url, auth_headers(headers), http_);
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

  RegistryReference ref_;
  HttpOptions http_;
  std::string base_, credentials_;
  std::mutex mutex_;  // authorization_: layers download in parallel
  std::string authorization_;
};

}  // namespace

RegistryReference parse_registry_reference(const std::string& ref) {
  RegistryReference r;
  std::string rest = ref;
  std::size_t slash = rest.find('/');
  std::string first = rest.substr(0, slash);
  if (slash != std::string::npos && (first.find('.') != std::string::npos || first.find(':') != std::string::npos || first == "localhost")) {
    r.host = first;
    rest = rest.substr(slash + 1);
  } else {
    r.host = "docker.io";
  }
  if (std::size_t at = rest.find('@'); at != std::string::npos) {
    r.reference = rest.substr(at + 1);
    rest = rest.substr(0, at);
    if (!verity::is_sha256_digest(r.reference)) throw Error(EINVAL, "invalid digest in image reference " + ref);
  } else if (std::size_t colon = rest.rfind(':'); colon != std::string::npos && rest.find('/', colon) == std::string::npos) {
    r.reference = rest.substr(colon + 1);
    rest = rest.substr(0, colon);
  } else {
    r.reference = "latest";
  }
  static const std::regex kName(R"([a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*)");
  static const std::regex kTag(R"([A-Za-z0-9_][A-Za-z0-9._-]{0,127})");
  if (!std::regex_match(rest, kName)) throw Error(EINVAL, "invalid repository name '" + rest + "' in image reference " + ref);
  if (!verity::is_sha256_digest(r.reference) && !std::regex_match(r.reference, kTag)) {
    throw Error(EINVAL, "invalid tag '" + r.reference + "' in image reference " + ref);
  }
  if (r.host == "docker.io") {
    r.host = "registry-1.docker.io";
    if (rest.find('/') == std::string::npos) rest = "library/" + rest;
  }
  r.repository = rest;
  return r;
}

bool registry_insecure(const std::string& host) {
  const char* env = std::getenv("CONTAINERS_REGISTRIES_CONF");
  std::optional<std::string> text = read_file(env != nullptr ? env : "/etc/containers/registries.conf");
  if (!text) return false;
  std::istringstream in(*text);
  std::string line, section;
  std::string location;
  bool insecure = false;
  auto block_matches = [&] { return insecure && location == host; };
  while (std::getline(in, line)) {
    line = trim(line.substr(0, line.find('#')));
    if (line.empty()) continue;
    if (line.starts_with("[")) {
      if (block_matches()) return true;
      section = line;
      location.clear();
      insecure = false;
      continue;
    }
    std::size_t eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string key = trim(line.substr(0, eq)), value = trim(line.substr(eq + 1));
    if (section == "[[registry]]") {
      if (key == "location") location = toml_strings(value).empty() ? "" : toml_strings(value)[0];
      if (key == "insecure") insecure = value == "true";
    } else if (section == "[registries.insecure]" && key == "registries") {  // the v1 format
      for (const std::string& r : toml_strings(value)) {
        if (r == host) return true;
      }
    }
  }
  return block_matches();
}

std::unique_ptr<ImageSource> open_registry(const std::string& ref, const SourceOptions& options) {
  return std::make_unique<Registry>(parse_registry_reference(ref), options);
}

}  // namespace cfs::oci
