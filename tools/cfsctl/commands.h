// cfsctl's command tree: every command and subcommand with its arguments, options, help texts
// and handler. One table serves dispatch, --help and shell completion, so a command cannot be
// runnable but missing from the help, or completed with options it does not take.
// Not CLI11 (libcli11-dev): its messages, help layout and exit codes are its own (e.g. "The
// following argument was not expected", exit 109), and matching clap's, which scripts written
// for composefs-rs read, would mean overriding its formatter and error mapping, while
// completion would still need this table. Layer: tools. The table is static and read-only.
#pragma once

#include <string_view>
#include <vector>

namespace cfs::cfsctl {

struct Global;
class Args;

// What a value is, for shell completion.
enum class Values {
  kNone,            // free text: nothing to offer
  kPath,            // a file or directory
  kDir,             // a directory
  kImage,           // an image ID or ref name of the repository
  kOciTag,          // a tag of an OCI image in the repository
  kOciDigest,       // a manifest digest of an OCI image in the repository
  kOciTagOrDigest,  // either (a digest as @sha256:…)
};

struct Opt {
  std::string_view name;  // the long name, without "--"
  char short_name = 0;
  std::string_view value;  // the value's name ("REPO"); empty for a flag
  std::string_view help;
  std::vector<std::string_view> choices = {};
  std::string_view default_value = {};
  Values values = Values::kNone;
  bool hidden = false;  // accepted, not shown in --help (as composefs-rs's --insecure)
};

struct Pos {
  std::string_view name;  // "PATH"
  bool required = true;
  bool many = false;  // FILES...
  std::string_view help;
  Values values = Values::kNone;
};

using Handler = int (*)(const Global&, Args&);

struct Command {
  std::string_view name;
  std::string_view about;
  std::vector<Pos> args = {};
  std::vector<Opt> options = {};
  Handler run = nullptr;  // null: it has subcommands
  std::vector<Command> subcommands = {};
  std::vector<std::string_view> aliases = {};
};

// `cfsctl` itself: the global options and the commands.
const Command& command_tree();

// The subcommand of `parent` named `name` (or one of its aliases); null if none.
const Command* find_subcommand(const Command& parent, std::string_view name);
// The option of `c` named `--name` or `-s`; null if none (-h/--help is not in the table).
const Opt* find_option(const Command& c, std::string_view word);

}  // namespace cfs::cfsctl
