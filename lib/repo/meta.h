// meta.json of a composefs repository, as composefs-rs (cfsctl 0.9) writes and reads it:
// format version, fs-verity algorithm, feature lists and EROFS format versions
// (docs/repository.md). Layer: repo (pure).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/digest.h"

namespace cfs::repo {

struct Meta {
  std::uint32_t version = 1;
  HashAlgorithm algorithm = HashAlgorithm::kSha512;
  std::vector<std::string> compatible, read_only_compatible, incompatible;
  std::uint32_t erofs_default = 1;          // EROFS format version of new images
  std::vector<std::uint32_t> erofs_extra;  // more versions written beside it (sorted)

  // What `cfsctl init` writes: v1_erofs is a read-only-compatible feature exactly when the
  // default format is 1.
  static Meta for_init(HashAlgorithm algorithm, std::uint32_t erofs_version);
  // serde_json's pretty form, keys in composefs-rs's order, with a final newline.
  std::string to_json() const;
  // Unknown keys are ignored; a missing erofs_formats (or exactly {"default": 2}) means
  // format 2 unless v1_erofs is listed. Throws Error(EINVAL) naming what is wrong.
  static Meta parse(std::string_view json);
  friend bool operator==(const Meta&, const Meta&) = default;
};

// "fsverity-sha512-12" and back; parse_algorithm throws Error(EINVAL) with cfsctl's messages.
std::string algorithm_name(HashAlgorithm algorithm);
HashAlgorithm parse_algorithm(std::string_view name);

inline constexpr std::uint32_t kMaxMetaVersion = 1;
inline constexpr std::string_view kFeatureV1Erofs = "v1_erofs";

}  // namespace cfs::repo
