#include "oci/manifest.h"

#include <sys/utsname.h>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "oci/document_json.h"
#include "verity/sha256.h"

namespace cfs::oci {
using json = nlohmann::json;
using namespace document_json;

std::string manifest_accept_header() {
  return std::string(kOciIndex) + ", " + std::string(kOciManifest) + ", " + std::string(kDockerList) + ", " +
         std::string(kDockerManifest);
}

DocumentKind document_kind(std::string_view bytes, std::string_view media_type) {
  json j = parse(bytes, "manifest");
  std::string own = optional_string(j, "mediaType");
  auto it = j.find("schemaVersion");
  if (it != j.end() && it->is_number_unsigned() && it->get<std::uint64_t>() == 1) throw_corrupt("Docker schema 1 manifests are not supported");
  std::string_view type = media_type.empty() ? std::string_view(own) : media_type;
  if (!media_type.empty() && !own.empty() && own != media_type) {
    throw_corrupt("manifest: its mediaType " + own + " is not the " + std::string(media_type) + " it was served as");
  }
  if (type == kOciIndex || type == kDockerList) return DocumentKind::kIndex;
  if (type == kOciManifest || type == kDockerManifest) return DocumentKind::kManifest;
  if (type.empty() || type == "application/json") {  // untyped: what it holds decides
    if (j.contains("manifests")) return DocumentKind::kIndex;
    if (j.contains("layers")) return DocumentKind::kManifest;
  }
  throw_corrupt("unsupported manifest media type '" + std::string(type) + "'");
}

Platform host_platform() {
  Platform p;
  utsname u{};
  ::uname(&u);
  std::string m = u.machine;
  if (m == "x86_64") p.architecture = "amd64";
  else if (m == "aarch64") p.architecture = "arm64";
  else if (m == "i686" || m == "i386") p.architecture = "386";
  else if (m.starts_with("armv7")) p.architecture = "arm", p.variant = "v7";
  else p.architecture = m;  // ppc64le, s390x, riscv64 are their GOARCH names
  return p;
}

Descriptor select_from_index(std::string_view index_bytes, const Platform& platform) {
  json j = parse(index_bytes, "index");
  const json& list = member(j, "manifests", "index");
  if (!list.is_array()) throw_corrupt("index: \"manifests\" is not an array");
  for (const json& entry : list) {
    Descriptor d = descriptor(entry, "index");
    if (!d.media_type.empty() && d.media_type != kOciManifest && d.media_type != kDockerManifest &&
        d.media_type != kOciIndex && d.media_type != kDockerList) {
      continue;  // unknown types are skipped
    }
    auto p = entry.find("platform");
    if (p == entry.end() || !p->is_object()) continue;
    if (optional_string(*p, "os") != platform.os || optional_string(*p, "architecture") != platform.architecture) continue;
    std::string variant = optional_string(*p, "variant");
    if (!platform.variant.empty() && !variant.empty() && variant != platform.variant) continue;
    if (platform.variant.empty() && !variant.empty() && !(platform.architecture == "arm64" && variant == "v8")) continue;
    return d;
  }
  throw_corrupt("no image for " + platform.os + "/" + platform.architecture + " in the index");
}

Manifest parse_manifest(std::string_view bytes) {
  json j = parse(bytes, "manifest");
  Manifest m;
  m.config = descriptor(member(j, "config", "manifest"), "manifest config");
  if (m.config.media_type == kDockerConfig) m.config.media_type = kOciConfig;
  const json& layers = member(j, "layers", "manifest");
  if (!layers.is_array()) throw_corrupt("manifest: \"layers\" is not an array");
  for (const json& l : layers) m.layers.push_back(descriptor(l, "manifest layer"));
  return m;
}

std::optional<Compression> layer_compression(std::string_view t) {
  auto strip = [&](std::string_view prefix) { return t.starts_with(prefix) ? t.substr(prefix.size()) : std::string_view(); };
  std::string_view oci = strip("application/vnd.oci.image.layer.");
  if (oci.starts_with("nondistributable.")) oci.remove_prefix(17);
  if (oci == "v1.tar") return Compression::kNone;
  if (oci == "v1.tar+gzip") return Compression::kGzip;
  if (oci == "v1.tar+zstd") return Compression::kZstd;
  if (t == "application/vnd.docker.image.rootfs.diff.tar.gzip" ||
      t == "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip") {
    return Compression::kGzip;
  }
  if (t == "application/vnd.docker.image.rootfs.diff.tar") return Compression::kNone;
  return std::nullopt;
}

Config parse_config(std::string_view bytes) {
  json j = parse(bytes, "config");
  Config c;
  c.architecture = optional_string(j, "architecture");
  c.os = optional_string(j, "os");
  if (auto it = j.find("created"); it != j.end() && it->is_string()) c.created = it->get<std::string>();
  auto rootfs = j.find("rootfs");
  if (rootfs == j.end() || !rootfs->is_object()) throw_corrupt("config: no \"rootfs\"");
  const json& ids = member(*rootfs, "diff_ids", "config rootfs");
  if (!ids.is_array()) throw_corrupt("config: \"diff_ids\" is not an array");
  for (const json& id : ids) {
    if (!id.is_string() || !verity::is_sha256_digest(id.get<std::string>())) throw_corrupt("config: a diff_id is not a sha256 digest");
    c.diff_ids.push_back(id.get<std::string>());
  }
  // config.Labels: string values only (oci-spec's map; another type is not a label we read).
  if (auto cfg = j.find("config"); cfg != j.end() && cfg->is_object()) {
    if (auto labels = cfg->find("Labels"); labels != cfg->end() && labels->is_object()) {
      for (const auto& [k, v] : labels->items()) {
        if (v.is_string()) c.labels[k] = v.get<std::string>();
      }
    }
  }
  return c;
}

bool is_image_config(std::string_view media_type) { return media_type == kOciConfig || media_type == kDockerConfig; }

}  // namespace cfs::oci
