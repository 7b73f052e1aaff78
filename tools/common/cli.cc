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

std::vector<MountOption> split_mount_options(std::string_view list) {
  std::vector<MountOption> out;
  std::string key, value;
  bool in_value = false;
  auto flush = [&] {
    if (!key.empty() || in_value) out.push_back({key, in_value ? std::optional(value) : std::nullopt});
    key.clear();
    value.clear();
    in_value = false;
  };
  for (std::size_t i = 0; i < list.size(); ++i) {
    char c = list[i];
    if (c == '\\' && i + 1 < list.size()) {
      (in_value ? value : key) += list[++i];
    } else if (c == ',') {
      flush();
    } else if (c == '=' && !in_value) {
      in_value = true;
    } else {
      (in_value ? value : key) += c;
    }
  }
  flush();
  return out;
}

std::string escape_mount_option(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == ',' || c == '\\' || c == '=') out += '\\';
    out += c;
  }
  return out;
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
