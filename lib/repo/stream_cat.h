// `cfsctl cat`: a stream of the repository by name, reassembled (inline bytes, then each
// external object's bytes, in stream order), as composefs-rs's merge_splitstream gives it.
// Layer: repo.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>

#include "repo/repository.h"

namespace cfs::repo {

// The splitstream object streams/NAME links to: NAME is an entry of streams/ ("oci-layer-
// sha256:…") or "refs/" and a ref below streams/refs/ ("refs/oci/myimage"), which links to such
// an entry. Error(ENOENT) "stream NAME not found"; a ref with another link text is corrupt.
Digest resolve_stream(const Repository& repo, const std::string& name);

using ByteSink = std::function<void(std::span<const std::byte>)>;

// Hands the stream's bytes to `out` in order. With `content_type`, a stream of another type is
// refused (Error EUCLEAN) before anything is written; an external object that is missing is an
// Error (what was written stays written: the caller's output is a pipe).
void cat_stream(const Repository& repo, const Digest& stream,
                std::optional<std::uint64_t> content_type, const ByteSink& out);

}  // namespace cfs::repo
