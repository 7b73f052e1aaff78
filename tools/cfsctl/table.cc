#include "cfsctl/table.h"

#include <algorithm>

namespace cfs::cfsctl {
namespace {

// Display width: UTF-8 code points (what the names and digests here are made of).
std::size_t width(const std::string& s) {
  return static_cast<std::size_t>(std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

std::string repeat(const std::string& s, std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i) out += s;
  return out;
}

}  // namespace

std::string table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> w(header.size());
  for (std::size_t c = 0; c < header.size(); ++c) {
    w[c] = width(header[c]);
    for (const auto& r : rows) w[c] = std::max(w[c], width(r[c]));
  }
  auto line = [&](const char* left, const char* fill, const char* mid, const char* right) {
    std::string out = left;
    for (std::size_t c = 0; c < w.size(); ++c) out += repeat(fill, w[c] + 2) + (c + 1 < w.size() ? mid : right);
    return out + "\n";
  };
  auto row = [&](const std::vector<std::string>& cells) {
    std::string out = "│";
    for (std::size_t c = 0; c < w.size(); ++c) {
      out += " " + cells[c] + std::string(w[c] - width(cells[c]), ' ') + " " + (c + 1 < w.size() ? "┆" : "│");
    }
    return out + "\n";
  };
  std::string out = line("┌", "─", "┬", "┐") + row(header) + line("╞", "═", "╪", "╡");
  for (std::size_t i = 0; i < rows.size(); ++i) {
    out += row(rows[i]);
    if (i + 1 < rows.size()) out += line("├", "╌", "┼", "┤");
  }
  return out + line("└", "─", "┴", "┘");
}

}  // namespace cfs::cfsctl
