// Helpers shared by the command-line tools: upstream-style error output and argument helpers.
// Layer: tools. Tools print; the library never does.
#pragma once

#include <optional>
#include <string>
#include <vector>
#include <string_view>

#include "base/file_io.h"

namespace cfs::cli {

inline constexpr const char* kVersion = "composefs-cpp " CFS_VERSION " (composefs 1.0.8 compatible)";

// "<prog>: <message>\n" on stderr.
void error(std::string_view prog, std::string_view message);
// All of `text` to stdout; on failure "<prog>: write error: <strerror>" on stderr and false.
[[nodiscard]] bool print_out(std::string_view prog, std::string_view text);

// The basename of argv[0], as err(3) prints it.
std::string prog_name(const char* argv0);

// One -o item: a key and, after '=', its value.
struct MountOption {
  std::string key;
  std::optional<std::string> value;
};
// Splits a -o list "a=b,c\,d" into items, a backslash making the next character literal
// (mount.composefs's and composefs-fuse's one parser).
std::vector<MountOption> split_mount_options(std::string_view list);
// `value` written so that split_mount_options() reads it back whole: commas, '=' and
// backslashes escaped (a URL or a path must not add options of its own).
std::string escape_mount_option(std::string_view value);

// "A:B:C" -> {A, B, C}; nullopt if any component is empty (upstream's "incorrect format").
std::optional<std::vector<std::string>> split_basedirs(const std::string& value);

}  // namespace cfs::cli
