#include "repo/meta.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "base/error.h"
#include "format/rules.h"

namespace cfs::repo {
namespace {

std::string json_string_array(const std::vector<std::string>& items, const std::string& indent) {
  if (items.empty()) return "[]";
  std::string out = "[\n";
  for (std::size_t i = 0; i < items.size(); ++i) {
    out += indent + "  " + nlohmann::json(items[i]).dump() + (i + 1 < items.size() ? ",\n" : "\n");
  }
  return out + indent + "]";
}

// The EROFS format versions there are: 0 and 1 (upstream's), 2 (composefs-rs's legacy V2).
void check_erofs_version(std::uint32_t version) {
  if (version > format::kFormatV2) throw Error(EINVAL, "unknown EROFS format version " + std::to_string(version));
}

std::vector<std::string> strings_at(const nlohmann::json& obj, const char* key) {
  std::vector<std::string> out;
  if (!obj.contains(key)) return out;
  for (const auto& v : obj.at(key)) out.push_back(v.get<std::string>());
  return out;
}

}  // namespace

std::string algorithm_name(HashAlgorithm algorithm) { return "fsverity-" + std::string(hash_name(algorithm)) + "-12"; }

HashAlgorithm parse_algorithm(std::string_view name) {
  constexpr std::string_view kPrefix = "fsverity-";
  if (!name.starts_with(kPrefix)) throw Error(EINVAL, "algorithm must start with 'fsverity-'");
  name.remove_prefix(kPrefix.size());
  std::size_t dash = name.find('-');
  if (dash == std::string_view::npos) throw Error(EINVAL, "algorithm must be fsverity-<hash>-<lg_blocksize>");
  std::string_view hash = name.substr(0, dash), lg = name.substr(dash + 1);
  HashAlgorithm a;
  if (hash == "sha256") {
    a = HashAlgorithm::kSha256;
  } else if (hash == "sha512") {
    a = HashAlgorithm::kSha512;
  } else {
    throw Error(EINVAL, "unsupported hash algorithm '" + std::string(hash) + "' (expected sha256 or sha512)");
  }
  if (lg != "12") throw Error(EINVAL, "unsupported lg_blocksize " + std::string(lg) + " (only 12 is currently supported)");
  return a;
}

Meta Meta::for_init(HashAlgorithm algorithm, std::uint32_t erofs_version) {
  Meta m;
  m.algorithm = algorithm;
  m.erofs_default = erofs_version;
  if (erofs_version == 1) m.read_only_compatible.emplace_back(kFeatureV1Erofs);
  return m;
}

std::string Meta::to_json() const {
  std::string out = "{\n";
  out += "  \"version\": " + std::to_string(version) + ",\n";
  out += "  \"algorithm\": " + nlohmann::json(algorithm_name(algorithm)).dump() + ",\n";
  out += "  \"features\": {\n";
  out += "    \"compatible\": " + json_string_array(compatible, "    ") + ",\n";
  out += "    \"read-only-compatible\": " + json_string_array(read_only_compatible, "    ") + ",\n";
  out += "    \"incompatible\": " + json_string_array(incompatible, "    ") + "\n";
  out += "  },\n";
  out += "  \"erofs_formats\": {\n";
  out += "    \"default\": " + std::to_string(erofs_default);
  if (!erofs_extra.empty()) {
    out += ",\n    \"extra\": [\n";
    for (std::size_t i = 0; i < erofs_extra.size(); ++i) {
      out += "      " + std::to_string(erofs_extra[i]) + (i + 1 < erofs_extra.size() ? ",\n" : "\n");
    }
    out += "    ]";
  }
  out += "\n  }\n}\n";
  return out;
}

Meta Meta::parse(std::string_view text) {
  try {
    nlohmann::json j = nlohmann::json::parse(text);
    Meta m;
    m.version = j.at("version").get<std::uint32_t>();
    m.algorithm = parse_algorithm(j.at("algorithm").get<std::string>());
    if (j.contains("features")) {
      const auto& f = j.at("features");
      m.compatible = strings_at(f, "compatible");
      m.read_only_compatible = strings_at(f, "read-only-compatible");
      m.incompatible = strings_at(f, "incompatible");
    }
    bool v1 = std::find(m.read_only_compatible.begin(), m.read_only_compatible.end(), kFeatureV1Erofs) !=
              m.read_only_compatible.end();
    m.erofs_default = v1 ? 1 : 2;
    if (j.contains("erofs_formats")) {
      const auto& e = j.at("erofs_formats");
      bool plain_v2 = e.size() == 1 && e.contains("default") && e.at("default") == 2;
      if (!plain_v2 || !v1) {
        m.erofs_default = e.at("default").get<std::uint32_t>();
        if (e.contains("extra")) m.erofs_extra = e.at("extra").get<std::vector<std::uint32_t>>();
        std::sort(m.erofs_extra.begin(), m.erofs_extra.end());
      }
    }
    for (std::uint32_t v : m.erofs_extra) check_erofs_version(v);
    check_erofs_version(m.erofs_default);
    return m;
  } catch (const nlohmann::json::exception& e) {
    throw Error(EINVAL, std::string("parsing meta.json: ") + e.what());
  }
}

}  // namespace cfs::repo
