// A Boot Loader Specification Type 1 entry file (loader/entries/<id>.conf) as composefs-rs 0.9
// edits one (crates/composefs-boot/src/bootloader.rs BootLoaderEntryFile): lines kept as they
// are, a key's values read from lines "<key><whitespace><value>", kernel arguments added to the
// first `options` line. Layer: boot (pure).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cfs::boot {

class EntryFile {
 public:
  // Lines split at '\n' (a last line without one counts; no empty line after the last '\n').
  static EntryFile parse(std::string_view text);
  explicit EntryFile(std::vector<std::string> lines = {}) : lines_(std::move(lines)) {}

  const std::vector<std::string>& lines() const { return lines_; }
  // The lines joined with '\n', and one at the end.
  std::string text() const;

  // The values of every line of `key`, in order; the first one.
  std::vector<std::string_view> values(std::string_view key) const;
  std::optional<std::string_view> value(std::string_view key) const;
  // Replaces the value of line `index` (which has `key`).
  void set_value(std::size_t index, std::string_view key, std::string_view value);

  // Adds `arg` to the first `options` line, replacing an argument of the same key there
  // ("k=..." for "k=v", the bare word otherwise); a new `options` line at the end when there
  // is none. (composefs-rs replaces the first argument that merely starts with the key, so
  // "ro" would replace "root=..."; we compare whole keys.)
  void add_cmdline(std::string_view arg);

 private:
  std::vector<std::string> lines_;
};

// The value of `line` for `key`: the rest after the key and at least one ASCII whitespace,
// leading whitespace dropped; nullopt when the line has another key.
std::optional<std::string_view> bls_value(std::string_view line, std::string_view key);

}  // namespace cfs::boot
