// The text files of an SELinux policy as composefs-rs 0.9 reads them (crates/composefs-boot/
// src/selabel.rs: its own parser, not libselinux's): /etc/selinux/config, file_contexts and
// its .local, .homedirs, .subs and .subs_dist. Layer: boot (pure: text in, values out).
//
// Lines are split at '\n' (a trailing '\r' dropped) and must be UTF-8; fields are separated by
// Unicode white space (Rust's split_whitespace); a line whose first field starts with '#' is
// a comment. A malformed line is Error(EINVAL) "<file>:<line>: <what>" (lines from 1).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace cfs::boot {

// One line of a file_contexts file: "REGEX [-T] CONTEXT".
struct Spec {
  std::string regex;    // as written
  char type = 0;        // 0: any file type; else one of "bcdpls-" (selabel_file(5))
  std::string context;  // "<<none>>": the file gets no label
  std::string file;     // where it was read, for errors
  std::size_t line = 0;
};

// Appends the lines of one file_contexts file to `specs`, in file order.
void parse_spec_file(std::string_view text, const std::string& file, std::vector<Spec>& specs);

// Reads an alias file: "ALIAS ORIGINAL" per line; a later line replaces an earlier alias.
void parse_subs_file(std::string_view text, const std::string& file,
                     std::unordered_map<std::string, std::string>& aliases);

// SELINUXTYPE's value in /etc/selinux/config: the first line "KEY=VALUE" whose trimmed key is
// SELINUXTYPE in any case, trimmed. nullopt: no such line.
std::optional<std::string> parse_selinux_type(std::string_view text, const std::string& file);

}  // namespace cfs::boot
