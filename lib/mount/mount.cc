#include "mount/mount.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "base/digest.h"
#include "base/error.h"
#include "base/file_io.h"
#include "base/unique_fd.h"
#include "format/erofs.h"
#include "mount/loop.h"
#include "mount/syscalls.h"
#include "reader/image.h"
#include "reader/objects.h"
#include "verity/measure.h"

namespace cfs::mount {
namespace {

[[noreturn]] void fail(int err, const std::string& reason = {}) {
  throw Error(err, reason.empty() ? std::strerror(err) : reason);
}

std::string fd_path(int fd) { return "/proc/self/fd/" + std::to_string(fd); }

// The digest= value: exactly 64 (SHA-256) or 128 (SHA-512) hex digits. Upstream compared a
// shorter value zero-padded and ignored extra digits, so an empty value (an unset shell
// variable) mounted unchecked.
Digest expected_digest(const std::string& hex) {
  std::optional<Digest> d = parse_hex_digest(hex);
  if (!d) {
    fail(EINVAL, "Invalid digest " + (hex.empty() ? std::string("(empty)") : "'" + hex.substr(0, 200) + "'") +
                     ": expected 64 (SHA-256) or 128 (SHA-512) hexadecimal digits");
  }
  return *d;
}

// libcomposefs's ENOVERITY (lcfs-mount.h): what upstream's library fails with when fs-verity
// is required and missing; ostree maps it to its own message.
constexpr int kNoVerity = ENOTTY;
// How many of the image's objects are checked for fs-verity before a verity mount.
constexpr std::size_t kVerityChecks = 16;

// The first store that holds `object`, opened for reading (invalid if none does).
UniqueFd open_object(const std::vector<std::string>& basedirs, const std::string& object) {
  for (const std::string& b : basedirs) {
    UniqueFd fd(::open((b + "/" + object).c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
    if (fd) return fd;
  }
  return UniqueFd();
}

// verity (overlayfs verity=require) where the image's objects have no fs-verity mounts, and
// then every read fails with EIO. Say so at mount time instead, from objects the image names
// (a store may hold other files without fs-verity, as ostree's .commitmeta); the kernel
// still checks every object on open.
void check_objects_have_verity(int image_fd, const std::vector<std::string>& basedirs,
                               const std::string& advice) {
  MappedFile file = MappedFile::open(image_fd);
  std::size_t checked = 0;
  for (const std::string& object : reader::object_paths(reader::Image::open(file.bytes()))) {
    if (checked++ == kVerityChecks) break;
    UniqueFd fd = open_object(basedirs, object);
    if (fd && !verity::kernel_measure_any(fd.get())) {
      fail(kNoVerity, "verity: object " + object + " has no fs-verity, so it would not open (" + advice + ")");
    }
  }
}

// The running kernel's release, "6.1.0-50-amd64".
std::string kernel_release() {
  utsname u{};
  ::uname(&u);
  return u.release;
}

// Linux before 6.6 has no overlayfs verity=: the kernel only says EINVAL.
[[noreturn]] void no_overlay_verity(const std::string& advice) {
  fail(EOPNOTSUPP, "verity: this kernel's overlayfs (Linux " + kernel_release() +
                       ") cannot require fs-verity; that needs Linux 6.6 (" + advice + ")");
}

bool kernel_before(int major, int minor) {
  int have_major = 0, have_minor = 0;
  std::sscanf(kernel_release().c_str(), "%d.%d", &have_major, &have_minor);
  return std::pair(have_major, have_minor) < std::pair(major, minor);
}

// A sealed in-memory copy of the image: no one can modify it after we measure it.
UniqueFd sealed_copy(int image_fd) {
  UniqueFd mem(::memfd_create("composefs-image", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (!mem) fail(errno);
  struct stat st {};
  if (::fstat(image_fd, &st) != 0) fail(errno);
  off_t in = 0;
  while (in < st.st_size) {
    ssize_t n = ::copy_file_range(image_fd, &in, mem.get(), nullptr, static_cast<std::size_t>(st.st_size - in), 0);
    if (n <= 0) {
      if (n < 0 && errno == EINTR) continue;
      // Fallback for kernels or files where copy_file_range does not apply.
      std::vector<std::byte> buf(1 << 20);
      ssize_t r = ::pread(image_fd, buf.data(), buf.size(), in);
      if (r <= 0) fail(r < 0 ? errno : EIO);
      write_all(mem.get(), std::span(buf.data(), static_cast<std::size_t>(r)));
      in += r;
    }
  }
  if (::fcntl(mem.get(), F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0) {
    fail(errno);
  }
  return mem;
}

// The directory the EROFS layer is mounted on meanwhile: the caller's, or a temporary one
// that only this removes. Either way the layer is detached at the end (the overlay keeps it).
class ImageDir {
 public:
  explicit ImageDir(const std::string& given) : path_(given) {
    if (!path_.empty()) return;
    char tmpl[] = "/tmp/.composefs.XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) fail(errno);
    path_ = tmpl;
    owned_ = true;
  }
  ~ImageDir() {
    if (mounted_) ::umount2(path_.c_str(), MNT_DETACH);
    if (owned_) ::rmdir(path_.c_str());
  }
  const std::string& path() const { return path_; }
  void set_mounted() { mounted_ = true; }

 private:
  std::string path_;
  bool owned_ = false;
  bool mounted_ = false;
};

void mount_erofs(const std::string& source, const std::string& target, bool acl, int idmap_fd) {
  UniqueFd fs(sys::fsopen("erofs", FSOPEN_CLOEXEC));
  if (!fs) {
    if (errno != ENOSYS) fail(errno);
    if (idmap_fd >= 0) fail(ENOTSUP);
    if (::mount(source.c_str(), target.c_str(), "erofs", MS_RDONLY, acl ? nullptr : "noacl") != 0) {
      fail(errno);
    }
    return;
  }
  if (sys::fsconfig(fs.get(), FSCONFIG_SET_STRING, "source", source.c_str(), 0) != 0 ||
      sys::fsconfig(fs.get(), FSCONFIG_SET_FLAG, "ro", nullptr, 0) != 0 ||
      (!acl && sys::fsconfig(fs.get(), FSCONFIG_SET_FLAG, "noacl", nullptr, 0) != 0) ||
      sys::fsconfig(fs.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) != 0) {
    fail(errno);
  }
  UniqueFd mnt(sys::fsmount(fs.get(), FSMOUNT_CLOEXEC, MOUNT_ATTR_RDONLY));
  if (!mnt) fail(errno);
  if (idmap_fd >= 0) {
    mount_attr attr{};
    attr.attr_set = MOUNT_ATTR_IDMAP;
    attr.userns_fd = static_cast<unsigned>(idmap_fd);
    if (sys::mount_setattr(mnt.get(), "", AT_EMPTY_PATH, &attr) != 0) fail(errno);
  }
  if (sys::move_mount(mnt.get(), "", AT_FDCWD, target.c_str(), MOVE_MOUNT_F_EMPTY_PATH) != 0) {
    fail(errno);
  }
}

// Returns false when the kernel's new overlay API is missing or too old (caller falls back).
bool mount_overlay_new_api(const std::string& lower, const std::string& target, const Options& o,
                           bool want_verity) {
  UniqueFd fs(sys::fsopen("overlay", FSOPEN_CLOEXEC));
  if (!fs) {
    if (errno == ENOSYS) return false;
    fail(errno);
  }
  // A kernel that accepts unknown keys does not validate options: use the legacy path.
  if (sys::fsconfig(fs.get(), FSCONFIG_SET_STRING, "unsupported", "x", 0) == 0) return false;
  auto set = [&](const char* key, const char* value) {
    return sys::fsconfig(fs.get(), FSCONFIG_SET_STRING, key, value, 0) == 0;
  };
  if (!set("source", "composefs") || !set("metacopy", "on") || !set("redirect_dir", "on")) fail(errno);
  if (want_verity && !set("verity", "require") && o.require_verity) no_overlay_verity(o.verity_advice);
  if (!set("lowerdir+", lower.c_str())) {
    if (errno == EINVAL) return false;
    fail(errno);
  }
  for (const std::string& b : o.basedirs) {
    if (!set("datadir+", b.c_str())) {
      if (errno == EINVAL) return false;
      fail(errno);
    }
  }
  if (!o.upperdir.empty() && (!set("upperdir", o.upperdir.c_str()) || !set("workdir", o.workdir.c_str()))) {
    if (errno == EINVAL) return false;
    fail(errno);
  }
  if (sys::fsconfig(fs.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) != 0) {
    if (errno == EINVAL) return false;
    fail(errno);
  }
  unsigned attrs = (o.read_only ? MOUNT_ATTR_RDONLY : 0) | (o.nosuid ? MOUNT_ATTR_NOSUID : 0) |
                   (o.nodev ? MOUNT_ATTR_NODEV : 0) | (o.noexec ? MOUNT_ATTR_NOEXEC : 0);
  UniqueFd mnt(sys::fsmount(fs.get(), FSMOUNT_CLOEXEC, attrs));
  if (!mnt) fail(errno);
  if (sys::move_mount(mnt.get(), "", AT_FDCWD, target.c_str(), MOVE_MOUNT_F_EMPTY_PATH) != 0) {
    fail(errno);
  }
  return true;
}

std::string escape_commas(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == ',') out += '\\';
    out += c;
  }
  return out;
}

void mount_overlay_legacy(const std::string& lower, const std::string& target, const Options& o) {
  std::string opts = "metacopy=on,redirect_dir=on,lowerdir=";
  std::string dataonly = escape_commas(lower), plain = dataonly;
  for (const std::string& b : o.basedirs) {
    dataonly += "::" + escape_commas(b);
    plain += ":" + escape_commas(b);
  }
  std::string tail;
  if (!o.upperdir.empty()) tail += ",upperdir=" + escape_commas(o.upperdir) + ",workdir=" + escape_commas(o.workdir);
  if (o.require_verity) tail += ",verity=require";
  unsigned long flags = (o.read_only ? MS_RDONLY : 0) | (o.nosuid ? MS_NOSUID : 0) |
                        (o.nodev ? MS_NODEV : 0) | (o.noexec ? MS_NOEXEC : 0);
  if (::mount("composefs", target.c_str(), "overlay", flags | MS_SILENT, (opts + dataonly + tail).c_str()) == 0) {
    return;
  }
  if (errno != EINVAL) fail(errno);
  // Kernels without data-only layers: the basedirs become ordinary lower layers, hidden
  // under the opaque root and its 00..ff whiteouts.
  if (::mount("composefs", target.c_str(), "overlay", flags, (opts + plain + tail).c_str()) != 0) {
    if (errno == EINVAL && o.require_verity && kernel_before(6, 6)) no_overlay_verity(o.verity_advice);
    fail(errno);
  }
}

}  // namespace

void mount_image(int image_fd, const std::string& mountpoint, const Options& o) {
  std::optional<Digest> expected;
  if (o.digest) expected = expected_digest(*o.digest);
  if (o.basedirs.empty()) fail(EINVAL, "No object dirs specified");
  if (o.upperdir.empty() != o.workdir.empty()) {
    fail(EINVAL, "Both workdir and upperdir must be specified if used");
  }
  // Name the culprit up front: the kernel would only say ENOENT or ENOTDIR.
  struct stat st {};
  if (::stat(mountpoint.c_str(), &st) != 0) fail(errno, "mount point " + mountpoint + ": " + std::strerror(errno));
  if (!S_ISDIR(st.st_mode)) fail(ENOTDIR, "mount point " + mountpoint + " is not a directory");
  for (const std::string& b : o.basedirs) {
    if (::stat(b.c_str(), &st) != 0) fail(errno, "basedir " + b + ": " + std::strerror(errno));
    if (!S_ISDIR(st.st_mode)) fail(ENOTDIR, "basedir " + b + " is not a directory");
  }
  Options opts = o;

  // 1. The image's identity.
  int source_fd = image_fd;
  UniqueFd sealed;
  if (expected) {
    std::optional<Digest> actual = verity::kernel_measure(image_fd, expected->algorithm());
    // With fs-verity on the image, digest= also makes the kernel check every object (as
    // upstream). Without it (no fs-verity here at all) only the image itself is verified.
    if (actual && o.digest_implies_verity) opts.require_verity = true;
    if (!actual) {
      sealed = sealed_copy(image_fd);
      source_fd = sealed.get();
      actual = verity::compute_from_fd(source_fd, expected->algorithm());
    }
    if (*actual != *expected) fail(EILSEQ, "Image has wrong fs-verity");
  }


  // 2. It must be a composefs image.
  format::ComposefsHeader header;
  if (::pread(source_fd, &header, sizeof header, 0) != static_cast<ssize_t>(sizeof header) ||
      header.magic != format::kComposefsMagic) {
    fail(EINVAL, "Not a composefs image");
  }
  bool acl = header.flags & format::kComposefsFlagHasAcl;
  bool want_verity = opts.require_verity || opts.try_verity;
  if (opts.require_verity) check_objects_have_verity(source_fd, o.basedirs, o.verity_advice);
  if (o.dry_run) return;

  // 3. EROFS on a private directory; from the file itself, else through a loop device.
  ImageDir tmp(o.image_mountdir);
  try {
    mount_erofs(fd_path(source_fd), tmp.path(), acl, o.idmap_userns_fd);
  } catch (const Error& e) {
    if (e.code() != ENOTBLK) throw;
    LoopDevice loop = attach_loop(source_fd);
    mount_erofs(loop.path, tmp.path(), acl, o.idmap_userns_fd);
  }
  tmp.set_mounted();

  // 4. Overlayfs on the mount point; the EROFS mount stays alive inside it. ImageDir's
  // destructor detaches the private mount and removes the directory either way.
  if (!mount_overlay_new_api(tmp.path(), mountpoint, opts, want_verity)) {
    mount_overlay_legacy(tmp.path(), mountpoint, opts);
  }
}

}  // namespace cfs::mount
