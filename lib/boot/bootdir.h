// A boot directory (the ESP or /boot) holding entries written by prepare-boot: writing a
// planned entry so that it appears whole or not at all, the entries there and the images
// their composefs kargs name (for listing, rollback and gc roots), removing one. Each image's
// entry has its own ID, so a new image's entry leaves the previous ones bootable. Layer: boot
// (I/O, beside the pure plan.h).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "boot/cmdline.h"
#include "boot/plan.h"

namespace cfs::boot {

// The prefix of the entry IDs given when no --entry-id is: "composefs-<N>-<name>".
inline constexpr std::string_view kEntryIdPrefix = "composefs-";

// "composefs-<N>-<name>", N one more than the highest N of the entries named so in
// `bootdir` (loader/entries/*.conf, EFI/Linux/*.efi), 1 when there are none: the newest entry
// has the highest ID, which systemd-boot sorts first (its default).
std::string next_entry_id(const std::string& bootdir, std::string_view name);

// Writes every file of `plan` into `bootdir` (directories made as needed, 0777 less the umask):
// each into a temporary file beside its name, then all renamed in order, the entry file (the
// .conf or the UKI) last. A failure before the renames leaves nothing; the entry appears only
// when its files are in place.
void write_plan(const std::string& bootdir, const BootPlan& plan);

struct InstalledEntry {
  std::string id;
  std::string path;  // relative to the boot directory
  bool uki = false;
  std::vector<Karg> kargs;  // every composefs karg of its command line, in order
  std::string kernel;       // Type 1: the value of its linux line ("" for a UKI)
  std::string sort_key, machine_id, version;
  std::string error;  // why its command line could not be read ("" when it was)
};

// Type 1 entries (loader/entries/*.conf) in systemd-boot's order (those with a sort-key first,
// by sort-key, machine-id, then version and ID descending, compared as versions), then UKIs
// (EFI/Linux/*.efi) by ID descending. An entry whose command line cannot be read has `error`
// set. A missing `bootdir` or one without entries has none.
std::vector<InstalledEntry> list_entries(const std::string& bootdir);

// Removes entry `id`: its .conf first (it is no longer offered), then the files it names that no
// other entry names, and their directory once empty; or its UKI. Error(ENOENT) when there is no
// such entry. Returns the paths removed, relative to `bootdir`.
std::vector<std::string> remove_entry(const std::string& bootdir, const std::string& id);

}  // namespace cfs::boot
