// cfsctl: composefs-rs's repository tool (0.9), for repositories laid out as composefs-rs lays
// them out (docs/repository.md, cfsctl(1)). Layer: tools.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cfsctl/args.h"
#include "oci/stored.h"
#include "repo/repository.h"
#include "tree/tree.h"

namespace cfs::cfsctl {

// The global options (before the subcommand).
struct Global {
  std::optional<std::string> repo;
  bool user = false, system = false, no_repo = false;
  repo::OpenOptions open;
  std::vector<std::string> argv;  // the command line as given, for messages that repeat it
};

// The repository path as cfsctl chooses it: --repo, --user, --system, else by the real uid.
std::string repo_path(const Global& g);

// Each command prints its result on stdout and returns the exit code; failures throw.
int cmd_init(const Global& g, Args& a);
int cmd_create_image(const Global& g, Args& a);
int cmd_compute_id(const Global& g, Args& a);
int cmd_compute_karg(const Global& g, Args& a);
int cmd_create_dumpfile(const Global& g, Args& a);
int cmd_images(const Global& g, Args& a);
int cmd_image_objects(const Global& g, Args& a);
int cmd_dump_files(const Global& g, Args& a);
int cmd_import_image(const Global& g, Args& a);
int cmd_mount(const Global& g, Args& a);
int cmd_gc(const Global& g, Args& a);
int cmd_fsck(const Global& g, Args& a);
int cmd_transaction(const Global& g, Args& a);
int cmd_fetch(const Global& g, Args& a);
int cmd_merkle(const Global& g, Args& a);
int cmd_cat(const Global& g, Args& a);

int cmd_oci_pull(const Global& g, Args& a);
int cmd_oci_images(const Global& g, Args& a);
int cmd_oci_inspect(const Global& g, Args& a);
int cmd_oci_tag(const Global& g, Args& a);
int cmd_oci_untag(const Global& g, Args& a);
int cmd_oci_mount(const Global& g, Args& a);
int cmd_oci_compute_id(const Global& g, Args& a);
int cmd_oci_dump(const Global& g, Args& a);
int cmd_oci_fsck(const Global& g, Args& a);
int cmd_oci_layer(const Global& g, Args& a);
int cmd_oci_import_layer(const Global& g, Args& a);
int cmd_oci_copy(const Global& g, Args& a);
int cmd_oci_prepare_boot(const Global& g, Args& a);
int cmd_prepare_boot(const Global& g, Args& a);
int cmd_boot_entries(const Global& g, Args& a);
int cmd_remove_boot_entry(const Global& g, Args& a);

// REF [CONFIG_VERITY] of the oci commands: a tag or manifest digest, or @<config digest> with
// its stream's verity (then `verify` says whether the layers must be checked: no verity given).
// Opens the repository into `repo`.
oci::StoredImage stored_ref(const Global& g, Args& a, std::unique_ptr<repo::Repository>& repo, bool& verify);

// `mount` with NAME first turned into an image name by `resolve` (oci mount); null: as it is.
using ImageResolver = std::function<std::string(const repo::Repository&, const std::string&)>;
int mount_command(const Global& g, Args& a, const ImageResolver& resolve);
// Every name under images/refs/ and the image ID (hex) it names, in directory order.
std::vector<std::pair<std::string, std::string>> image_refs(const repo::Repository& repo);
// cfsctl's dumpfile of `node` (at `path`) and everything below it.
std::string composefs_rs_dump(const tree::Node& node, const std::string& path);
// The digest's "sha512:<hex>" form.
std::string id_form(const Digest& d);

int cfsctl_main(int argc, char** argv);

}  // namespace cfs::cfsctl
