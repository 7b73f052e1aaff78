#include "oci/source.h"

#include <algorithm>

#include "base/error.h"
#include "net/retry.h"
#include "oci/cstor/source.h"
#include "oci/local_sources.h"
#include "oci/registry.h"
#include "verity/sha256.h"

namespace cfs::oci {
namespace {

constexpr std::uint64_t kMaxConfig = 16 << 20;
constexpr int kMaxIndexDepth = 4;

// "PATH[:TAG]": the last ':' separates a tag only when no '/' follows it.
std::pair<std::string, std::string> path_and_tag(const std::string& s) {
  std::size_t colon = s.rfind(':');
  if (colon == std::string::npos || s.find('/', colon) != std::string::npos) return {s, ""};
  return {s.substr(0, colon), s.substr(colon + 1)};
}

}  // namespace

std::unique_ptr<ImageSource> open_source(const std::string& image, const SourceOptions& options) {
  std::size_t colon = image.find(':');
  if (colon == std::string::npos) throw Error(EINVAL, "Missing ':' in " + image).wrap("Parsing image reference transport");
  std::string transport = image.substr(0, colon), rest = image.substr(colon + 1);
  static const char* kKnown[] = {"docker", "registry", "oci", "oci-archive", "docker-archive", "containers-storage", "dir", "docker-daemon"};
  if (std::find(std::begin(kKnown), std::end(kKnown), transport) == std::end(kKnown)) {
    throw Error(EINVAL, "Unknown transport '" + transport + "'").wrap("Parsing image reference transport");
  }
  if (transport == "docker") {
    if (!rest.starts_with("//")) throw Error(EINVAL, "Missing // in docker:// in " + image).wrap("Parsing image reference transport");
    rest = rest.substr(2);
  }
  if (rest.empty()) throw Error(EINVAL, "Invalid empty name in " + image).wrap("Parsing image reference transport");
  if (transport == "docker") return open_registry(rest, options);
  if (transport == "oci") {
    auto [path, tag] = path_and_tag(rest);
    return open_layout(path, tag);
  }
  if (transport == "docker-archive") {  // as containers/image: the path ends at the first ':'
    std::size_t c = rest.find(':');
    return open_docker_archive(rest.substr(0, c), c == std::string::npos ? "" : rest.substr(c + 1));
  }
  if (transport == "oci-archive") {
    auto [path, tag] = path_and_tag(rest);
    return open_oci_archive(path, tag);
  }
  if (transport == "dir") return open_dir(rest);
  if (transport == "containers-storage") return cstor::open_containers_storage(rest);
  throw Error(ENOTSUP, "the " + transport + ": transport is not supported (docker://, oci:, oci-archive:, dir:, docker-archive: and containers-storage: are)");
}

std::string read_small_blob(ImageSource& source, const Descriptor& blob) {
  if (blob.size > kMaxConfig) throw_corrupt("blob " + blob.digest + " is larger than 16 MiB");
  std::string out(blob.size, '\0');
  net::with_retries([&] {  // a transfer cut mid-body is read again, as layers are
    std::unique_ptr<BlobReader> r = source.open_blob(blob);
    std::size_t got = 0;
    for (std::size_t n; got < out.size() && (n = r->read_some(std::as_writable_bytes(std::span(out)).subspan(got))) != 0;) got += n;
    std::byte extra[1];
    if (got != blob.size || r->read_some(extra) != 0) throw_corrupt("blob " + blob.digest + " does not have the size its descriptor says");
  });
  if (verity::sha256_digest(out) != blob.digest) throw_corrupt("blob " + blob.digest + " does not have that digest");
  return out;
}

ResolvedImage resolve(ImageSource& source) {
  std::string reference = source.reference();
  auto [bytes, type] = source.fetch_manifest(reference);
  std::string expected = verity::is_sha256_digest(reference) ? reference : "";
  for (int depth = 0;; ++depth) {
    if (!expected.empty() && verity::sha256_digest(bytes) != expected) throw_corrupt("manifest " + expected + " does not have that digest");
    if (document_kind(bytes, type) == DocumentKind::kManifest) break;
    if (depth == kMaxIndexDepth) throw_corrupt("indexes nested too deep");
    Descriptor d = select_from_index(bytes, host_platform());
    std::tie(bytes, type) = source.fetch_manifest(d.digest);
    if (type.empty()) type = d.media_type;
    expected = d.digest;
  }
  ResolvedImage img;
  img.manifest = bytes;
  img.manifest_digest = verity::sha256_digest(bytes);
  Manifest m = parse_manifest(bytes);
  img.config_blob = m.config;
  img.config = read_small_blob(source, m.config);
  img.config_digest = m.config.digest;
  img.container = is_image_config(m.config.media_type);
  if (!img.container) return img;
  Config c = parse_config(img.config);
  if (c.diff_ids.size() != m.layers.size()) {
    throw_corrupt("the manifest has " + std::to_string(m.layers.size()) + " layers but the config " +
                  std::to_string(c.diff_ids.size()) + " diff_ids");
  }
  for (std::size_t i = 0; i < m.layers.size(); ++i) {
    std::optional<Compression> comp = layer_compression(m.layers[i].media_type);
    if (!comp) throw_corrupt("layer " + m.layers[i].digest + ": unsupported media type '" + m.layers[i].media_type + "'");
    img.layers.push_back({m.layers[i], LayerBlob{m.layers[i].digest, m.layers[i].size, *comp, c.diff_ids[i]}});
  }
  return img;
}

}  // namespace cfs::oci
