// cfsctl oci prepare-boot (composefs-rs 0.9), and ours: prepare-boot for an image made by
// create-image --bootable, boot-entries and remove-boot-entry for switching between images
// (cfsctl(1) "BOOT ENTRIES").
#include <iostream>

#include "base/error.h"
#include "boot/bootdir.h"
#include "cfsctl/cfsctl.h"
#include "cfsctl/table.h"
#include "oci/prepare_boot.h"

namespace cfs::cfsctl {
namespace {

// composefs-rs: the parent of --repo (as given), else /sysroot.
std::string state_root(const Global& g) {
  if (!g.repo) return "/sysroot";
  std::string p = *g.repo;
  while (p.size() > 1 && p.ends_with('/')) p.pop_back();
  if (p == "/") throw Error(EINVAL, "--repo / has no parent directory for state/deploy");
  std::size_t slash = p.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : p.substr(0, slash);
}

oci::PrepareBootOptions prepare_options(const Global& g, Args& a) {
  oci::PrepareBootOptions o;
  o.bootdir = a.value("bootdir").value_or("/boot");
  o.entry_id = a.value("entry-id");
  o.cmdline = a.values("cmdline");
  o.state_root = state_root(g);
  return o;
}

}  // namespace

// Prints nothing, as composefs-rs; `boot-entries` shows what was written.
int cmd_oci_prepare_boot(const Global& g, Args& a) {
  oci::PrepareBootOptions o = prepare_options(g, a);
  std::unique_ptr<repo::Repository> repo;
  bool verify = false;
  oci::StoredImage img = stored_ref(g, a, repo, verify);
  oci::prepare_boot_oci(*repo, img, o, verify);
  return 0;
}

int cmd_prepare_boot(const Global& g, Args& a) {
  oci::PrepareBootOptions o = prepare_options(g, a);
  std::string name = a.positionals(1, 1, "<NAME>")[0];
  auto repo = repo::Repository::open(repo_path(g), g.open);
  oci::prepare_boot_image(*repo, name, o);
  return 0;
}

// ENTRY, the kernel, and the image its first composefs karg names (12 hex digits, all with
// --no-trunc), in the order systemd-boot offers them: the first is its default unless
// loader.conf names another.
int cmd_boot_entries(const Global& g, Args& a) {
  std::string bootdir = a.value("bootdir").value_or("/boot");
  bool no_trunc = a.flag("no-trunc");
  a.positionals(0, 0, "");
  (void)g;
  std::vector<std::vector<std::string>> rows;
  for (const boot::InstalledEntry& e : boot::list_entries(bootdir)) {
    std::string image = "-";
    if (!e.error.empty()) {
      image = "? " + e.error;
    } else if (!e.kargs.empty()) {
      image = to_hex(e.kargs.front().digest);
      if (!no_trunc) image.resize(12);
    }
    rows.push_back({e.id, e.uki ? e.path : e.kernel, image});
  }
  if (rows.empty()) {
    std::cout << "No boot entries in " << bootdir << "\n";
    return 0;
  }
  std::cout << table({"ENTRY", "KERNEL", "IMAGE"}, rows);
  return 0;
}

int cmd_remove_boot_entry(const Global& g, Args& a) {
  std::string bootdir = a.value("bootdir").value_or("/boot");
  std::string id = a.positionals(1, 1, "<ENTRY>")[0];
  (void)g;
  for (const std::string& p : boot::remove_entry(bootdir, id))
    std::cout << "removed " << bootdir << "/" << p << "\n";
  return 0;
}

}  // namespace cfs::cfsctl
