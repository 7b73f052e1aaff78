// The boot entries an image carries, found as composefs-rs 0.9 finds them before the boot
// transform empties /boot (crates/composefs-boot/src/bootloader.rs get_boot_resources), in
// its order: Type 1 entries (/boot/loader/entries/*.conf, by name), then UKIs (*.efi below
// /boot/EFI/Linux, /boot/loader/addons and each /usr/lib/modules/<kver>/), then kernels
// /usr/lib/modules/<kver>/vmlinuz (with initramfs.img beside them), which become Type 1
// entries. Layer: boot (pure; file contents come through a callback).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "base/digest.h"
#include "boot/bls.h"
#include "tree/tree.h"

namespace cfs::boot {

// A regular file of the image: its data inline, or the object of `object`.
struct FileRef {
  std::string path;  // in the image, for messages
  std::string inline_data;
  std::optional<Digest> object;
};
using ReadObject = std::function<std::string(const Digest&)>;
std::string read_file(const FileRef& file, const ReadObject& read_object);

// /boot/loader/entries/<name>: the entry and each file its linux, initrd and efi lines name
// (looked up from the image's root, as composefs-rs does).
struct Type1Entry {
  std::string name;  // "<stem>.conf"
  EntryFile entry;
  std::vector<std::pair<std::string, FileRef>> files;  // by the value naming them
};
// A UKI (or an addon): its path below the directory it was found in.
struct Type2Entry {
  std::optional<std::string> kver;  // found under /usr/lib/modules/<kver>/
  std::string path;                 // "x.efi" or "x.efi.extra.d/y.addon.efi"
  FileRef file;
};
// /usr/lib/modules/<kver>/vmlinuz, and initramfs.img when there is one.
struct ModulesKernel {
  std::string kver;
  FileRef vmlinuz;
  std::optional<FileRef> initramfs;
};
using BootEntry = std::variant<Type1Entry, Type2Entry, ModulesKernel>;

// Every entry of `tree` (an image before the boot transform, or a bootable image, whose /boot
// is empty). Error naming the file for an entry file that is not a regular file, a linux,
// initrd or efi path that is not absolute, has "." or ".." components or is not a regular
// file of the image, an *.efi that is not a regular file, an external file without a digest.
std::vector<BootEntry> find_boot_entries(const tree::Tree& tree, const ReadObject& read_object);

// The name composefs-rs gives the entry when no --entry-id is given: the .conf's stem, the
// UKI's file name without ".efi", the kernel version.
std::string default_entry_name(const BootEntry& entry);

}  // namespace cfs::boot
