// `cfsctl oci layer`: a stored layer looked at without an image around it — its numbers
// (composefs-rs's LayerInfo), its entries as dumpfile lines, its tar. Layer: oci.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "repo/repository.h"

namespace cfs::oci {

// The layer's splitstream (streams/oci-layer-<diff_id>); Error(ENOENT) "Layer D not found".
Digest layer_stream(const repo::Repository& repo, const std::string& diff_id);

struct LayerInfo {
  std::string diff_id;
  Digest verity;           // the splitstream object
  std::uint64_t size = 0;  // of the tar
  std::uint64_t entry_count = 0;
  std::uint64_t external_objects = 0;  // distinct objects the stream names
  std::uint64_t external_size = 0;     // bytes of the files kept as objects
  std::uint64_t inline_size = 0;       // the rest: headers, small files, padding
};
LayerInfo layer_info(const repo::Repository& repo, const std::string& diff_id);

// One composefs dumpfile line per tar entry, in tar order, as composefs-rs prints a TarEntry
// (nlink 1, the root as "-", a hard link as "@120000" to its target, xattrs sorted).
void layer_dumpfile(const repo::Repository& repo, const std::string& diff_id,
                    const std::function<void(std::string_view)>& out);

}  // namespace cfs::oci
