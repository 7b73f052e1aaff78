// Tree -> composefs-dump(5) text, exactly as upstream `composefs-info dump` prints it
// (dump-format.md §8). Layer: dump (pure). Output is handed to `out` in chunks.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "tree/tree.h"

namespace cfs::dump {

using TextSink = std::function<void(std::string_view)>;

void print(const tree::Tree& tree, const TextSink& out);
std::string print_to_string(const tree::Tree& tree);

// Visits every entry depth-first in name order, as dump and ls list them. For each entry the
// callback gets its path, the inode it names (aliases resolved) and, when that inode was
// already visited under another path, that first path (the "primary").
using EntryVisitor = std::function<void(const std::string& path, const tree::Node& inode,
                                        const tree::Node& entry, const std::string* primary)>;
void walk_entries(const tree::Tree& tree, const EntryVisitor& visit);

}  // namespace cfs::dump
