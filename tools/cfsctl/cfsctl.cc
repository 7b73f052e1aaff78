// cfsctl's entry: global options, the subcommand, and how failures are reported (anyhow-style
// "Error: ..." and exit 1; usage errors clap-style and exit 2).
#include "cfsctl/cfsctl.h"

#include "cfsctl/commands.h"
#include "cfsctl/complete.h"
#include "cfsctl/help.h"

#include <unistd.h>

#include <cstdlib>
#include <iostream>

#include "base/error.h"
#include "base/file_io.h"
#include "repo/meta.h"

namespace cfs::cfsctl {
namespace {

// An error and its causes as composefs-rs's cfsctl prints them (anyhow's format).
std::string with_causes(const Error& e) {
  const std::vector<std::string>& chain = e.chain();
  std::string out = chain.front();
  if (chain.size() == 2) return out + "\n\nCaused by:\n    " + chain[1];
  if (chain.size() > 2) out += "\n\nCaused by:";
  for (std::size_t i = 1; i < chain.size(); ++i) out += "\n    " + std::to_string(i - 1) + ": " + chain[i];
  return out;
}

int usage_error(const std::string& message, const CommandPath& path) {
  std::cerr << "error: " << message << "\n\n" << usage_line(path) << "\n\nFor more information, try '--help'.\n";
  return 2;
}

// Whether -h or --help is among a command's words (not as an option's value, not after --).
bool asks_for_help(const Command& c, const std::vector<std::string>& words) {
  for (std::size_t i = 0; i < words.size(); ++i) {
    if (words[i] == "--") return false;
    if (words[i] == "-h" || words[i] == "--help") return true;
    const Opt* o = find_option(c, words[i]);
    if (o != nullptr && !o->value.empty()) ++i;
  }
  return false;
}

int print_help(const CommandPath& path) {
  write_all(STDOUT_FILENO, help_text(path));
  return 0;
}

std::string command_name(const CommandPath& path) {
  std::string name;
  for (const Command* c : path) name += (name.empty() ? "" : " ") + std::string(c->name);
  return name;
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
  if (const char* shell = std::getenv("COMPLETE"); shell != nullptr && *shell != '\0' && std::string_view(shell) != "0") {
    return complete_main(shell, words);
  }
  CommandPath path{&command_tree()};
  try {
    Global g;
    g.argv.assign(argv, argv + argc);
    bool help = false, version = false;
    std::size_t at = parse_global(words, g, help, version);
    if (help) return print_help(path);
    if (version) return write_all(STDOUT_FILENO, "cfsctl 0.9.0\n"), 0;
    // Down to the command that runs; `help [COMMAND]...` at any level prints that command's help.
    bool help_command = false;
    std::size_t level_start = 0;
    while (!path.back()->subcommands.empty()) {
      if (at == words.size()) {
        if (help_command) break;
        if (at == level_start) {  // nothing at all: the help, as a usage error (clap's way)
          std::cerr << help_text(path);
          return 2;
        }
        throw UsageError("'" + command_name(path) + "' requires a subcommand but one was not provided");
      }
      const std::string& w = words[at++];
      if (w == "-h" || w == "--help") return print_help(path);
      if (w == "help" && !help_command) {
        help_command = true;
        continue;
      }
      const Command* sub = find_subcommand(*path.back(), w);
      if (sub == nullptr) throw UsageError("unrecognized subcommand '" + w + "'");
      path.push_back(sub);
      level_start = at;
    }
    std::vector<std::string> rest(words.begin() + static_cast<std::ptrdiff_t>(at), words.end());
    if (help_command || asks_for_help(*path.back(), rest)) return print_help(path);
    std::string_view name = path[1]->name;
    if (g.no_repo && name != "compute-id" && name != "compute-karg" && name != "create-dumpfile" && name != "init") {
      throw Error(EINVAL, "--no-repo is only supported for compute-id and create-dumpfile");
    }
    Args args(std::move(rest), path.back());
    return path.back()->run(g, args);
  } catch (const UsageError& e) {
    return usage_error(e.what(), path);
  } catch (const Error& e) {
    std::cerr << "Error: " << with_causes(e) << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "Error: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace cfs::cfsctl
