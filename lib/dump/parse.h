// composefs-dump(5) text -> Tree, with upstream's validation rules and messages
// (spec: dump-format.md). Layer: dump (pure: bytes in, tree out).
#pragma once

#include <string_view>

#include "tree/tree.h"

namespace cfs::dump {

struct ParseOptions {
  bool strict = false;  // CFS_PARSE_STRICT: the four extra checks of dump-format.md §6
};

// Throws Error(EINVAL, message) with upstream's message on the first invalid entry.
tree::Tree parse(std::string_view text, const ParseOptions& options = {});

}  // namespace cfs::dump
