// Mounting and unmounting a FUSE filesystem without libfuse: mount(2) with /dev/fuse as root,
// fusermount3 (setuid helper, fd passed back over a socket) otherwise. Layer: fuse.
#pragma once

#include <string>

#include "base/unique_fd.h"

namespace cfs::fuse {

struct MountOptions {
  std::string fsname;        // shown in /proc/mounts
  bool allow_other = false;  // rootless: fusermount3 allows it only with user_allow_other
                             // (allow_root mounts with it too; the server turns others away)
  bool noexec = false;
  bool auto_unmount = false;  // fusermount3 unmounts when the server ends, however it ends
};

struct MountedFuse {
  UniqueFd fuse;          // the /dev/fuse fd of the new mount
  UniqueFd auto_unmount;  // auto_unmount: fusermount3's socket; closing it unmounts
};

// Mounts read-only, nosuid, nodev, with the kernel checking the image's modes. Throws Error
// with a one-line reason (fusermount3's own words where it refused).
MountedFuse mount_fuse(const std::string& mountpoint, const MountOptions& options);
// Lazy unmount (root: umount2 MNT_DETACH; otherwise fusermount3 -u -z). Throws Error with
// the reason (fusermount3's own words) when it fails.
void unmount_fuse(const std::string& mountpoint);

}  // namespace cfs::fuse
