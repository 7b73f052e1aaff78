#include "boot/file_contexts.h"

#include <cerrno>

#include "base/error.h"

namespace cfs::boot {
namespace {

[[noreturn]] void bad_line(const std::string& file, std::size_t line, const std::string& what) {
  throw Error(EINVAL, file + ":" + std::to_string(line) + ": " + what);
}

// The code point at `s[i]` (valid UTF-8 already checked) and its length.
char32_t decode(std::string_view s, std::size_t i, std::size_t& len) {
  auto b = static_cast<unsigned char>(s[i]);
  if (b < 0x80) {
    len = 1;
    return b;
  }
  len = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : 2;
  char32_t c = b & (0x3F >> (len - 1));
  for (std::size_t k = 1; k < len; ++k)
    c = (c << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
  return c;
}

bool valid_utf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    auto b = static_cast<unsigned char>(s[i]);
    std::size_t len = b < 0x80           ? 1
                      : (b >> 5) == 0x6  ? 2
                      : (b >> 4) == 0xE  ? 3
                      : (b >> 3) == 0x1E ? 4
                                         : 0;
    if (len == 0 || i + len > s.size()) return false;
    for (std::size_t k = 1; k < len; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    }
    std::size_t n;
    char32_t c = decode(s, i, n);
    // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
    if ((len == 2 && c < 0x80) || (len == 3 && c < 0x800) ||
        (len == 4 && (c < 0x10000 || c > 0x10FFFF)) || (c >= 0xD800 && c <= 0xDFFF)) {
      return false;
    }
    i += len;
  }
  return true;
}

// Unicode White_Space, as Rust's char::is_whitespace.
bool is_space(char32_t c) {
  return (c >= 0x9 && c <= 0xD) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F ||
         c == 0x3000;
}

std::vector<std::string_view> fields(std::string_view line) {
  std::vector<std::string_view> out;
  std::size_t start = std::string_view::npos;
  for (std::size_t i = 0; i < line.size();) {
    std::size_t len;
    bool space = is_space(decode(line, i, len));
    if (space && start != std::string_view::npos) {
      out.push_back(line.substr(start, i - start));
      start = std::string_view::npos;
    } else if (!space && start == std::string_view::npos) {
      start = i;
    }
    i += len;
  }
  if (start != std::string_view::npos) out.push_back(line.substr(start));
  return out;
}

std::string_view trim(std::string_view s) {
  std::vector<std::string_view> f = fields(s);
  if (f.empty()) return {};
  return std::string_view(f.front().data(), f.back().data() + f.back().size() - f.front().data());
}

// Calls `each(line, number)` for every line (numbers from 1), checking UTF-8, until it returns
// false (the lines after it are not read, as Rust's reader stops).
template <class F>
void for_each_line(std::string_view text, const std::string& file, F&& each) {
  std::size_t number = 0;
  while (!text.empty()) {
    std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (line.ends_with('\r')) line.remove_suffix(1);
    ++number;
    if (!valid_utf8(line)) bad_line(file, number, "not valid UTF-8");
    if (!each(line, number)) return;
  }
}

}  // namespace

void parse_spec_file(std::string_view text, const std::string& file, std::vector<Spec>& specs) {
  for_each_line(text, file, [&](std::string_view line, std::size_t number) {
    std::vector<std::string_view> f = fields(line);
    if (f.empty() || f[0].starts_with('#')) return true;
    if (f.size() < 2) bad_line(file, number, "no context after the regular expression");
    Spec s{.regex = std::string(f[0]), .file = file, .line = number};
    std::size_t next = 1;
    if (f[1].starts_with('-')) {
      std::string_view code = f[1].substr(1);
      if (code.size() != 1 || std::string_view("bcdpls-").find(code[0]) == std::string_view::npos) {
        bad_line(file, number,
                 "invalid file type " + std::string(f[1]) + " (one of -b -c -d -p -l -s --)");
      }
      s.type = code[0];
      if (f.size() < 3) bad_line(file, number, "no context after the file type");
      next = 2;
    }
    if (f.size() > next + 1) bad_line(file, number, "trailing data after the context");
    s.context = std::string(f[next]);
    specs.push_back(std::move(s));
    return true;
  });
}

void parse_subs_file(std::string_view text, const std::string& file,
                     std::unordered_map<std::string, std::string>& aliases) {
  for_each_line(text, file, [&](std::string_view line, std::size_t number) {
    std::vector<std::string_view> f = fields(line);
    if (f.empty() || f[0].starts_with('#')) return true;
    if (f.size() < 2) bad_line(file, number, "no original path after the alias");
    if (f.size() > 2) bad_line(file, number, "trailing data after the original path");
    aliases[std::string(f[0])] = std::string(f[1]);
    return true;
  });
}

std::optional<std::string> parse_selinux_type(std::string_view text, const std::string& file) {
  std::optional<std::string> found;
  for_each_line(text, file, [&](std::string_view line, std::size_t) {
    std::size_t eq = line.find('=');
    if (eq == std::string_view::npos) return true;
    std::string_view key = trim(line.substr(0, eq));
    if (key.size() != 11) return true;
    for (std::size_t i = 0; i < 11; ++i) {
      char c = key[i];
      if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
      if (c != "SELINUXTYPE"[i]) return true;
    }
    found = std::string(trim(line.substr(eq + 1)));
    return false;
  });
  return found;
}

}  // namespace cfs::boot
