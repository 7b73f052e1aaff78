#include "mount/plain.h"

#include <sys/mount.h>
#include <sys/statvfs.h>

#include <cerrno>

#include "base/error.h"

namespace cfs::mount {
namespace {

void check(int rc, const std::string& what) {
  if (rc != 0) throw_errno(errno, what);
}

// A path inside overlayfs's option string: ',' and ':' separate options and layers there, and
// the kernel unescapes every '\' (lower and upper layers alike).
std::string overlay_path(const std::string& path) {
  std::string out;
  for (char c : path) {
    if (c == ',' || c == ':' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

}  // namespace

void mount_tmpfs(const std::string& target, const std::string& options) {
  check(::mount("tmpfs", target.c_str(), "tmpfs", 0, options.empty() ? nullptr : options.c_str()),
        "mounting a tmpfs on " + target);
}

void bind(const std::string& source, const std::string& target, bool recursive) {
  check(
      ::mount(source.c_str(), target.c_str(), nullptr, MS_BIND | (recursive ? MS_REC : 0), nullptr),
      "binding " + source + " to " + target);
}

void mount_overlay(const std::string& name, const std::string& lower, const std::string& upper,
                   const std::string& work, const std::string& target) {
  std::string options = "lowerdir=" + overlay_path(lower) + ",upperdir=" + overlay_path(upper) +
                        ",workdir=" + overlay_path(work);
  check(::mount(name.c_str(), target.c_str(), "overlay", 0, options.c_str()),
        "mounting an overlay on " + target + " (upper " + upper + ")");
}

void move(const std::string& from, const std::string& to) {
  check(::mount(from.c_str(), to.c_str(), nullptr, MS_MOVE, nullptr),
        "moving the mount " + from + " to " + to);
}

void make_private(const std::string& target, bool recursive) {
  check(::mount(nullptr, target.c_str(), nullptr, MS_PRIVATE | (recursive ? MS_REC : 0), nullptr),
        "making " + target + " private");
}

void detach(const std::string& target) noexcept { ::umount2(target.c_str(), MNT_DETACH); }

bool is_read_only(const std::string& path) {
  struct statvfs sv {};
  check(::statvfs(path.c_str(), &sv), path);
  return (sv.f_flag & ST_RDONLY) != 0;
}

void remount(const std::string& mountpoint, bool read_only) {
  struct statvfs sv {};
  check(::statvfs(mountpoint.c_str(), &sv), mountpoint);
  // A remount sets every per-mount flag anew: the ones it has are given again.
  unsigned long flags = MS_REMOUNT | (read_only ? MS_RDONLY : 0);
  constexpr std::pair<unsigned long, unsigned long> kKept[] = {
      {ST_NOSUID, MS_NOSUID},           {ST_NODEV, MS_NODEV},       {ST_NOEXEC, MS_NOEXEC},
      {ST_SYNCHRONOUS, MS_SYNCHRONOUS}, {ST_MANDLOCK, MS_MANDLOCK}, {ST_NOATIME, MS_NOATIME},
      {ST_NODIRATIME, MS_NODIRATIME},   {ST_RELATIME, MS_RELATIME},
  };
  for (auto [st, ms] : kKept) {
    if (sv.f_flag & st) flags |= ms;
  }
  if (!(sv.f_flag & (ST_NOATIME | ST_RELATIME))) flags |= MS_STRICTATIME;  // else relatime
  check(::mount(nullptr, mountpoint.c_str(), nullptr, flags, nullptr),
        std::string("remounting ") + mountpoint + (read_only ? " read-only" : " read-write"));
}

}  // namespace cfs::mount
