// The --bootable transform of composefs-rs 0.9 (crates/composefs-boot/src/lib.rs,
// BootOps::transform_for_boot; docs: /work/shared/spec/boot.md §3.1), after the OCI transform:
// /boot and /sysroot emptied and given /usr's mtime (seconds), inodes no name reaches any
// more dropped, then SELinux relabelling from the image's own policy (boot/selabel.h).
// Boot entries (BLS, UKIs) are not collected here: they do not change the image.
// Layer: boot.
#pragma once

#include "boot/selabel.h"
#include "tree/tree.h"

namespace cfs::boot {

// Error(ENOENT) "… has no /usr directory" (or /boot, /sysroot) before anything changes; the
// policy's errors under "Applying SELinux labels to filesystem".
void transform_for_boot(tree::Tree& tree, PolicyReader& policy);

}  // namespace cfs::boot
