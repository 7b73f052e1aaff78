// Tree -> composefs image bytes, byte-identical to upstream mkcomposefs 1.0.8
// (docs/format.md), or to composefs-rs's legacy format 2 (format/rules.h).
// Layer: writer (pure: no I/O; bytes go to a sink in file order).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "tree/tree.h"

namespace cfs::writer {

struct Options {
  std::uint32_t min_version = 0;  // upstream's versions: 0 or 1
  std::uint32_t max_version = 1;
  bool format_v2 = false;  // composefs-rs's format 2 instead (the versions above are unused)

  // Exactly format `version`: 0, 1 or 2 (anything else: write() throws EINVAL).
  static Options exactly(std::uint32_t version) {
    return version == 2 ? Options{0, 0, true} : Options{version, version, false};
  }
};

using ByteSink = std::function<void(std::span<const std::byte>)>;

// Writes the image of `tree` to `sink` in order and returns the format version it chose
// (2 for format_v2; else min_version, or 1 for a tree with whiteouts where max_version allows). Throws Error with
// upstream's errno on an unwritable tree (EINVAL, EFBIG, ELOOP, ERANGE); nothing is
// guaranteed about what the sink received before the throw. The tree is not modified.
std::uint32_t write(const tree::Tree& tree, const Options& options, const ByteSink& sink);

std::vector<std::byte> write_to_vector(const tree::Tree& tree, const Options& options = {});

}  // namespace cfs::writer
