// composefs-setup-root [--sysroot DIR] [--config FILE] [--cmdline TEXT] [--target DIR]
// [--root-fs DIR]: composefs-rs 0.9's initramfs program (docs/man/composefs-setup-root.8.md).
// Arguments and the one line an error prints; the work is in setup_root.cc.
#include "composefs-setup-root/composefs_setup_root.h"

#include <getopt.h>
#include <unistd.h>

#include <iostream>
#include <string>

#include "base/error.h"
#include "common/cli.h"
#include "composefs-setup-root/setup_root.h"

namespace cfs::tools {
namespace {

constexpr const char* kProg = "composefs-setup-root";

constexpr const char* kHelp =
    "Usage: composefs-setup-root [OPTIONS]\n"
    "\n"
    "Mounts the composefs image named on the kernel command line (composefs=<hex>,\n"
    "composefs.digest=v1-<hash>-12:<hex>) from SYSROOT/composefs as the new root on SYSROOT,\n"
    "with /etc and /var from SYSROOT/state/deploy/<hex> and the physical root at /sysroot.\n"
    "\n"
    "Options:\n"
    "      --sysroot <DIR>     sysroot directory in initramfs [default: /sysroot]\n"
    "      --config <FILE>     config path [default: /usr/lib/composefs/setup-root-conf.toml]\n"
    "      --cmdline <TEXT>    kernel command line instead of /proc/cmdline (for testing)\n"
    "      --target <DIR>      mount the new root here, leaving SYSROOT alone (for testing)\n"
    "      --root-fs <DIR>     a clone of DIR instead of an image (for testing)\n"
    "  -h, --help              Print help\n"
    "  -V, --version           Print version\n";

// One line, whatever the message holds.
std::string one_line(std::string s) {
  for (char& c : s) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return s;
}

}  // namespace

int composefs_setup_root_main(int argc, char** argv) {
  enum { kSysroot = 256, kConfig, kCmdline, kTarget, kRootFs };
  static const option kLong[] = {{"sysroot", required_argument, nullptr, kSysroot},
                                 {"config", required_argument, nullptr, kConfig},
                                 {"cmdline", required_argument, nullptr, kCmdline},
                                 {"target", required_argument, nullptr, kTarget},
                                 {"root-fs", required_argument, nullptr, kRootFs},
                                 {"help", no_argument, nullptr, 'h'},
                                 {"version", no_argument, nullptr, 'V'},
                                 {nullptr, 0, nullptr, 0}};
  SetupRootOptions o;
  optind = 0;
  opterr = 0;  // our own one-line message
  for (int c; (c = getopt_long(argc, argv, "hV", kLong, nullptr)) != -1;) {
    switch (c) {
      case kSysroot:
        o.sysroot = optarg;
        break;
      case kConfig:
        o.config = optarg;
        break;
      case kCmdline:
        o.cmdline = optarg;
        break;
      case kTarget:
        o.target = optarg;
        break;
      case kRootFs:
        o.root_fs = optarg;
        break;
      case 'h':
        return cli::print_out(kProg, kHelp) ? 0 : 1;
      case 'V':
        return cli::print_out(kProg, std::string(kProg) + " " + cli::kVersion + "\n") ? 0 : 1;
      default:
        cli::error(kProg, std::string("invalid option '") + argv[optind - 1] + "' (see --help)");
        return 2;
    }
  }
  if (optind < argc) {
    cli::error(kProg, std::string("unexpected argument '") + argv[optind] + "' (see --help)");
    return 2;
  }

  link_volatile_root();
  try {
    setup_root(o, std::cout);
    return 0;
  } catch (const std::exception& e) {  // Error, and bad_alloc
    std::cout.flush();
    cli::error(kProg, one_line(e.what()));
    return 1;
  }
}

}  // namespace cfs::tools
