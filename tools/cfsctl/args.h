// Command-line words as cfsctl (clap) reads them: --long VALUE or --long=VALUE, a few short
// flags, then positionals. A misuse is a UsageError: cfsctl prints it and exits 2. Asking for an
// option the command's table entry (commands.h) does not declare is a bug: std::logic_error.
// Layer: tools.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace cfs::cfsctl {

struct Command;

class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Args {
 public:
  explicit Args(std::vector<std::string> words, const Command* command = nullptr)
      : words_(std::move(words)), command_(command) {}

  // Takes every --name (or -s) out; whether there was one.
  bool flag(std::string_view name, char short_name = 0);
  // Takes --name VALUE / --name=VALUE out (the last one wins); nullopt if absent.
  std::optional<std::string> value(std::string_view name, char short_name = 0);
  // All of them, in order (repeatable options).
  std::vector<std::string> values(std::string_view name, char short_name = 0);
  // What is left: positionals only, between `min` and `max` of them.
  std::vector<std::string> positionals(std::size_t min, std::size_t max, std::string_view what);

 private:
  void check_declared(std::string_view name, char short_name, bool takes_value) const;

  std::vector<std::string> words_;
  const Command* command_;
};

// "A" or "B" of a fixed set; UsageError naming the option otherwise.
std::string one_of(const std::string& value, std::string_view option, const std::vector<std::string>& choices);

}  // namespace cfs::cfsctl
