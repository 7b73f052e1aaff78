// What a composefs-rs splitstream (streams/: OCI layers, configs, manifests) refers to: the
// streams and objects it needs, and its named references, read from its header sections
// without reassembling the stream (docs/repository.md). Layer: repo. Checks every bound: a
// hostile file is an Error (EUCLEAN), never a crash.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "base/digest.h"

namespace cfs::repo {

struct SplitStreamRefs {
  std::uint64_t content_type = 0;
  std::vector<Digest> stream_refs;  // other splitstreams (or images) it names
  std::vector<Digest> object_refs;  // objects its content is made of
  std::vector<std::pair<std::size_t, std::string>> named_refs;  // index into stream_refs, name
};

// `bytes` is the whole file. The named references (zstd-compressed) are read only when
// `with_names`.
SplitStreamRefs read_splitstream_refs(std::span<const std::byte> bytes, HashAlgorithm algorithm, bool with_names);

inline constexpr std::string_view kSplitStreamMagic = "SplitStream";

}  // namespace cfs::repo
