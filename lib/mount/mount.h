// Mounting a composefs image with the kernel: EROFS for the metadata, overlayfs on top with
// the object stores as data-only lower layers (docs/format.md §1). Layer: mount.
// Errors are Error with a reason fit for "Failed to mount composefs IMAGE: <reason>".
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace cfs::mount {

struct Options {
  std::vector<std::string> basedirs;  // object stores, searched in order
  // Expected fs-verity digest of the image (hex). Checked by the kernel when the image file has
  // fs-verity; otherwise the image is copied into a sealed memfd, measured there, and mounted
  // from that copy, so it cannot change between the check and the mount.
  std::optional<std::string> digest;
  bool require_verity = false;  // overlay verity=require: every object checked on open
  // mount.composefs's digest=: where the image itself has fs-verity, also require_verity (the
  // C API leaves that to its caller's flags, as upstream's library does).
  bool digest_implies_verity = false;
  bool try_verity = false;      // verity=require where the kernel supports it
  // What a user can do instead when verity cannot be required (ends the error message).
  std::string verity_advice =
      "use tryverity or noverity, or composefs-fuse -o verity=require, which verifies without it";
  bool read_only = false;
  // For images that are not trusted as a root filesystem: ignore set-uid bits, device nodes,
  // execution (mount(8)'s nosuid, nodev, noexec; upstream refuses these options).
  bool nosuid = false, nodev = false, noexec = false;
  std::string upperdir, workdir;  // a writable overlay on top (both or neither)
  int idmap_userns_fd = -1;       // idmapped mount of the EROFS layer
  bool dry_run = false;           // mount -f: every check (digest included), then no mount
  // Where the EROFS layer is mounted while the overlay is set up (it is detached again after):
  // an existing directory of the caller's, or "" for a private temporary one.
  std::string image_mountdir;
};

// Mounts the image open as `image_fd` on `mountpoint`. Nothing is left mounted or attached
// (temporary mounts, loop devices, directories) if it fails.
void mount_image(int image_fd, const std::string& mountpoint, const Options& options);

}  // namespace cfs::mount
