// composefs-dump(5) text -> Tree, with upstream's validation rules and messages
// (docs/format.md §10). Layer: dump (pure: bytes in, tree out).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "tree/tree.h"

namespace cfs::dump {

struct ParseOptions {
  bool strict = false;  // CFS_PARSE_STRICT: the four extra checks of docs/format.md §10
};

// Throws Error(EINVAL, message) with upstream's message on the first invalid entry.
tree::Tree parse(std::string_view text, const ParseOptions& options = {});

class Parser;

// The same, fed in pieces split anywhere (as read from a pipe), so that the whole text
// never needs to be in memory at once. feed() and finish() throw as parse() does.
class StreamParser {
 public:
  explicit StreamParser(const ParseOptions& options = {});
  ~StreamParser();
  void feed(std::string_view text);
  tree::Tree finish();

 private:
  std::unique_ptr<Parser> parser_;
  ParseOptions options_;
  std::string partial_;  // a line not yet ended
  bool fed_ = false;
};

}  // namespace cfs::dump
