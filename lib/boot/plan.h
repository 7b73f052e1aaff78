// What writing a boot entry puts into the boot directory, decided before anything is written:
// composefs-rs 0.9's write_boot_simple (crates/composefs-boot/src/write_boot.rs) with the
// entry relocated to an entry ID, as its --entry-id does. Type 1: <id>/<file> for each file
// the entry names and loader/entries/<id>.conf with the composefs karg and the extra arguments
// in its `options` line; a kernel of /usr/lib/modules gets composefs-rs's generated entry.
// Type 2: EFI/Linux/<id>.efi, only when the UKI's own .cmdline names an acceptable image.
// Layer: boot (pure).
#pragma once

#include <string>
#include <vector>

#include "boot/cmdline.h"
#include "boot/entries.h"

namespace cfs::boot {

struct PlannedFile {
  std::string path;  // relative to the boot directory
  std::string bytes;
};

struct BootPlan {
  std::string entry_id;
  Karg karg;                       // what the entry boots (a UKI's: its own)
  std::vector<PlannedFile> files;  // the entry file itself last
};

struct PlanOptions {
  std::string entry_id;              // checked by check_entry_id
  Karg karg;                         // written into a Type 1 entry
  std::vector<std::string> cmdline;  // extra arguments (Type 1 only)
  std::vector<Digest> acceptable;    // the images a UKI may name (the image's IDs)
};

// Error(EINVAL) unless `id` can name an entry: one path component, not "." or "..", no
// whitespace or control characters.
void check_entry_id(const std::string& id);

// Reads the entry's files through `read_object`. Errors: a kernel without initramfs.img,
// --cmdline for a UKI, a UKI that is not a PE file, has no .cmdline or no composefs karg there,
// or names another image; two files of an entry with the same name.
BootPlan plan_boot(const BootEntry& entry, const PlanOptions& options,
                   const ReadObject& read_object);

}  // namespace cfs::boot
