// registries.conf as containers/image reads it for a docker:// pull (containers-registries.conf(5)
// and containers-registries.conf.d(5)): every rule about which registry, mirror and transport
// an image name is fetched from is here. Layer: oci (parse and pull_sources are pure; load
// reads files).
//
// Files: $CONTAINERS_REGISTRIES_CONF, else ~/.config/containers/registries.conf if it exists,
// else /etc/containers/registries.conf; then the drop-ins *.conf of
// /etc/containers/registries.conf.d and ~/.config/containers/registries.conf.d in lexical
// order (with the per-user file, only the per-user directory), as podman 4.3 does: a missing
// file is an empty one. A drop-in replaces the [[registry]] of the same prefix and appends new
// ones. The v1 tables [registries.insecure] and [registries.block] become [[registry]] entries.
//
// [[registry]]: prefix (default: location; the longest match wins, "*.example.com" matches any
// subdomain), location (replaces the matched prefix), insecure (plain HTTP or unverified TLS),
// blocked, mirror-by-digest-only, and [[registry.mirror]] tables {location, insecure,
// pull-from-mirror = all | digest-only | tag-only}, tried in order before the location.
//
// Not used: unqualified-search-registries, short-name-mode and [aliases] are podman's for names
// given without a transport; `docker://NAME` is always docker.io/NAME, for skopeo (and so
// composefs-rs) as for podman. They are checked for their types, as a wrong file is wrong.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace cfs::oci {

enum class MirrorUse { kAll, kDigestOnly, kTagOnly };

struct RegistryMirror {
  std::string location;
  bool insecure = false;
  MirrorUse use = MirrorUse::kAll;
};

struct RegistryEntry {
  std::string prefix;    // "example.com/foo", "*.example.com"
  std::string location;  // "" only for a wildcard prefix: names are kept as they are
  bool insecure = false, blocked = false, mirror_by_digest_only = false;
  std::vector<RegistryMirror> mirrors;
  std::string source;  // the file that defined it, for messages
};

struct RegistriesConf {
  std::vector<RegistryEntry> registries;
  std::vector<std::string> files;  // every file read, in order
};

// One file's text over `conf`. Error(EINVAL) "SOURCE:LINE:COL: what" for bad TOML, a wrong
// type or value.
void merge_registries_conf(RegistriesConf& conf, std::string_view text, const std::string& source);
// The files named above, read in order.
RegistriesConf load_registries_conf();

// An endpoint a docker:// name is fetched from.
struct PullSource {
  std::string domain, path;  // physical: after the location rewrite
  std::string reference;     // the tag or digest
  bool insecure = false;
  bool mirror = false;
  std::string name() const;  // "mirror.local/foo/app:1", for messages
};

// The endpoints to try for `ref` (a docker:// name without the transport), mirrors first, the
// primary location last. Error(kRefused) naming the name and the file when it is blocked;
// Error(EINVAL) for a bad name or a rewrite that gives one.
std::vector<PullSource> pull_sources(const RegistriesConf& conf, const std::string& ref);

}  // namespace cfs::oci
