// cfsctl: composefs-rs's repository tool (0.9), for repositories laid out as composefs-rs lays
// them out (docs/repository.md, cfsctl(1)). Layer: tools.
#pragma once

#include <optional>
#include <string>

#include "cfsctl/args.h"
#include "repo/repository.h"

namespace cfs::cfsctl {

// The global options (before the subcommand).
struct Global {
  std::optional<std::string> repo;
  bool user = false, system = false, no_repo = false;
  repo::OpenOptions open;
};

// The repository path as cfsctl chooses it: --repo, --user, --system, else by the real uid.
std::string repo_path(const Global& g);

// Each command prints its result on stdout and returns the exit code; failures throw.
int cmd_init(const Global& g, Args& a);
int cmd_create_image(const Global& g, Args& a);
int cmd_compute_id(const Global& g, Args& a);
int cmd_images(const Global& g, Args& a);
int cmd_image_objects(const Global& g, Args& a);
int cmd_dump_files(const Global& g, Args& a);
int cmd_import_image(const Global& g, Args& a);
int cmd_mount(const Global& g, Args& a);
int cmd_gc(const Global& g, Args& a);
int cmd_fsck(const Global& g, Args& a);
int cmd_transaction(const Global& g, Args& a);

int cfsctl_main(int argc, char** argv);

}  // namespace cfs::cfsctl
