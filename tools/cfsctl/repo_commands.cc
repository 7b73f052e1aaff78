// cfsctl init, gc, fsck, transaction: the repository as a whole.
#include <sys/file.h>
#include <unistd.h>

#include <iostream>

#include "base/error.h"
#include "boot/bootdir.h"
#include "cfsctl/cfsctl.h"
#include "common/progress_line.h"
#include "oci/referrers.h"
#include "repo/fsck.h"
#include "repo/gc.h"

namespace cfs::cfsctl {

int cmd_init(const Global& g, Args& a) {
  repo::InitOptions o;
  if (auto alg = a.value("algorithm")) {
    try {
      o.algorithm = repo::parse_algorithm(*alg);
    } catch (const Error& e) {
      throw UsageError("invalid value '" + *alg + "' for '--algorithm <ALGORITHM>': " + e.what());
    }
  }
  o.insecure = a.flag("insecure") || g.open.insecure;
  o.reset_metadata = a.flag("reset-metadata");
  o.ensure = a.flag("ensure");
  std::optional<std::string> version = a.value("erofs-version");
  if (version) one_of(*version, "--erofs-version <VERSION>", {"0", "1", "2"});
  o.erofs_version = version ? static_cast<std::uint32_t>(std::stoul(*version)) : g.open.erofs_version.value_or(1);
  std::vector<std::string> pos = a.positionals(0, 1, "[PATH]");
  std::string path = pos.empty() ? repo_path(g) : pos[0];
  std::cout << repo::init(path, o) << std::flush;
  return 0;
}

int cmd_gc(const Global& g, Args& a) {
  std::vector<std::string> roots = a.values("root", 'r');
  std::vector<std::string> bootdirs = a.values("bootdir");
  bool dry_run = a.flag("dry-run", 'n');
  a.positionals(0, 0, "");
  auto repo = repo::Repository::open(repo_path(g), g.open);
  // Every image a boot entry names is a root: removing it would leave the entry unbootable.
  for (const std::string& bootdir : bootdirs) {
    for (const boot::InstalledEntry& e : boot::list_entries(bootdir)) {
      if (!e.error.empty()) {
        throw Error(EINVAL, "boot entry " + bootdir + "/" + e.path + " cannot be read (nothing removed): " + e.error);
      }
      for (const boot::Karg& k : e.kargs) {
        if (k.digest.algorithm() == repo->algorithm()) roots.push_back(to_hex(k.digest));
      }
    }
  }
  std::cout << repo::gc_report(repo::gc(*repo, roots, dry_run, oci::referrer_subject_stream), dry_run) << std::flush;
  return 0;
}

int cmd_fsck(const Global& g, Args& a) {
  bool json = a.flag("json");
  bool metadata_only = a.flag("metadata-only");
  a.positionals(0, 0, "");
  auto repo = repo::Repository::open(repo_path(g), g.open);
  Progress progress;
  repo::FsckReport report = [&] {
    cli::ProgressLine line(progress, "objects");
    return repo::fsck(*repo, metadata_only, line.shown() ? &progress : nullptr);
  }();
  if (json) {
    std::cout << report.json() << std::flush;
    return 0;  // as cfsctl: the JSON says whether it is ok
  }
  std::cout << report.text() << std::flush;
  if (report.ok()) return 0;
  std::cerr << "Error: repository integrity check failed\n";
  return 1;
}

int cmd_transaction(const Global& g, Args& a) {
  a.positionals(0, 0, "");
  auto repo = repo::Repository::open(repo_path(g), g.open);
  for (;;) ::pause();  // holds LOCK_SH until killed: gc waits
}

}  // namespace cfs::cfsctl
