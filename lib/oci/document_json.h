// Field readers for OCI JSON documents (manifests, indexes, configs), shared by the parsers
// of lib/oci: an absent field, a wrong type or a digest that is not sha256 is an Error
// (EUCLEAN) naming the document. Internal to lib/oci. Layer: oci (pure).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "base/error.h"
#include "oci/manifest.h"
#include "verity/sha256.h"

namespace cfs::oci::document_json {

using json = nlohmann::json;

inline json parse(std::string_view bytes, const char* what) {
  json j = json::parse(bytes, nullptr, false);
  if (j.is_discarded() || !j.is_object()) throw_corrupt(std::string(what) + ": not a JSON object");
  return j;
}

inline const json& member(const json& j, const char* key, const char* what) {
  auto it = j.find(key);
  if (it == j.end()) throw_corrupt(std::string(what) + ": no \"" + key + "\"");
  return *it;
}

inline std::string string_member(const json& j, const char* key, const char* what) {
  const json& v = member(j, key, what);
  if (!v.is_string()) throw_corrupt(std::string(what) + ": \"" + key + "\" is not a string");
  return v.get<std::string>();
}

inline std::string optional_string(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

inline Descriptor descriptor(const json& j, const char* what) {
  if (!j.is_object()) throw_corrupt(std::string(what) + ": a descriptor is not an object");
  Descriptor d;
  d.media_type = optional_string(j, "mediaType");
  d.digest = string_member(j, "digest", what);
  if (!verity::is_sha256_digest(d.digest))
    throw_corrupt(std::string(what) + ": unsupported digest " + d.digest);
  const json& size = member(j, "size", what);
  if (!size.is_number_unsigned())
    throw_corrupt(std::string(what) + ": \"size\" is not a non-negative integer");
  d.size = size.get<std::uint64_t>();
  return d;
}

}  // namespace cfs::oci::document_json
