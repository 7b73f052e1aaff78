// lcfs-mount.h: mounting an image with the kernel (libcomposefs(3) "Mounting"), through the same
// code as mount.composefs. expected_fsverity_digest is checked with or without fs-verity on
// the image (a sealed copy is measured where the kernel cannot).
#include <fcntl.h>
#include <unistd.h>

#include "base/error.h"
#include "base/unique_fd.h"
#include "capi/boundary.h"
#include "libcomposefs/lcfs-mount.h"
#include "mount/mount.h"

using cfs::Error;
using cfs::capi::int_call;
using cfs::capi::require;

namespace {

cfs::mount::Options mount_options(const struct lcfs_mount_options_s& o) {
  if ((o.flags & ~static_cast<std::uint32_t>(LCFS_MOUNT_FLAGS_MASK)) != 0) throw Error(EINVAL, "unknown flags");
  if (o.n_objdirs == 0 || o.objdirs == nullptr) throw Error(EINVAL, "no object directories");
  if ((o.flags & LCFS_MOUNT_FLAGS_IDMAP) && o.idmap_fd < 0) throw Error(EINVAL, "IDMAP without idmap_fd");
  cfs::mount::Options m;
  for (std::size_t i = 0; i < o.n_objdirs; ++i) {
    require(o.objdirs[i] != nullptr);
    m.basedirs.emplace_back(o.objdirs[i]);
  }
  if (o.upperdir != nullptr) m.upperdir = o.upperdir;
  if (o.workdir != nullptr) m.workdir = o.workdir;
  // Empty means no check, as upstream; anything else must be exactly one SHA-256 digest.
  if (o.expected_fsverity_digest != nullptr && *o.expected_fsverity_digest != '\0') {
    m.digest = o.expected_fsverity_digest;
  }
  m.require_verity = o.flags & LCFS_MOUNT_FLAGS_REQUIRE_VERITY;
  m.try_verity = o.flags & LCFS_MOUNT_FLAGS_TRY_VERITY;
  m.read_only = o.flags & LCFS_MOUNT_FLAGS_READONLY;
  if (o.flags & LCFS_MOUNT_FLAGS_IDMAP) m.idmap_userns_fd = o.idmap_fd;
  if (o.image_mountdir != nullptr) m.image_mountdir = o.image_mountdir;
  return m;
}

}  // namespace

extern "C" {

int lcfs_mount_fd(int fd, const char* mountpoint, struct lcfs_mount_options_s* options) {
  return int_call([&] {
    require(mountpoint != nullptr && options != nullptr);
    cfs::mount::mount_image(fd, mountpoint, mount_options(*options));
  });
}

int lcfs_mount_image(const char* path, const char* mountpoint, struct lcfs_mount_options_s* options) {
  return int_call([&] {
    require(path != nullptr && mountpoint != nullptr && options != nullptr);
    cfs::mount::Options m = mount_options(*options);  // options are checked before the image is opened
    cfs::UniqueFd fd(::open(path, O_RDONLY | O_CLOEXEC));
    if (!fd) cfs::throw_errno(errno);
    cfs::mount::mount_image(fd.get(), mountpoint, m);
  });
}

}  // extern "C"
