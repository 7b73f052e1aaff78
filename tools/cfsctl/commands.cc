// The command tree (commands.h): composefs-rs 0.9's cfsctl commands and options (help texts in
// our words), and ours: fetch, merkle, prepare-boot, boot-entries, remove-boot-entry.
#include "cfsctl/commands.h"

#include "cfsctl/cfsctl.h"

namespace cfs::cfsctl {
namespace {

const std::vector<std::string_view> kXattrModes = {"allowlist-only", "keep-user-xattrs"};
const std::vector<std::string_view> kErofsVersions = {"0", "1", "2"};

Opt xattrs() {
  return {.name = "xattrs",
          .value = "XATTRS",
          .help = "Which extended attributes the image keeps",
          .choices = kXattrModes,
          .default_value = "allowlist-only"};
}
Opt bootable(std::string_view help) { return {.name = "bootable", .help = help}; }
Opt no_propagate() {
  return {.name = "no-propagate-usr-to-root",
          .help = "Keep the root directory's own metadata instead of taking /usr's"};
}
Opt bootdir() {
  return {.name = "bootdir",
          .value = "BOOTDIR",
          .help = "The boot partition's mount point",
          .default_value = "/boot",
          .values = Values::kDir};
}

// create-image, compute-id, create-dumpfile: a directory read as composefs-rs reads it.
std::vector<Opt> fs_read_options() {
  return {bootable("Apply the boot transform (SELinux labels, empty /boot and /sysroot)"),
          no_propagate(), xattrs()};
}

std::vector<Opt> mount_options() {
  return {
      {.name = "fuse",
       .value = "FUSE",
       .help = "Mount with FUSE: auto (unless root), yes or no (the kernel)",
       .choices = {"auto", "yes", "no"},
       .default_value = "auto"},
      {.name = "foreground", .help = "Keep the FUSE server in the foreground"},
      {.name = "upperdir",
       .value = "UPPERDIR",
       .help = "Writable overlayfs upper directory (needs --workdir)",
       .values = Values::kDir},
      {.name = "workdir",
       .value = "WORKDIR",
       .help = "Overlayfs work directory (needs --upperdir)",
       .values = Values::kDir},
      {.name = "read-write", .help = "Mount writable (needs --upperdir)"},
      {.name = "suid", .help = "Honour set-user-ID bits (kernel mounts; off by default)"},
      {.name = "dev", .help = "Allow device files (kernel mounts; off by default)"},
      {.name = "remote",
       .value = "URL",
       .help = "Fetch missing objects from this mirror on first open (FUSE; repeatable)"},
  };
}

// The REF [CONFIG_VERITY] of oci dump, compute-id and prepare-boot.
std::vector<Pos> config_ref() {
  return {{.name = "CONFIG_NAME",
           .help = "A tag (myimage:latest) or @ and a config digest (@sha256:…)",
           .values = Values::kOciTagOrDigest},
          {.name = "CONFIG_VERITY",
           .required = false,
           .help = "The config stream's verity digest, trusted instead of checking the layers"}};
}

std::vector<Opt> prepare_boot_options() {
  return {bootdir(),
          {.name = "entry-id",
           .value = "ENTRY_ID",
           .help = "The boot entry's name (default: the image's own, or its kernel version)"},
          {.name = "cmdline",
           .value = "CMDLINE",
           .help = "A kernel command line argument to add (repeatable)"}};
}

Command oci_commands() {
  std::vector<Opt> oci_mount = mount_options();
  oci_mount.insert(oci_mount.begin(), bootable("Mount the image's boot variant"));
  std::vector<Opt> config_fs = {bootable("Apply the boot transform"), xattrs()};
  return {
      .name = "oci",
      .about = "Container images: pull, list, inspect, tag, mount and boot them",
      .subcommands = {
          {.name = "pull",
           .about = "Pull an image into the repository and print what was stored",
           .args = {{.name = "IMAGE",
                     .help = "docker://…, oci:DIR[:TAG], oci-archive:FILE[:TAG], dir:DIR, "
                             "docker-archive:FILE[:TAG], containers-storage:NAME or NAME[:TAG]"},
                    {.name = "NAME",
                     .required = false,
                     .help = "The tag to give it (default: IMAGE as given)"}},
           .options = {bootable("Also make the boot image"),
                       {.name = "expected-digest",
                        .value = "EXPECTED_DIGEST",
                        .help = "Find the boot image with this ID among the older defaults (needs "
                                "--bootable)"},
                       {.name = "tls-verify",
                        .value = "BOOL",
                        .help = "Check the registry's certificate",
                        .choices = {"true", "false"},
                        .default_value = "true"},
                       {.name = "creds",
                        .value = "USER[:PASSWORD]",
                        .help = "Credentials for the registry"},
                       {.name = "local-fetch",
                        .value = "LOCAL_FETCH",
                        .help = "containers-storage: files as objects: disabled (copied), auto "
                                "(reflink, else hard link, else copy) or zerocopy (never copy)",
                        .choices = {"disabled", "auto", "zerocopy"},
                        .default_value = "auto"},
                       {.name = "no-referrers",
                        .help = "Do not fetch the image's referrers (signatures, SBOMs, "
                                "attestations)"},
                       {.name = "quiet",
                        .short_name = 'q',
                        .help = "No progress lines while pulling"}},
           .run = cmd_oci_pull},
          {.name = "images",
           .about = "List the tagged images",
           .options = {{.name = "json", .help = "Print JSON"}},
           .run = cmd_oci_images},
          {.name = "inspect",
           .about = "Print an image's manifest, config and composefs images as JSON",
           .args = {{.name = "IMAGE",
                     .help = "A tag or @ and a manifest digest",
                     .values = Values::kOciTagOrDigest}},
           .options = {{.name = "manifest", .help = "Print only the manifest, as stored"},
                       {.name = "config", .help = "Print only the config, as stored"}},
           .run = cmd_oci_inspect},
          {.name = "tag",
           .about = "Give an image another tag",
           .args = {{.name = "MANIFEST_DIGEST", .help = "sha256:…", .values = Values::kOciDigest},
                    {.name = "NAME", .help = "The new tag (not starting with @)"}},
           .run = cmd_oci_tag},
          {.name = "untag",
           .about = "Remove a tag (gc then removes what nothing else needs)",
           .args = {{.name = "NAME", .help = "The tag", .values = Values::kOciTag}},
           .run = cmd_oci_untag},
          {.name = "mount",
           .about = "Mount an image's composefs image",
           .args = {{.name = "IMAGE",
                     .help = "A tag or manifest digest",
                     .values = Values::kOciTagOrDigest},
                    {.name = "MOUNTPOINT", .help = "Where to mount it", .values = Values::kDir}},
           .options = oci_mount,
           .run = cmd_oci_mount},
          {.name = "compute-id",
           .about = "Print the composefs image ID of a stored image",
           .args = config_ref(),
           .options = config_fs,
           .run = cmd_oci_compute_id},
          {.name = "dump",
           .about = "Print a stored image's tree as a composefs dumpfile",
           .args = config_ref(),
           .options = config_fs,
           .run = cmd_oci_dump},
          {.name = "fsck",
           .about = "Check the repository and the OCI images in it",
           .args = {{.name = "IMAGE",
                     .required = false,
                     .help = "Check only this tag",
                     .values = Values::kOciTag}},
           .options = {{.name = "json", .help = "Print JSON (exit 0 whatever it found)"}},
           .run = cmd_oci_fsck},
          {.name = "layer",
           .about = "Print a stored layer: its tar (not to a terminal), dumpfile lines or JSON",
           .args = {{.name = "LAYER", .help = "The layer's diff_id (sha256:…)"}},
           .options = {{.name = "dumpfile", .help = "Print one composefs dumpfile line per entry"},
                       {.name = "json", .help = "Print the layer's sizes and counts as JSON"}},
           .run = cmd_oci_layer},
          {.name = "import-layer",
           .about = "Store a tar layer read from standard input; print its stream's verity",
           .args = {{.name = "DIGEST", .help = "The tar's diff_id (sha256:…), checked"},
                    {.name = "NAME", .required = false, .help = "Also name it streams/refs/NAME"}},
           .run = cmd_oci_import_layer},
          {.name = "copy",
           .about = "Copy an image and its layers from another repository into this one",
           .args = {{.name = "IMAGE", .help = "A tag or @ and a manifest digest in the source"}},
           .options = {{.name = "from",
                        .value = "FROM",
                        .help = "The source repository (required)",
                        .values = Values::kDir},
                       {.name = "name", .value = "NAME", .help = "The tag to give it here"},
                       {.name = "zerocopy",
                        .help = "Reflink, else hard-link the objects, never copy (same "
                                "filesystem and hash algorithm, root)"}},
           .run = cmd_oci_copy},
          {.name = "prepare-boot",
           .about = "Make the boot image of a stored image and write its boot entry",
           .args = config_ref(),
           .options = prepare_boot_options(),
           .run = cmd_oci_prepare_boot},
      }};
}

Command make_tree() {
  Pos path{.name = "PATH", .help = "The directory", .values = Values::kDir};
  return {
      .name = "cfsctl",
      .about = "Manage a composefs repository (composefs-rs 0.9 compatible)",
      .options =
          {
              {.name = "repo",
               .value = "REPO",
               .help = "The repository's path",
               .values = Values::kDir},
              {.name = "user", .help = "Use the user's repository, $HOME/.var/lib/composefs"},
              {.name = "system", .help = "Use the system's repository, /sysroot/composefs"},
              {.name = "hash",
               .value = "HASH",
               .help = "The digest the repository uses (default: from meta.json)",
               .choices = {"sha256", "sha512"}},
              {.name = "erofs-version",
               .value = "EROFS_VERSION",
               .help = "The EROFS format of images made in this run",
               .choices = kErofsVersions},
              {.name = "insecure", .help = "Use init --insecure instead", .hidden = true},
              {.name = "require-verity", .help = "Refuse a repository without fs-verity"},
              {.name = "no-upgrade",
               .help = "Refuse a repository without meta.json instead of upgrading it"},
              {.name = "no-repo",
               .help = "Open no repository (compute-id, compute-karg, create-dumpfile)"},
          },
      .subcommands = {
          {.name = "init",
           .about = "Create a repository and its meta.json",
           .args = {{.name = "PATH",
                     .required = false,
                     .help = "Where (default: --repo, --user or --system)",
                     .values = Values::kDir}},
           .options = {{.name = "algorithm",
                        .value = "ALGORITHM",
                        .help = "fsverity-<hash>-<log2 block size>",
                        .default_value = "fsverity-sha512-12"},
                       {.name = "insecure",
                        .help = "Do not enable fs-verity on meta.json (e.g. on tmpfs)"},
                       {.name = "reset-metadata",
                        .help = "Keep objects/, drop streams/ and images/, write meta.json"},
                       {.name = "ensure",
                        .help = "Open an existing repository as it is instead of failing"},
                       {.name = "erofs-version",
                        .value = "EROFS_VERSION",
                        .help =
                            "The repository's EROFS format (default: the global option, else 1)",
                        .choices = kErofsVersions}},
           .run = cmd_init},
          {.name = "transaction",
           .about = "Hold the repository open (gc waits) until killed",
           .run = cmd_transaction},
          {.name = "cat",
           .about = "Write a stream, reassembled (a layer's tar…), to standard output",
           .args = {{.name = "NAME", .help = "An entry of streams/ or refs/ and a stream ref"}},
           .run = cmd_cat},
          {.name = "gc",
           .about = "Remove the objects and streams no image or ref needs",
           .options =
               {{.name = "root",
                 .short_name = 'r',
                 .value = "ROOT",
                 .help = "Also keep this image or stream (repeatable)",
                 .values = Values::kImage},
                {.name = "dry-run", .short_name = 'n', .help = "Only print what would be removed"},
                {.name = "bootdir",
                 .value = "BOOTDIR",
                 .help = "Also keep every image a boot entry here names (repeatable)",
                 .values = Values::kDir}},
           .run = cmd_gc},
          {.name = "import-image",
           .about = "Store a composefs image read from standard input, unchecked (unsafe)",
           .args = {{.name = "NAME", .help = "The ref to give it"}},
           .run = cmd_import_image},
          {.name = "images",
           .about = "List the named images",
           .options = {{.name = "json", .help = "Print JSON"},
                       {.name = "no-trunc", .help = "Print whole digests"}},
           .run = cmd_images,
           .aliases = {"list-images"}},
          oci_commands(),
          {.name = "mount",
           .about = "Mount an image, checked against its fs-verity digest",
           .args = {{.name = "NAME", .help = "An image ID or ref name", .values = Values::kImage},
                    {.name = "MOUNTPOINT", .help = "Where to mount it", .values = Values::kDir}},
           .options = mount_options(),
           .run = cmd_mount},
          {.name = "create-image",
           .about = "Store a directory's files and its image in the repository; print the image ID",
           .args = {path,
                    {.name = "IMAGE_NAME", .required = false, .help = "A ref name for the image"}},
           .options = fs_read_options(),
           .run = cmd_create_image},
          {.name = "compute-id",
           .about = "Print the image ID a directory would get (stores nothing)",
           .args = {path},
           .options = fs_read_options(),
           .run = cmd_compute_id},
          {.name = "compute-karg",
           .about = "Print the kernel argument that boots a directory's boot image",
           .args = {path},
           .options = {no_propagate()},
           .run = cmd_compute_karg},
          {.name = "create-dumpfile",
           .about = "Print a directory as a composefs dumpfile (stores nothing)",
           .args = {path},
           .options = fs_read_options(),
           .run = cmd_create_dumpfile},
          {.name = "image-objects",
           .about = "List the objects an image needs",
           .args = {{.name = "NAME", .help = "An image ID or ref name", .values = Values::kImage}},
           .run = cmd_image_objects},
          {.name = "dump-files",
           .about = "Print files of an image as composefs dumpfile lines",
           .args =
               {{.name = "IMAGE_NAME", .help = "An image ID or ref name", .values = Values::kImage},
                {.name = "FILES",
                 .required = false,
                 .many = true,
                 .help = "Paths in the image (a directory: its entries)"}},
           .options = {{.name = "backing-path-only",
                        .help = "Print where each file's data is: \"inline\" or its object path"}},
           .run = cmd_dump_files},
          {.name = "fsck",
           .about = "Check the repository: objects, streams, images and refs",
           .options = {{.name = "json", .help = "Print JSON (exit 0 whatever it found)"},
                       {.name = "metadata-only", .help = "Skip measuring each object"}},
           .run = cmd_fsck},
          {.name = "fetch",
           .about = "Fetch an image and its objects from a repository served over HTTP",
           .args = {{.name = "URL", .help = "The served repository"},
                    {.name = "NAME", .help = "The image's ID or ref name there"}},
           .run = cmd_fetch},
          {.name = "merkle",
           .about = "Write the block hashes mirrors serve for checking ranges of large objects",
           .options = {{.name = "min-size",
                        .value = "BYTES",
                        .help = "Only objects of this size or more",
                        .default_value = "8388608"}},
           .run = cmd_merkle},
          {.name = "prepare-boot",
           .about = "Write a boot entry for an image made by create-image --bootable",
           .args = {{.name = "NAME", .help = "An image ID or ref name", .values = Values::kImage}},
           .options = prepare_boot_options(),
           .run = cmd_prepare_boot},
          {.name = "boot-entries",
           .about = "List a boot directory's entries, the default first",
           .options = {bootdir(), {.name = "no-trunc", .help = "Print whole image IDs"}},
           .run = cmd_boot_entries},
          {.name = "remove-boot-entry",
           .about = "Remove a boot entry (the previous image becomes the default)",
           .args = {{.name = "ENTRY", .help = "The entry's ID, as boot-entries lists it"}},
           .options = {bootdir()},
           .run = cmd_remove_boot_entry},
      }};
}

}  // namespace

const Command& command_tree() {
  static const Command tree = make_tree();
  return tree;
}

const Command* find_subcommand(const Command& parent, std::string_view name) {
  for (const Command& c : parent.subcommands) {
    if (c.name == name) return &c;
    for (std::string_view alias : c.aliases) {
      if (alias == name) return &c;
    }
  }
  return nullptr;
}

const Opt* find_option(const Command& c, std::string_view word) {
  for (const Opt& o : c.options) {
    if (word.size() > 2 && word.starts_with("--") && word.substr(2) == o.name) return &o;
    if (o.short_name != 0 && word.size() == 2 && word[0] == '-' && word[1] == o.short_name)
      return &o;
  }
  return nullptr;
}

}  // namespace cfs::cfsctl
