// --help and usage lines of the command tree, laid out as clap lays them out for composefs-rs's
// cfsctl: about, "Usage: …", then Commands, Arguments and Options. Layer: tools.
#pragma once

#include <string>
#include <vector>

#include "cfsctl/commands.h"

namespace cfs::cfsctl {

// The command and its parents, from `cfsctl` down.
using CommandPath = std::vector<const Command*>;

// "Usage: cfsctl oci pull [OPTIONS] <IMAGE> [NAME]"
std::string usage_line(const CommandPath& path);
// The whole help text of the last command of `path`.
std::string help_text(const CommandPath& path);

}  // namespace cfs::cfsctl
