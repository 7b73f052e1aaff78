#include "cfsctl/help.h"

#include <algorithm>
#include <utility>

namespace cfs::cfsctl {
namespace {

using Rows = std::vector<std::pair<std::string, std::string>>;

// One section: each name padded to the longest, two spaces either side.
std::string section(const std::string& title, const Rows& rows) {
  std::size_t width = 0;
  for (const auto& [name, text] : rows) width = std::max(width, name.size());
  std::string out = title + ":\n";
  for (const auto& [name, text] : rows) {
    out += "  " + name;
    if (!text.empty()) out += std::string(width - name.size() + 2, ' ') + text;
    out += "\n";
  }
  return out;
}

std::string arg_name(const Pos& p) {
  std::string s = p.required ? "<" + std::string(p.name) + ">" : "[" + std::string(p.name) + "]";
  return p.many ? s + "..." : s;
}

std::string option_text(const Opt& o) {
  std::string text(o.help);
  if (!o.default_value.empty()) text += " [default: " + std::string(o.default_value) + "]";
  if (!o.choices.empty()) {
    text += " [possible values: ";
    for (std::size_t i = 0; i < o.choices.size(); ++i)
      text += (i ? ", " : "") + std::string(o.choices[i]);
    text += "]";
  }
  return text;
}

bool has_options(const Command& c) {
  return std::any_of(c.options.begin(), c.options.end(), [](const Opt& o) { return !o.hidden; });
}

}  // namespace

std::string usage_line(const CommandPath& path) {
  std::string out = "Usage:";
  for (const Command* c : path) out += " " + std::string(c->name);
  const Command& c = *path.back();
  if (has_options(c)) out += " [OPTIONS]";
  if (!c.subcommands.empty()) out += " <COMMAND>";
  for (const Pos& p : c.args) out += " " + arg_name(p);
  return out;
}

std::string help_text(const CommandPath& path) {
  const Command& c = *path.back();
  std::string out = std::string(c.about) + "\n\n" + usage_line(path) + "\n";
  if (!c.subcommands.empty()) {
    Rows rows;
    for (const Command& sub : c.subcommands) rows.emplace_back(sub.name, sub.about);
    rows.emplace_back("help", "Print this message or the help of the given subcommand(s)");
    out += "\n" + section("Commands", rows);
  }
  if (!c.args.empty()) {
    Rows rows;
    for (const Pos& p : c.args) rows.emplace_back(arg_name(p), p.help);
    out += "\n" + section("Arguments", rows);
  }
  Rows rows;
  for (const Opt& o : c.options) {
    if (o.hidden) continue;
    std::string name = o.short_name ? std::string{'-', o.short_name, ',', ' '} : "    ";
    name += "--" + std::string(o.name);
    if (!o.value.empty()) name += " <" + std::string(o.value) + ">";
    rows.emplace_back(name, option_text(o));
  }
  rows.emplace_back("-h, --help", "Print help");
  if (path.size() == 1) rows.emplace_back("-V, --version", "Print version");
  out += "\n" + section("Options", rows);
  return out;
}

}  // namespace cfs::cfsctl
