// Seeded random trees for property tests: every file type, odd names, xattrs of all
// namespaces, inline and external files, hard links, whiteouts; deterministic per seed.
#pragma once

#include <cstdint>

#include "tree/tree.h"

namespace cfs::test {

tree::Tree random_tree(std::uint64_t seed);

}  // namespace cfs::test
