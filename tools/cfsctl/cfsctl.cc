// cfsctl's entry: global options, the subcommand, and how failures are reported (anyhow-style
// "Error: ..." and exit 1; usage errors clap-style and exit 2).
#include "cfsctl/cfsctl.h"

#include <unistd.h>

#include <cstdlib>
#include <functional>
#include <iostream>
#include <map>

#include "base/error.h"
#include "base/file_io.h"
#include "repo/meta.h"

namespace cfs::cfsctl {
namespace {

constexpr const char* kUsage = "Usage: cfsctl [OPTIONS] <COMMAND>";

constexpr const char* kHelp =
    "cfsctl: manage a composefs repository (composefs-rs 0.9 compatible)\n\n"
    "Usage: cfsctl [OPTIONS] <COMMAND>\n\n"
    "Commands:\n"
    "  init            Initialize a repository\n"
    "  create-image    Build an image of a directory into the repository\n"
    "  compute-id      Print the image ID a directory would get\n"
    "  compute-karg    Print the kernel argument for a directory's boot image\n"
    "  create-dumpfile Print a directory as a composefs dumpfile\n"
    "  images          List named images\n"
    "  image-objects   List the objects an image needs\n"
    "  dump-files      Print entries of an image as a composefs dumpfile\n"
    "  import-image    Store an image read from standard input (unsafe)\n"
    "  mount           Mount an image\n"
    "  gc              Remove objects no image or stream needs\n"
    "  fsck            Check the repository\n"
    "  transaction     Hold the repository open (blocks gc) until killed\n"
    "  oci             Container images: pull, images, inspect, tag, untag, mount, compute-id, dump, fsck,\n"
    "                  prepare-boot\n"
    "  prepare-boot    Write a boot entry for an image made by create-image --bootable\n"
    "  boot-entries    List the boot entries of a boot directory\n"
    "  remove-boot-entry  Remove a boot entry (to fall back to the previous image)\n\n"
    "Options:\n"
    "      --repo <REPO>               Repository path\n"
    "      --user                      Use $HOME/.var/lib/composefs\n"
    "      --system                    Use /sysroot/composefs\n"
    "      --hash <HASH>               sha256 or sha512 (must match the repository)\n"
    "      --erofs-version <VERSION>   EROFS format version for this run (0, 1, 2)\n"
    "      --require-verity            Refuse a repository without fs-verity\n"
    "      --no-upgrade                Do not upgrade repositories without meta.json\n"
    "      --no-repo                   Open no repository (compute-id, compute-karg, create-dumpfile)\n"
    "  -h, --help                      Print help\n"
    "  -V, --version                   Print version\n";

// An error and its causes as composefs-rs's cfsctl prints them (anyhow's format).
std::string with_causes(const Error& e) {
  const std::vector<std::string>& chain = e.chain();
  std::string out = chain.front();
  if (chain.size() == 2) return out + "\n\nCaused by:\n    " + chain[1];
  if (chain.size() > 2) out += "\n\nCaused by:";
  for (std::size_t i = 1; i < chain.size(); ++i) out += "\n    " + std::to_string(i - 1) + ": " + chain[i];
  return out;
}

int usage_error(const std::string& message) {
  std::cerr << "error: " << message << "\n\n" << kUsage << "\n\nFor more information, try '--help'.\n";
  return 2;
}

// The words up to the subcommand are global options.
std::size_t parse_global(const std::vector<std::string>& words, Global& g, bool& help, bool& version) {
  std::size_t i = 0;
  auto value = [&](const std::string& w, const std::string& name) -> std::optional<std::string> {
    if (w == "--" + name) {
      if (i + 1 >= words.size()) throw UsageError("a value is required for '--" + name + "' but none was supplied");
      return words[++i];
    }
    if (w.starts_with("--" + name + "=")) return w.substr(name.size() + 3);
    return std::nullopt;
  };
  int locations = 0;
  for (; i < words.size() && words[i].starts_with("-"); ++i) {
    const std::string& w = words[i];
    if (auto v = value(w, "repo")) {
      g.repo = *v;
      ++locations;
    } else if (w == "--user") {
      g.user = true;
      ++locations;
    } else if (w == "--system") {
      g.system = true;
      ++locations;
    } else if (auto v = value(w, "hash")) {
      one_of(*v, "--hash <HASH>", {"sha256", "sha512"});
      g.open.hash = *v == "sha256" ? HashAlgorithm::kSha256 : HashAlgorithm::kSha512;
    } else if (auto v = value(w, "erofs-version")) {
      g.open.erofs_version = static_cast<std::uint32_t>(std::stoul(one_of(*v, "--erofs-version <VERSION>", {"0", "1", "2"})));
    } else if (w == "--require-verity") {
      g.open.require_verity = true;
    } else if (w == "--no-upgrade") {
      g.open.no_upgrade = true;
    } else if (w == "--no-repo") {
      g.no_repo = true;
    } else if (w == "--insecure") {
      g.open.insecure = true;
    } else if (w == "-h" || w == "--help") {
      help = true;
    } else if (w == "-V" || w == "--version") {
      version = true;
    } else {
      throw UsageError("unexpected argument '" + w + "' found");
    }
  }
  if (locations > 1) throw UsageError("the arguments '--repo', '--user' and '--system' cannot be used with one another");
  return i;
}

}  // namespace

std::string repo_path(const Global& g) {
  if (g.repo) return *g.repo;
  if (g.system || (!g.user && ::getuid() == 0)) return "/sysroot/composefs";
  const char* home = std::getenv("HOME");
  if (home == nullptr) throw Error(EINVAL, "$HOME must be set when in user mode");
  return std::string(home) + "/.var/lib/composefs";
}

int cfsctl_main(int argc, char** argv) {
  std::vector<std::string> words(argv + 1, argv + argc);
  static const std::map<std::string, std::function<int(const Global&, Args&)>> kCommands = {
      {"init", cmd_init},
      {"create-image", cmd_create_image},
      {"compute-id", cmd_compute_id},
      {"compute-karg", cmd_compute_karg},
      {"create-dumpfile", cmd_create_dumpfile},
      {"images", cmd_images},
      {"list-images", cmd_images},
      {"image-objects", cmd_image_objects},
      {"dump-files", cmd_dump_files},
      {"import-image", cmd_import_image},
      {"mount", cmd_mount},
      {"gc", cmd_gc},
      {"fsck", cmd_fsck},
      {"transaction", cmd_transaction},
      {"fetch", cmd_fetch},
      {"merkle", cmd_merkle},
      {"oci", cmd_oci},
      {"prepare-boot", cmd_prepare_boot},
      {"boot-entries", cmd_boot_entries},
      {"remove-boot-entry", cmd_remove_boot_entry},
  };
  try {
    Global g;
    bool help = false, version = false;
    std::size_t at = parse_global(words, g, help, version);
    if (help) return write_all(STDOUT_FILENO, kHelp), 0;
    if (version) return write_all(STDOUT_FILENO, "cfsctl 0.9.0\n"), 0;
    if (at == words.size()) return usage_error("'cfsctl' requires a subcommand but one was not provided");
    auto cmd = kCommands.find(words[at]);
    if (cmd == kCommands.end()) return usage_error("unrecognized subcommand '" + words[at] + "'");
    if (g.no_repo && words[at] != "compute-id" && words[at] != "compute-karg" &&
        words[at] != "create-dumpfile" && words[at] != "init") {
      throw Error(EINVAL, "--no-repo is only supported for compute-id and create-dumpfile");
    }
    Args args(std::vector<std::string>(words.begin() + static_cast<std::ptrdiff_t>(at) + 1, words.end()));
    return cmd->second(g, args);
  } catch (const UsageError& e) {
    return usage_error(e.what());
  } catch (const Error& e) {
    std::cerr << "Error: " << with_causes(e) << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "Error: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace cfs::cfsctl
