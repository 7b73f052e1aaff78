// Mounting and unmounting a FUSE filesystem without libfuse: mount(2) with /dev/fuse as root,
// fusermount3 (setuid helper, fd passed back over a socket) otherwise. Layer: fuse.
#pragma once

#include <string>

#include "base/unique_fd.h"

namespace cfs::fuse {

struct MountOptions {
  std::string fsname;        // shown in /proc/mounts
  bool allow_other = false;  // rootless: fusermount3 allows it only with user_allow_other
  bool noexec = false;
};

// Mounts read-only, nosuid, nodev, with the kernel checking the image's modes; returns the
// /dev/fuse fd of the new mount. Throws Error with a one-line reason.
UniqueFd mount_fuse(const std::string& mountpoint, const MountOptions& options);
// Lazy unmount (root: umount2 MNT_DETACH; otherwise fusermount3 -u -z). Throws Error with
// the reason (fusermount3's own words) when it fails.
void unmount_fuse(const std::string& mountpoint);

}  // namespace cfs::fuse
