// Plain mounts around a composefs image, as an initramfs puts a root together: tmpfs,
// recursive binds, writable overlays, moves and remounts. Layer: mount. Each throws Error
// naming the path and the step on failure, and changes nothing then.
#pragma once

#include <string>

namespace cfs::mount {

// A tmpfs on `target`; `options` as mount(8)'s -o ("mode=0700,size=1m"), may be empty.
void mount_tmpfs(const std::string& target, const std::string& options);

// `source` also on `target` (mount --bind), with `recursive` every mount below it too
// (mount --rbind).
void bind(const std::string& source, const std::string& target, bool recursive);

// A writable overlay on `target` showing `lower` under `upper` (work: `work`, on the same
// filesystem as `upper`). `name` is the source mountinfo shows ("overlay", "transient").
void mount_overlay(const std::string& name, const std::string& lower, const std::string& upper,
                   const std::string& work, const std::string& target);

// The mount at `from` (with everything below it) moved to `to` (mount --move).
void move(const std::string& from, const std::string& to);

// The mount at `target` (and with `recursive`, every mount below it) made private: nothing
// mounted or unmounted there propagates to or from other mounts (mount --make-[r]private).
void make_private(const std::string& target, bool recursive);

// The mount at `target` and everything below it detached (umount -l); errors ignored.
void detach(const std::string& target) noexcept;

// Whether the mount holding `path` is read-only.
bool is_read_only(const std::string& path);

// The filesystem mounted at `mountpoint` remounted read-write (read-only with `read_only`),
// its other mount flags (nosuid, nodev, noexec, atime) kept.
void remount(const std::string& mountpoint, bool read_only);

}  // namespace cfs::mount
