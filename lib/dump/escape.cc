#include "dump/escape.h"

#include "base/digest.h"
#include "base/error.h"

namespace cfs::dump {

std::string unescape(std::string_view field) {
  std::size_t first = field.find('\\');
  if (first == std::string_view::npos) return std::string(field);
  std::string out;
  out.reserve(field.size());
  out.append(field.substr(0, first));
  for (std::size_t i = first; i < field.size(); ++i) {
    char c = field[i];
    if (c != '\\') {
      out += c;
      continue;
    }
    if (++i == field.size()) throw Error(EINVAL, "No character after escape");
    switch (field[i]) {
      case '\\': out += '\\'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'x': {
        if (field.size() - i - 1 < 2) throw Error(EINVAL, "No hex characters after hex escape");
        int hi = hex_digit(field[i + 1]), lo = hex_digit(field[i + 2]);
        if (hi < 0 || lo < 0) throw Error(EINVAL, "Invalid hex characters after hex escape");
        out += static_cast<char>(hi << 4 | lo);
        i += 2;
        break;
      }
      default: throw Error(EINVAL, std::string("Unsupported escape type ") + field[i]);
    }
  }
  return out;
}

void append_escaped(std::string& out, std::string_view bytes, EscapeMode mode) {
  static constexpr char kHex[] = "0123456789abcdef";
  auto plain = [mode](unsigned char c) {
    return c > 0x20 && c < 0x7f && c != '\\' && !(c == '=' && mode == EscapeMode::kXattr);
  };
  while (!bytes.empty()) {
    // Runs of bytes that need no escaping are appended whole.
    std::size_t run = 0;
    while (run < bytes.size() && plain(static_cast<unsigned char>(bytes[run]))) ++run;
    out.append(bytes.data(), run);
    bytes.remove_prefix(run);
    if (bytes.empty()) break;
    char ch = bytes.front();
    bytes.remove_prefix(1);
    auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '\\': out += "\\\\"; continue;
      case '\n': out += "\\n"; continue;
      case '\r': out += "\\r"; continue;
      case '\t': out += "\\t"; continue;
      default: break;
    }
    bool raw = (c > 0x20 && c < 0x7f) || (c == ' ' && mode == EscapeMode::kSpaceRaw);
    if (c == '=' && mode == EscapeMode::kXattr) raw = false;
    if (raw) {
      out += ch;
    } else {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
}

}  // namespace cfs::dump
