// mount.composefs [-o OPTIONS] IMAGE MOUNTPOINT, also run by mount(8) for -t composefs
// (docs/man/mount.composefs.8.md).
#include "mount.composefs/mount_composefs.h"

#include <fcntl.h>
#include <getopt.h>
#include <unistd.h>

#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "base/error.h"
#include "common/cli.h"
#include "mount/mount.h"

namespace cfs::tools {
namespace {

constexpr const char* kProg = "mount.composefs";

int usage(const char* argv0, const char* message, int code = 1) {
  if (message != nullptr) cli::error(kProg, message);
  write_all(STDERR_FILENO,
            std::string("usage: ") + argv0 +
                " [-t composefs] [-o OPTIONS] IMAGE MOUNTPOINT\n"
                "Options (comma separated; '\\' escapes the next character):\n"
                "  basedir=DIR[:DIR...]  object stores (required)\n"
                "  digest=HEX            expected fs-verity digest of IMAGE\n"
                "  verity | tryverity | noverity\n"
                "  ro | rw, nosuid | nodev | noexec (for images not trusted as a root filesystem)\n"
                "  upperdir=DIR,workdir=DIR  writable overlay on top\n"
                "  idmap=/proc/PID/ns/user   idmapped mount\n");
  return code;
}

}  // namespace

int mount_composefs_main(int argc, char** argv) {
  std::string options;
  bool fake = false, verbose = false;
  optind = 0;
  // -s -f -n -v -N are what mount(8) may pass to helpers; they change nothing here.
  static const option kLong[] = {{"help", no_argument, nullptr, 'h'},
                                 {"version", no_argument, nullptr, 'V'},
                                 {nullptr, 0, nullptr, 0}};
  for (int c; (c = getopt_long(argc, argv, "t:o:hsfnvN:V", kLong, nullptr)) != -1;) {
    switch (c) {
      case 't':
        if (std::string(optarg) != "composefs") {
          cli::error(kProg, std::string("Unsupported fs type '") + optarg + "'");
          return 1;
        }
        break;
      case 'o':
        if (!options.empty()) options += ',';
        options += optarg;
        break;
      case 'h': return usage(argv[0], nullptr, 0);
      case 'V':
        return cli::print_out(kProg, std::string("mount.composefs ") + cli::kVersion + "\n") ? 0 : 1;
      case 'f': fake = true; break;     // mount -f: check everything, mount nothing
      case 'v': verbose = true; break;  // mount -v
      case 's': case 'n': case 'N': break;  // sloppy, no mtab, namespace: nothing to do
      default: return usage(argv[0], nullptr);
    }
  }
  if (optind >= argc) return usage(argv[0], "No source path specified");
  std::string image = argv[optind++];
  if (optind >= argc) return usage(argv[0], "No mount path specified");
  std::string mountpoint = argv[optind++];

  mount::Options mo;
  UniqueFd userns;
  for (auto& [key, value] : cli::split_mount_options(options)) {
    bool valued = key == "basedir" || key == "digest" || key == "upperdir" || key == "workdir" ||
                  key == "idmap";
    if (valued && !value) {
      cli::error(kProg, "No value specified for " + key + " option");
      return 1;
    }
    if (key == "basedir") {
      auto dirs = cli::split_basedirs(*value);
      if (!dirs) {
        cli::error(kProg, "Value for basedir option has incorrect format");
        return 1;
      }
      mo.basedirs = std::move(*dirs);
    } else if (key == "digest") {
      mo.digest = *value;
      mo.digest_implies_verity = true;
    } else if (key == "verity") {
      mo.require_verity = true;
    } else if (key == "tryverity") {
      mo.try_verity = true;
    } else if (key == "noverity") {
      mo.require_verity = mo.try_verity = false;
    } else if (key == "ro") {
      mo.read_only = true;
    } else if (key == "rw") {
      mo.read_only = false;
    } else if (key == "nosuid" || key == "suid") {
      mo.nosuid = key == "nosuid";
    } else if (key == "nodev" || key == "dev") {
      mo.nodev = key == "nodev";
    } else if (key == "noexec" || key == "exec") {
      mo.noexec = key == "noexec";
    } else if (key == "upperdir") {
      mo.upperdir = *value;
    } else if (key == "workdir") {
      mo.workdir = *value;
    } else if (key == "idmap") {
      userns.reset(::open(value->c_str(), O_RDONLY | O_CLOEXEC));
      if (!userns) {
        cli::error(kProg, "Failed to open userns " + *value + ": " + std::strerror(errno));
        return 1;
      }
      mo.idmap_userns_fd = userns.get();
    } else if (key.empty() || key == "defaults" || key == "noauto" || key == "auto" ||
               key == "nofail" || key == "_netdev" || key.starts_with("x-")) {
      // fstab-only options that mount(8) may hand through
    } else {
      cli::error(kProg, "Unsupported option " + key);
      return 1;
    }
  }
  if (mo.basedirs.empty()) return usage(argv[0], "No object dirs specified");
  if (mo.upperdir.empty() != mo.workdir.empty()) {
    cli::error(kProg, "Both workdir and upperdir must be specified if used");
    return 1;
  }
  UniqueFd fd(::open(image.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    cli::error(kProg, "Failed to open " + image + ": " + std::strerror(errno));
    return 1;
  }
  mo.dry_run = fake;
  try {
    mount::mount_image(fd.get(), mountpoint, mo);
    if (verbose) {
      std::string what = (fake ? "would mount " : "mounted ") + image + " on " + mountpoint + "\n";
      if (!cli::print_out(kProg, std::string(kProg) + ": " + what)) return 1;
    }
  } catch (const Error& e) {
    std::string reason = e.what();
    if (e.code() == EPERM && ::geteuid() != 0) reason += " (mounting needs root; try composefs-fuse)";
    cli::error(kProg, "Failed to mount composefs " + image + ": " + reason);
    return 1;
  }
  return 0;
}

}  // namespace cfs::tools
