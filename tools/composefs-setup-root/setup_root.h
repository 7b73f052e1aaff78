// composefs-setup-root's work (composefs-rs 0.9 crates/composefs-setup-root; docs/man/
// composefs-setup-root.8.md): the first composefs image the kernel command line names that
// exists in <sysroot>/composefs becomes the new root, with /etc and /var from the image's
// state directory and the physical root at /sysroot, put together in a staging area and then
// moved onto the sysroot in one step. Layer: tools.
#pragma once

#include <optional>
#include <ostream>
#include <string>

namespace cfs::tools {

struct SetupRootOptions {
  std::string sysroot = "/sysroot";
  std::string config = "/usr/lib/composefs/setup-root-conf.toml";
  std::optional<std::string> cmdline;  // instead of /proc/cmdline
  std::optional<std::string> target;   // where the new root goes instead of the sysroot
  std::optional<std::string> root_fs;  // a clone of this directory instead of an image
};

// Puts the new root in place. Progress worth a line (an image not found, a remount) goes to
// `info`. Throws Error whose what() is the one line to print, ending in " (<argument>)" where
// a kernel argument is involved; then nothing is left mounted and the sysroot is unchanged.
void setup_root(const SetupRootOptions& options, std::ostream& info);

// Best effort, as composefs-rs (systemd#35017): /run/systemd/volatile-root -> the block
// device of /dev/gpt-auto-root. Every failure is ignored.
void link_volatile_root() noexcept;

}  // namespace cfs::tools
