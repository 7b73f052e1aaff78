// composefs-dump(5) escaping: the parser's unescape and the printer's escape. Layer: dump.
#pragma once

#include <string>
#include <string_view>

namespace cfs::dump {

// Decodes \\ \n \r \t \xHH; throws Error(EINVAL) with upstream's message on a bad escape.
std::string unescape(std::string_view field);

enum class EscapeMode {
  kField,      // paths, payloads, content: '=' raw
  kXattr,      // xattr keys and values: '=' as \x3d
  kSpaceRaw,   // composefs-info ls paths: spaces raw
};
void append_escaped(std::string& out, std::string_view bytes, EscapeMode mode);

}  // namespace cfs::dump
