#include "boot/bls.h"

#include "boot/cmdline.h"

namespace cfs::boot {
namespace {

bool ascii_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

// "k=" for "k=v", the word itself otherwise.
std::string_view key_of(std::string_view arg) {
  std::size_t eq = arg.find('=');
  return eq == std::string_view::npos ? arg : arg.substr(0, eq + 1);
}

}  // namespace

std::optional<std::string_view> bls_value(std::string_view line, std::string_view key) {
  if (!line.starts_with(key) || line.size() == key.size() || !ascii_space(line[key.size()]))
    return std::nullopt;
  std::string_view rest = line.substr(key.size());
  while (!rest.empty() && ascii_space(rest.front())) rest.remove_prefix(1);
  return rest;
}

EntryFile EntryFile::parse(std::string_view text) {
  std::vector<std::string> lines;
  while (!text.empty()) {
    std::size_t nl = text.find('\n');
    lines.emplace_back(text.substr(0, nl));
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
  }
  return EntryFile(std::move(lines));
}

std::string EntryFile::text() const {
  std::string out;
  for (const std::string& l : lines_) out += l + "\n";
  return out;
}

std::vector<std::string_view> EntryFile::values(std::string_view key) const {
  std::vector<std::string_view> out;
  for (const std::string& l : lines_) {
    if (auto v = bls_value(l, key)) out.push_back(*v);
  }
  return out;
}

std::optional<std::string_view> EntryFile::value(std::string_view key) const {
  for (const std::string& l : lines_) {
    if (auto v = bls_value(l, key)) return v;
  }
  return std::nullopt;
}

void EntryFile::set_value(std::size_t index, std::string_view key, std::string_view value) {
  std::string& line = lines_.at(index);
  std::optional<std::string_view> old = bls_value(line, key);
  if (!old) return;
  std::size_t at = line.size() - old->size();  // the value runs to the end of the line
  line = line.substr(0, at) + std::string(value);
}

void EntryFile::add_cmdline(std::string_view arg) {
  std::string_view key = key_of(arg);
  for (std::string& line : lines_) {
    std::optional<std::string_view> options = bls_value(line, "options");
    if (!options) continue;
    for (std::string_view a : split_cmdline(*options)) {
      if (key_of(a) != key) continue;
      std::size_t at = static_cast<std::size_t>(a.data() - line.data());
      line.replace(at, a.size(), arg);
      return;
    }
    line += " ";
    line += arg;
    return;
  }
  lines_.push_back("options " + std::string(arg));
}

}  // namespace cfs::boot
