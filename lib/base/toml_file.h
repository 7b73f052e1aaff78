// One error shape for every TOML file we read: "FILE:LINE:COL: what". Header-only, for the
// libraries that link tomlplusplus (Debian's libtomlplusplus-dev). Layer: base.
#pragma once

#include <toml++/toml.h>

#include <string>
#include <string_view>

#include "base/error.h"

namespace cfs {

[[noreturn]] inline void toml_invalid(const std::string& file, const toml::node& at, const std::string& what) {
  const toml::source_position& p = at.source().begin;
  throw Error(EINVAL, file + ":" + std::to_string(p.line) + ":" + std::to_string(p.column) + ": " + what);
}

// `text` parsed; a syntax error names `file` and where in it.
inline toml::table parse_toml(std::string_view text, const std::string& file) {
  try {
    return toml::parse(text, file);
  } catch (const toml::parse_error& e) {
    const toml::source_position& p = e.source().begin;
    throw Error(EINVAL, file + ":" + std::to_string(p.line) + ":" + std::to_string(p.column) + ": " +
                            std::string(e.description()));
  }
}

}  // namespace cfs
