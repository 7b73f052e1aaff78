#include "mount/syscalls.h"

#include <sys/syscall.h>
#include <unistd.h>

namespace cfs::mount::sys {

int fsopen(const char* fs_name, unsigned flags) {
  return static_cast<int>(::syscall(SYS_fsopen, fs_name, flags));
}
int fsconfig(int fd, unsigned cmd, const char* key, const void* value, int aux) {
  return static_cast<int>(::syscall(SYS_fsconfig, fd, cmd, key, value, aux));
}
int fsmount(int fd, unsigned flags, unsigned attr_flags) {
  return static_cast<int>(::syscall(SYS_fsmount, fd, flags, attr_flags));
}
int move_mount(int from_dfd, const char* from_path, int to_dfd, const char* to_path, unsigned flags) {
  return static_cast<int>(::syscall(SYS_move_mount, from_dfd, from_path, to_dfd, to_path, flags));
}
int mount_setattr(int dfd, const char* path, unsigned flags, struct mount_attr* attr) {
  return static_cast<int>(::syscall(SYS_mount_setattr, dfd, path, flags, attr, sizeof *attr));
}

}  // namespace cfs::mount::sys
