#include "cfsctl/args.h"

#include "cfsctl/commands.h"

namespace cfs::cfsctl {
namespace {

bool is(const std::string& word, std::string_view name, char short_name) {
  return word == "--" + std::string(name) || (short_name != 0 && word == std::string{'-', short_name});
}

}  // namespace

void Args::check_declared(std::string_view name, char short_name, bool takes_value) const {
  if (command_ == nullptr) return;
  const Opt* o = find_option(*command_, "--" + std::string(name));
  if (o == nullptr || o->short_name != short_name || o->value.empty() == takes_value) {
    throw std::logic_error("cfsctl " + std::string(command_->name) + ": --" + std::string(name) +
                           " is read but not declared as such in the command table");
  }
}

bool Args::flag(std::string_view name, char short_name) {
  check_declared(name, short_name, false);
  bool found = false;
  for (auto it = words_.begin(); it != words_.end();) {
    if (*it == "--") break;
    if (is(*it, name, short_name)) {
      found = true;
      it = words_.erase(it);
    } else {
      ++it;
    }
  }
  return found;
}

std::vector<std::string> Args::values(std::string_view name, char short_name) {
  check_declared(name, short_name, true);
  std::vector<std::string> out;
  std::string prefix = "--" + std::string(name) + "=";
  for (auto it = words_.begin(); it != words_.end();) {
    if (*it == "--") break;
    if (it->starts_with(prefix)) {
      out.push_back(it->substr(prefix.size()));
      it = words_.erase(it);
    } else if (is(*it, name, short_name)) {
      if (it + 1 == words_.end()) {
        throw UsageError("a value is required for '--" + std::string(name) + " <" + std::string(name) + ">' but none was supplied");
      }
      out.push_back(*(it + 1));
      it = words_.erase(it, it + 2);
    } else {
      ++it;
    }
  }
  return out;
}

std::optional<std::string> Args::value(std::string_view name, char short_name) {
  std::vector<std::string> all = values(name, short_name);
  if (all.empty()) return std::nullopt;
  return all.back();
}

std::vector<std::string> Args::positionals(std::size_t min, std::size_t max, std::string_view what) {
  std::vector<std::string> out;
  bool only_positionals = false;
  for (const std::string& w : words_) {
    if (!only_positionals && w == "--") {
      only_positionals = true;
      continue;
    }
    if (!only_positionals && w.size() > 1 && w[0] == '-') throw UsageError("unexpected argument '" + w + "' found");
    out.push_back(w);
  }
  if (out.size() < min) throw UsageError("the following required arguments were not provided: " + std::string(what));
  if (out.size() > max) throw UsageError("unexpected argument '" + out[max] + "' found");
  return out;
}

std::string one_of(const std::string& value, std::string_view option, const std::vector<std::string>& choices) {
  for (const std::string& c : choices) {
    if (c == value) return value;
  }
  std::string list;
  for (const std::string& c : choices) list += (list.empty() ? "" : ", ") + c;
  throw UsageError("invalid value '" + value + "' for '" + std::string(option) + "'\n  [possible values: " + list + "]");
}

}  // namespace cfs::cfsctl
