#include "composefs-setup-root/setup_root.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "base/digest.h"
#include "base/error.h"
#include "base/file_io.h"
#include "boot/cmdline.h"
#include "boot/setup_root_config.h"
#include "mount/mount.h"
#include "mount/plain.h"
#include "mount/staging.h"
#include "repo/repository.h"

namespace cfs::tools {
namespace {

using boot::StateMount;

constexpr const char* kProg = "composefs-setup-root";

// A composefs kernel argument: as written (errors name it), and what it says.
struct Argument {
  std::string text;
  boot::Karg karg;
  std::string hex;  // the image ID: images/<hex>, state/deploy/<hex>
};

// f(), an Error from it ending in " (<argument>)".
template <class F>
auto with_argument(const Argument& a, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const Error& e) {
    throw Error(e.kind(), e.code(), std::string(e.what()) + " (" + a.text + ")");
  }
}

std::string read_text(const std::string& path) {
  std::vector<std::byte> bytes =
      with_context(path, [&] { return read_all(open_read(path).get()); });
  std::string text(bytes.size(), '\0');
  std::memcpy(text.data(), bytes.data(), bytes.size());
  return text;
}

std::vector<Argument> arguments(std::string_view cmdline) {
  std::vector<Argument> out;
  for (std::string_view text : boot::composefs_arguments(cmdline)) {
    Argument a{std::string(text), {}, {}};
    try {
      a.karg = *boot::parse_argument(text);
    } catch (const Error& e) {
      throw Error(e.code(), "malformed kernel argument: " + e.cause() + " (" + a.text + ")");
    }
    a.hex = to_hex(a.karg.digest);
    out.push_back(std::move(a));
  }
  if (out.empty()) throw Error(EINVAL, "no composefs argument on the kernel command line");
  return out;
}

// `path` must be a directory itself, not a symbolic link to one: an image's /etc resolved in
// this namespace could point anywhere outside the new root.
void require_directory(const std::string& path, const std::string& what) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) throw_errno(errno, what + " " + path);
  if (!S_ISDIR(st.st_mode)) throw Error(ENOTDIR, what + " " + path + " is not a directory");
}

bool exists(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) return true;
  if (errno != ENOENT) throw_errno(errno, path);
  return false;
}

// path, made a directory with `mode` if it is not there.
std::string ensure_dir(const std::string& path, mode_t mode) {
  if (::mkdir(path.c_str(), mode) == 0) {
    if (::chmod(path.c_str(), mode) != 0) throw_errno(errno, path);  // whatever the umask
  } else if (errno != EEXIST) {
    throw_errno(errno, "making " + path);
  }
  require_directory(path, "overlay directory");
  return path;
}

// The image of `a` mounted on `root`; false when the repository has no such image.
bool mount_image_if_exists(const std::string& repo_path, const Argument& a, const std::string& root,
                           const std::string& erofs_dir) {
  repo::OpenOptions open;
  open.hash = a.karg.digest.algorithm();
  open.insecure = a.karg.insecure;
  open.require_verity = !a.karg.insecure;  // a secure argument needs a repository with fs-verity
  auto repo = with_context("repository " + repo_path,
                           [&] { return repo::Repository::open(repo_path, open); });
  repo::Repository::OpenedImage image;
  try {
    image = repo->open_image(a.hex);
  } catch (const Error& e) {
    if (e.kind() == ErrorKind::kNotFound) return false;
    throw;
  }
  mount::Options m;
  m.basedirs = {repo_path + "/objects"};
  m.digest = a.hex;                     // the image checked against its ID
  m.require_verity = !a.karg.insecure;  // every file against its digest (overlay verity=require)
  m.read_only = true;                   // a root filesystem: set-uid files and devices kept
  m.image_mountdir = erofs_dir;         // the initramfs may have no /tmp
  m.verity_advice = "boot a kernel that can, or write ? after the argument's = to boot unverified";
  with_context("mounting the image", [&] { mount::mount_image(image.fd.get(), root, m); });
  return true;
}

// The first argument whose image exists, mounted on `root`.
const Argument& mount_first_image(const std::string& sysroot, const std::vector<Argument>& args,
                                  const mount::Staging& staging, const std::string& root,
                                  std::ostream& info) {
  std::string repo_path = sysroot + "/composefs";
  std::string erofs_dir = staging.make_dir("erofs");
  std::string tried;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const Argument& a = args[i];
    if (with_argument(a, [&] { return mount_image_if_exists(repo_path, a, root, erofs_dir); }))
      return a;
    tried += (tried.empty() ? "" : ", ") + a.hex;
    if (i + 1 < args.size())
      info << kProg << ": image " << a.hex << " not found, trying the next argument\n";
  }
  throw Error(ENOENT, "no composefs image found (tried: " + tried + ")");
}

// `lower` under a writable tmpfs overlay on `target`: changes last until shutdown.
void overlay_transient(const mount::Staging& staging, const std::string& lower,
                       const std::string& target, const std::string& name) {
  std::string tmp = staging.make_dir("transient-" + name);
  mount::mount_tmpfs(tmp, "mode=0755");  // stays in the staging area; the overlay holds it
  mount::mount_overlay("transient", lower, ensure_dir(tmp + "/upper", 0755),
                       ensure_dir(tmp + "/work", 0700), target);
}

// /etc or /var of the new root as the configuration says; overlays over the image's.
void mount_state(StateMount mode, const std::string& name, const std::string& image,
                 const std::string& root, const std::string& state, const mount::Staging& staging) {
  if (mode == StateMount::kNone) return;
  std::string lower = image + "/" + name, target = root + "/" + name, source = state + "/" + name;
  require_directory(lower, "the image's /" + name);
  require_directory(target, "the new root's /" + name);
  if (mode != StateMount::kTransient) require_directory(source, "state directory");
  switch (mode) {
    case StateMount::kBind:
      mount::bind(source, target, false);
      break;
    case StateMount::kOverlay:
      // upper 0755: the merged directory shows its mode (composefs-rs#287); work is private.
      mount::mount_overlay("overlay", lower, ensure_dir(source + "/upper", 0755),
                           ensure_dir(source + "/work", 0700), target);
      break;
    case StateMount::kTransient:
      overlay_transient(staging, lower, target, name);
      break;
    case StateMount::kNone:
      break;
  }
}

// The sysroot's filesystem made writable for /etc's upper layer and /var when it is mounted
// read-only (initramfs-tools does without `rw`); read-only again unless kept.
class WritableSysroot {
 public:
  explicit WritableSysroot(std::string path) : path_(std::move(path)) {}
  ~WritableSysroot() {
    if (!remounted_) return;
    try {
      mount::remount(path_, true);
    } catch (const Error&) {
      // Best effort: the error being reported is the one that matters.
    }
  }
  WritableSysroot(const WritableSysroot&) = delete;
  WritableSysroot& operator=(const WritableSysroot&) = delete;

  void ensure(std::ostream& info) {
    if (!mount::is_read_only(path_)) return;
    mount::remount(path_, false);
    remounted_ = true;
    info << kProg << ": remounted " << path_ << " read-write (it was mounted read-only)\n";
  }
  void keep() { remounted_ = false; }

 private:
  std::string path_;
  bool remounted_ = false;
};

// /run is a tmpfs in every initramfs; /tmp where there is no /run (tests).
std::string staging_parent() {
  struct stat st {};
  return ::stat("/run", &st) == 0 && S_ISDIR(st.st_mode) ? "/run" : "/tmp";
}

}  // namespace

void setup_root(const SetupRootOptions& o, std::ostream& info) {
  boot::SetupRootConfig config = boot::load_setup_root_config(o.config);
  std::vector<Argument> args = arguments(o.cmdline ? *o.cmdline : read_text("/proc/cmdline"));
  require_directory(o.sysroot, "sysroot");
  if (o.target) require_directory(*o.target, "target");
  if (o.root_fs) require_directory(*o.root_fs, "root filesystem");

  // Declared first, so undone last: after the staging area's mounts are gone.
  WritableSysroot sysroot(o.sysroot);
  mount::Staging staging(staging_parent(), "composefs-setup-root");
  // The image stays reachable at `image`: the lower layer of every overlay, also under a
  // transient root (overlayfs stacks at most two deep: composefs, then one more).
  std::string image = staging.make_dir("image");
  const Argument& chosen =
      o.root_fs ? args.front() : mount_first_image(o.sysroot, args, staging, image, info);
  with_argument(chosen, [&] {
    if (o.root_fs) mount::bind(*o.root_fs, image, false);
    sysroot.ensure(info);
    std::string root = image;
    if (config.root_transient) {
      root = staging.make_dir("root");
      overlay_transient(staging, image, root, "root");
    }
    // The physical root stays reachable in the new one; an image without /sysroot goes
    // without, as composefs-rs.
    if (exists(root + "/sysroot")) {
      require_directory(root + "/sysroot", "the image's /sysroot");
      mount::bind(o.sysroot, root + "/sysroot", true);
      // A copy of a shared sysroot is its peer: the new root moved onto the sysroot would
      // propagate onto this copy too, hiding the physical root behind a second new root.
      mount::make_private(root + "/sysroot", true);
    }
    StateMount etc = config.etc_mode(), var = config.var_mode();
    std::string state = o.sysroot + "/state/deploy/" + chosen.hex;
    auto uses_state = [](StateMount m) {
      return m == StateMount::kBind || m == StateMount::kOverlay;
    };
    if (uses_state(etc) || uses_state(var)) require_directory(state, "state directory");
    mount_state(etc, "etc", image, root, state, staging);
    mount_state(var, "var", image, root, state, staging);
    mount::move(root, o.target.value_or(o.sysroot));
  });
  sysroot.keep();
}

void link_volatile_root() noexcept {
  struct stat st {};
  if (::stat("/dev/gpt-auto-root", &st) != 0) return;
  std::string target =
      "/dev/block/" + std::to_string(major(st.st_rdev)) + ":" + std::to_string(minor(st.st_rdev));
  ::symlink(target.c_str(), "/run/systemd/volatile-root");  // EEXIST: made before us (ostree)
}

}  // namespace cfs::tools
