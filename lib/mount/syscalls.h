// The new mount API (fsopen/fsconfig/fsmount/move_mount/mount_setattr), which glibc 2.36 on
// Debian 12 does not wrap. Layer: mount. Each returns -1 and sets errno on failure.
#pragma once

#include <linux/mount.h>

namespace cfs::mount::sys {

int fsopen(const char* fs_name, unsigned flags);
int fsconfig(int fd, unsigned cmd, const char* key, const void* value, int aux);
int fsmount(int fd, unsigned flags, unsigned attr_flags);
int move_mount(int from_dfd, const char* from_path, int to_dfd, const char* to_path, unsigned flags);
int mount_setattr(int dfd, const char* path, unsigned flags, struct mount_attr* attr);

}  // namespace cfs::mount::sys
