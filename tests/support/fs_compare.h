// Test support for mounted trees: walking, comparing a mount with its source, mount and
// page-cache probes. Shared by the kernel-mount and FUSE integration tests.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace cfs::test {

bool is_mounted(const std::filesystem::path& dir);  // per /proc/self/mountinfo
std::map<std::string, std::string> xattrs_of(const std::string& path);  // unreadable: "<unreadable>"
std::vector<std::string> entries_below(const std::filesystem::path& root);  // relative, no symlink following
// Every entry of `a` is in `b` (and no more) with the same type, mode, owner, mtime (ns), size,
// nlink of directories, rdev, symlink target, xattrs and contents; with `hard_links`, also the
// same nlink and grouping of inode numbers for non-directories. Returns the entries compared.
int compare_trees(const std::filesystem::path& a, const std::filesystem::path& b, bool hard_links = false);
long cached_kib();                   // Cached: of /proc/meminfo
// Growth of Cached: (KiB) while reading `a` and then `b` from a cold cache: the first of up
// to `attempts` tries that falls in [low_kib, high_kib), else the last (other activity on the
// machine, files written or deleted meanwhile, moves the global counter either way). Both
// files must read back equal.
long cached_growth_reading(const std::filesystem::path& a, const std::filesystem::path& b,
                           long low_kib, long high_kib, int attempts = 5);
std::string patterned(std::size_t size);  // data that no two blocks share
// Two different images, dir/1.cfs and dir/2.cfs, whose file "big" (`size` bytes) is one
// object in dir/store. Returns "" or what went wrong.
std::string make_images_sharing_an_object(const std::filesystem::path& dir, std::size_t size);
// A SHA-512 image as composefs-rs names them: dir/sha512.cfs whose files "big" (300000 bytes)
// and "small" (5000) are objects in dir/store named by their SHA-512 fs-verity digests
// (computed by fsverity-utils, not by us), with SHA-512 metacopy records, and "tiny" inline.
// Returns "" or what went wrong.
std::string make_sha512_image(const std::filesystem::path& dir);
bool kernel_has(const char* fs_name);  // in /proc/filesystems, or loadable

// Kernel mounts of composefs images need root, EROFS and overlayfs (else skip, or fail in CI).
#define CFS_REQUIRE_MOUNTS()                                                  \
  CFS_REQUIRE(::geteuid() == 0, "kernel mounts need root");                   \
  CFS_REQUIRE(::cfs::test::kernel_has("erofs"), "the kernel has no EROFS");   \
  CFS_REQUIRE(::cfs::test::kernel_has("overlay"), "the kernel has no overlayfs")

}  // namespace cfs::test
