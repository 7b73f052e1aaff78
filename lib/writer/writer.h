// Tree -> composefs image bytes, byte-identical to upstream mkcomposefs 1.0.8
// (docs/format.md). Layer: writer (pure: no I/O; bytes go to a sink in file order).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "tree/tree.h"

namespace cfs::writer {

struct Options {
  std::uint32_t min_version = 0;
  std::uint32_t max_version = 1;
};

using ByteSink = std::function<void(std::span<const std::byte>)>;

// Writes the image of `tree` to `sink` in order and returns the format version it chose
// (min_version, or 1 for a tree with whiteouts where max_version allows). Throws Error with
// upstream's errno on an unwritable tree (EINVAL, EFBIG, ELOOP, ERANGE); nothing is
// guaranteed about what the sink received before the throw. The tree is not modified.
std::uint32_t write(const tree::Tree& tree, const Options& options, const ByteSink& sink);

std::vector<std::byte> write_to_vector(const tree::Tree& tree, const Options& options = {});

}  // namespace cfs::writer
