#include "common/cli.h"

#include <unistd.h>

#include <string>

#include "base/error.h"

namespace cfs::cli {

void error(std::string_view prog, std::string_view message) {
  std::string line(prog);
  line += ": ";
  line += message;
  line += '\n';
  try {
    write_all(STDERR_FILENO, line);
  } catch (const Error&) {
    // nowhere left to report it
  }
}

bool print_out(std::string_view prog, std::string_view text) {
  try {
    write_all(STDOUT_FILENO, text);
    return true;
  } catch (const Error& e) {
    error(prog, std::string("write error: ") + e.what());
    return false;
  }
}

std::string prog_name(const char* argv0) {
  std::string_view s = argv0 != nullptr ? argv0 : "";
  auto slash = s.rfind('/');
  return std::string(slash == std::string_view::npos ? s : s.substr(slash + 1));
}

std::optional<std::vector<std::string>> split_basedirs(const std::string& value) {
  std::vector<std::string> dirs;
  for (std::size_t start = 0;;) {
    std::size_t colon = value.find(':', start);
    std::string dir = value.substr(start, colon - start);
    if (dir.empty()) return std::nullopt;
    dirs.push_back(std::move(dir));
    if (colon == std::string::npos) return dirs;
    start = colon + 1;
  }
}

}  // namespace cfs::cli
