// file_contexts lookups as composefs-rs 0.9 makes them: the LAST line (of file_contexts, then
// .local, then .homedirs) whose pattern matches "<path><type character>" wins. Each pattern is
// compiled by PCRE2 with the options of the composefs-rs engine that would run it
// (boot/pattern.h); a literal-prefix index keeps a lookup to the few patterns that can match.
// Layer: boot (pure). Not thread-safe (one match buffer).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "boot/file_contexts.h"

namespace cfs::boot {

class Matcher {
 public:
  // Compiles every spec; Error(EINVAL) "<file>:<line>: …" for a pattern PCRE2 refuses or that
  // we do not support.
  explicit Matcher(const std::vector<Spec>& specs);
  ~Matcher();
  Matcher(Matcher&&) noexcept;
  Matcher& operator=(Matcher&&) noexcept;

  // The index in `specs` of the winning line, or nullopt if none matches. `type` is one of
  // "bcdpls-".
  std::optional<std::size_t> lookup(std::string_view path, char type);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cfs::boot
