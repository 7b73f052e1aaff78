// Tree -> composefs-dump(5) text, exactly as upstream `composefs-info dump` prints it
// (docs/format.md §10). Layer: dump (pure). Output is handed to `out` in chunks.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "tree/tree.h"

namespace cfs::dump {

using TextSink = std::function<void(std::string_view)>;

void print(const tree::Tree& tree, const TextSink& out);
std::string print_to_string(const tree::Tree& tree);

// Appends one entry's line: `inode` shown under `path`; when `primary` is set, the inode was
// shown before under that path and the line is a hard link to it.
void append_line(std::string& out, std::string_view path, const tree::Node& inode,
                 const std::string* primary);

// A later name of a leaf as composefs-rs's dumpfiles (cfsctl dump-files) write it:
// "<path> 0 @120000 - - - - 0.0 <primary> - -".
void append_composefs_rs_link_line(std::string& out, std::string_view path, std::string_view primary);

}  // namespace cfs::dump
