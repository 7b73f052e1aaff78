// cfsctl oci pull, images, inspect, tag, untag, mount, compute-id, dump, fsck: container images
// in the repository (cfsctl(1), ../shared/spec/cfsctl.md §5).
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>

#include "base/error.h"
#include "cfsctl/cfsctl.h"
#include "cfsctl/table.h"
#include "common/progress_line.h"
#include "common/progress_rows.h"
#include "oci/boot.h"
#include "oci/pull.h"
#include "oci/referrers.h"
#include "oci/stored.h"
#include "oci/upgrade.h"
#include "repo/fsck.h"
#include "verity/fsverity.h"
#include "verity/sha256.h"

namespace cfs::cfsctl {

oci::StoredImage stored_ref(const Global& g, Args& a, std::unique_ptr<repo::Repository>& repo, bool& verify) {
  std::vector<std::string> pos = a.positionals(1, 2, "<REF>");
  repo = repo::Repository::open(repo_path(g), g.open);
  verify = false;
  if (!pos[0].starts_with("@")) return oci::open_stored_image(*repo, pos[0]);
  std::string digest = pos[0].substr(1);
  oci::StoredImage img;
  img.container = true;
  std::optional<Digest> stream;
  if (pos.size() == 2) {
    stream = parse_hex_digest(pos[1], repo->algorithm());
    if (!stream) throw Error(EINVAL, "invalid config verity " + pos[1]);
  } else {
    stream = repo->stream_object(oci::config_stream_name(digest));
    if (!stream) throw Error(ENOENT, "config " + digest + " not found in the repository");
  }
  oci::DocumentStream config = oci::read_document_stream(*repo, *stream, oci::config_content_type());
  verify = pos.size() == 1;
  if (verify && verity::sha256_digest(config.bytes) != digest) {
    throw Error(EILSEQ, "Config integrity check failed: expected " + digest + ", got " + verity::sha256_digest(config.bytes));
  }
  img.config = config.bytes;
  img.config_refs = config.named_refs;
  return img;
}

namespace {

using ojson = nlohmann::ordered_json;

// indicatif's HumanBytes: "0 B", "512 B", "1.50 MiB".
std::string human_bytes(std::uint64_t n) {
  static const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  if (n < 1024) return std::to_string(n) + " B";
  double v = static_cast<double>(n);
  int u = 0;
  while (v >= 1024 && u < 5) v /= 1024, ++u;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f %s", v, kUnits[u]);
  return buf;
}

std::uint32_t effective_version(const Global& g, const repo::Repository& repo) {
  return g.open.erofs_version.value_or(repo.erofs_versions().front());
}

oci::TransformOptions oci_transform(Args& a) {
  oci::TransformOptions t;
  if (auto x = a.value("xattrs")) {
    one_of(*x, "--xattrs <XATTRS>", {"allowlist-only", "keep-user-xattrs"});
    t.xattrs = *x == "keep-user-xattrs" ? oci::XattrMode::kKeepUserXattrs : oci::XattrMode::kAllowlistOnly;
  }
  return t;
}

std::string variant_name(const oci::BootVariant& v) {
  return "xattr-mode=" + std::string(oci::xattr_mode_name(v.mode)) + ", format-version=V" +
         std::to_string(v.version);
}

// "Boot image: <hex> (xattr-mode=…, format-version=V…)", or the error naming every
// combination tried and the ID each gave.
void print_recovered_boot_image(const oci::BootImageSearch& s, const Digest& expected) {
  if (s.found) {
    std::cout << "Boot image: " << to_hex(s.found->id) << " (" << variant_name(s.found->variant) << ")\n";
    return;
  }
  std::string tried;
  for (const oci::BootAttempt& t : s.tried) {
    tried += (tried.empty() ? "" : "; ") + variant_name(t.variant) + ": " + to_hex(t.id) +
             (t.cached ? " (cached)" : "");
  }
  throw Error(ENOENT, "No boot image configuration matched expected digest " + to_hex(expected) + " (tried " +
                          std::to_string(s.tried.size()) + " mode/version combinations: " + tried + ")");
}

// `word` as a shell reads it back: bare when it is plain, else single-quoted.
std::string shell_word(const std::string& word) {
  bool plain = !word.empty() && word.find_first_not_of(
                                    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                    "0123456789_@%+=:,./-") == std::string::npos;
  if (plain) return word;
  std::string out = "'";
  for (char c : word) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// A user's containers-storage whose files it may not read is a rootless podman's: its files
// belong to the user's subordinate uids, which only podman's user namespace maps. The whole
// error on one line, with this very command to run there.
Error in_podman_unshare(const Error& e, const Global& g) {
  std::string command = "podman unshare";
  for (const std::string& w : g.argv) command += " " + shell_word(w);
  return Error(e.kind(), e.code(),
               std::string(e.what()) +
                   " (files of a rootless podman's store belong to its subordinate uids; run "
                   "the pull in podman's user namespace: " +
                   command + ")");
}

}  // namespace

int cmd_oci_pull(const Global& g, Args& a) {
  bool bootable = a.flag("bootable");
  bool quiet = a.flag("quiet", 'q');
  bool no_referrers = a.flag("no-referrers");
  std::optional<std::string> expected_hex = a.value("expected-digest");
  if (expected_hex && !bootable) {
    throw UsageError("the argument '--expected-digest <EXPECTED_DIGEST>' requires '--bootable'");
  }
  oci::SourceOptions so;
  if (auto v = a.value("tls-verify")) so.tls_verify = one_of(*v, "--tls-verify <BOOL>", {"true", "false"}) == "true";
  if (auto v = a.value("creds")) so.creds = *v;
  oci::LocalFetch local_fetch = oci::LocalFetch::kAuto;
  if (auto v = a.value("local-fetch")) {
    std::string m = one_of(*v, "--local-fetch <LOCAL_FETCH>", {"disabled", "auto", "zerocopy"});
    local_fetch = m == "disabled" ? oci::LocalFetch::kDisabled : m == "zerocopy" ? oci::LocalFetch::kZeroCopy : oci::LocalFetch::kAuto;
  }
  std::vector<std::string> pos = a.positionals(1, 2, "<IMAGE>");
  std::string name = pos.size() == 2 ? pos[1] : pos[0];
  auto repo = repo::Repository::open(repo_path(g), g.open);
  std::optional<Digest> expected;  // checked before anything is pulled
  if (expected_hex) {
    expected = parse_hex_digest(*expected_hex, repo->algorithm());
    if (!expected) {
      throw Error(EINVAL, "not " + std::to_string(2 * digest_size(repo->algorithm())) + " hex digits (" +
                              std::string(hash_name(repo->algorithm())) + "): " + *expected_hex)
          .wrap("Parsing --expected-digest");
    }
  }
  repo->check_writable();
  if (bootable && !expected) {  // every EROFS version's boot image supported, before anything is fetched
    for (std::uint32_t v : repo->erofs_versions()) oci::boot_image_ref(v);
  }
  // Images older composefs-rs stored without their EROFS first (its upgrade_repo); one that
  // cannot be upgraded does not stop this pull.
  try {
    oci::upgrade_repository(*repo);
  } catch (const Error& e) {
    std::cerr << "warning: not upgrading older images: " << e.what() << "\n";
  }
  std::unique_ptr<oci::ImageSource> source = oci::open_source(pos[0], so);
  ProgressRows layers;
  oci::PullResult r = [&] {
    cli::ProgressRowsView view(layers, !quiet);
    oci::PullOptions o;
    o.layers = &layers;
    o.local_fetch = local_fetch;
    o.referrers = !no_referrers;
    try {
      return oci::pull(*repo, *source, name, o);
    } catch (const Error& e) {
      bool rootless = e.code() == EACCES && ::geteuid() != 0 && pos[0].starts_with("containers-storage:");
      if (rootless) throw in_podman_unshare(e, g);
      throw;
    }
  }();
  for (const std::string& w : r.referrers.warnings) std::cerr << "warning: " << w << "\n";
  std::cout << "manifest " << r.manifest_digest << "\n"
            << "config   " << r.config_digest << "\n"
            << "verity   " << to_hex(r.manifest_stream) << "\n"
            << "tagged   " << name << "\n"
            << "objects  " << r.stats.new_objects << " new + " << r.stats.present_objects << " already present objects; "
            << human_bytes(r.stats.stored_bytes) << " stored, " << human_bytes(r.stats.inlined_bytes) << " inlined\n";
  if (!r.referrers.stored.empty()) std::cout << "referrers " << r.referrers.stored.size() << " stored\n";
  if (r.stats.reflinked + r.stats.hard_linked > 0) {  // containers-storage: how the new objects came
    std::cout << "linked   " << r.stats.reflinked << " reflinked + " << r.stats.hard_linked << " hard-linked + "
              << r.stats.new_objects - r.stats.reflinked - r.stats.hard_linked << " copied of the new objects\n";
  }
  if (expected) {
    std::cout << std::flush;  // the pull's lines stay, whether a boot image matches or not
    print_recovered_boot_image(oci::find_boot_image(*repo, r.manifest_digest, *expected), *expected);
  } else if (bootable) {
    std::cout << "Boot image: " << to_hex(oci::ensure_boot_image(*repo, r.manifest_digest)) << "\n";
  }
  return 0;
}

int cmd_oci_images(const Global& g, Args& a) {
  bool json = a.flag("json");
  a.positionals(0, 0, "");
  auto repo = repo::Repository::open(repo_path(g), g.open);
  ojson list = ojson::array();
  std::vector<std::vector<std::string>> rows;
  for (const auto& [name, digest] : oci::list_tags(*repo)) {
    oci::StoredImage img;
    oci::Config config;
    try {
      img = oci::open_stored_image(*repo, digest);
      if (img.container) config = oci::parse_config(img.config);
    } catch (const Error&) {
      continue;  // images that do not open are skipped
    }
    std::string arch = config.architecture.empty() ? "artifact" : config.architecture;
    std::size_t referrers = oci::list_referrers(*repo, digest).size();
    rows.push_back({name, digest.substr(7, 12), arch, std::to_string(img.parsed.layers.size()), std::to_string(referrers)});
    list.push_back({{"name", name},
                    {"manifest_digest", digest},
                    {"is_container", img.container},
                    {"architecture", config.architecture},
                    {"os", config.os},
                    {"created", config.created ? ojson(*config.created) : ojson(nullptr)},
                    {"layer_count", img.parsed.layers.size()},
                    {"referrer_count", referrers}});
  }
  if (json) {
    std::cout << ojson{{"images", list}}.dump(2) << "\n";
  } else if (rows.empty()) {
    std::cout << "No images found\n";
  } else {
    std::cout << table({"NAME", "DIGEST", "ARCH", "LAYERS", "REFS"}, rows);
  }
  return 0;
}

int cmd_oci_inspect(const Global& g, Args& a) {
  bool manifest = a.flag("manifest"), config = a.flag("config");
  if (manifest && config) throw UsageError("the argument '--manifest' cannot be used with '--config'");
  std::string name = a.positionals(1, 1, "<IMAGE>")[0];
  auto repo = repo::Repository::open(repo_path(g), g.open);
  oci::StoredImage img = oci::open_stored_image(*repo, name.starts_with("@") ? name.substr(1) : name);
  if (manifest || config) {
    std::cout << (manifest ? img.manifest : img.config) << "\n";
    return 0;
  }
  std::optional<Digest> erofs = img.image(effective_version(g, *repo));
  ojson j;
  j["manifest"] = img.manifest;
  j["config"] = img.config;
  j["referrers"] = ojson::array();
  for (const std::string& d : oci::list_referrers(*repo, img.manifest_digest)) j["referrers"].push_back(d);
  j["composefs_erofs"] = erofs ? ojson(to_hex(*erofs)) : ojson(nullptr);
  std::optional<Digest> boot = oci::boot_image(img, effective_version(g, *repo));
  j["composefs_boot_erofs"] = boot ? ojson(to_hex(*boot)) : ojson(nullptr);
  std::cout << j.dump(2) << "\n";
  return 0;
}

int cmd_oci_tag(const Global& g, Args& a) {
  std::vector<std::string> pos = a.positionals(2, 2, "<MANIFEST_DIGEST> <NAME>");
  if (!verity::is_sha256_digest(pos[0])) throw Error(EINVAL, "invalid manifest digest " + pos[0]);
  if (pos[1].starts_with("@")) throw Error(EINVAL, "tag names cannot start with '@'");
  auto repo = repo::Repository::open(repo_path(g), g.open);
  repo->check_writable();
  oci::tag_image(*repo, pos[1], pos[0]);
  std::cout << "Tagged " << pos[0] << " as " << pos[1] << "\n";
  return 0;
}

int cmd_oci_untag(const Global& g, Args& a) {
  std::string name = a.positionals(1, 1, "<NAME>")[0];
  auto repo = repo::Repository::open(repo_path(g), g.open);
  oci::untag_image(*repo, name);
  std::cout << "Removed tag " << name << "\n";
  return 0;
}

int cmd_oci_mount(const Global& g, Args& a) {
  bool bootable = a.flag("bootable");
  return mount_command(g, a, [&](const repo::Repository& repo, const std::string& name) {
    oci::StoredImage img = oci::open_stored_image(repo, name);
    std::uint32_t version = effective_version(g, repo);
    if (bootable) {
      std::optional<Digest> boot = oci::boot_image(img, version);
      if (!boot) throw Error(ENOENT, "No boot EROFS image linked — try pulling with --bootable");
      return to_hex(*boot);
    }
    std::optional<Digest> erofs = img.image(version);
    if (!erofs) throw Error(ENOENT, "No composefs EROFS image linked — try re-pulling the image");
    return to_hex(*erofs);
  });
}

namespace {

// REF [CONFIG_VERITY] as oci compute-id and oci dump take them: a tag, or @<config digest>.
tree::Tree unbooted_tree(const Global& g, Args& a, std::unique_ptr<repo::Repository>& repo);

// With --bootable, the tree after the boot transform.
tree::Tree stored_tree(const Global& g, Args& a, std::unique_ptr<repo::Repository>& repo) {
  bool bootable = a.flag("bootable");
  tree::Tree tree = unbooted_tree(g, a, repo);
  if (bootable) oci::make_bootable(*repo, tree);
  return tree;
}

tree::Tree unbooted_tree(const Global& g, Args& a, std::unique_ptr<repo::Repository>& repo) {
  oci::TransformOptions t = oci_transform(a);
  bool verify = false;
  oci::StoredImage img = stored_ref(g, a, repo, verify);
  return oci::image_tree(*repo, img, t, verify);
}

}  // namespace

int cmd_oci_compute_id(const Global& g, Args& a) {
  std::unique_ptr<repo::Repository> repo;
  tree::Tree tree = stored_tree(g, a, repo);
  std::uint32_t version = effective_version(g, *repo);
  std::cout << to_hex(oci::erofs_image_id(tree, version, repo->algorithm())) << "\n";
  return 0;
}

int cmd_oci_dump(const Global& g, Args& a) {
  std::unique_ptr<repo::Repository> repo;
  tree::Tree tree = stored_tree(g, a, repo);
  std::cout << composefs_rs_dump(*tree.root(), "/") << std::flush;
  return 0;
}

namespace {

// The OCI checks of one tag (spec §5.9), appended to `errors`; whether it is intact.
bool check_tag(const repo::Repository& repo, const std::string& name, std::vector<std::string>& errors) {
  auto fail = [&](const std::string& kind, const std::string& detail) {
    errors.push_back("fsck: " + kind + ": " + name + ": " + detail);
    return false;
  };
  if (name.starts_with("@")) return fail("invalid-ref-name", "tag names cannot start with '@'");
  oci::StoredImage img;
  try {
    img = oci::open_stored_image(repo, name);
  } catch (const Error& e) {
    return fail("ref-resolve-failed", e.what());
  }
  std::string actual = verity::sha256_digest(img.manifest);
  if (actual != img.manifest_digest) return fail("manifest-digest-mismatch", "expected " + img.manifest_digest + ", got " + actual);
  actual = verity::sha256_digest(img.config);
  if (actual != img.config_digest) return fail("config-digest-mismatch", "expected " + img.config_digest + ", got " + actual);
  if (!img.container) return true;
  oci::Config config;
  try {
    config = oci::parse_config(img.config);
  } catch (const Error& e) {
    return fail("config-parse-failed", e.what());
  }
  bool ok = true;
  for (const std::string& diff_id : config.diff_ids) {
    auto it = img.config_refs.find(diff_id);
    if (it == img.config_refs.end()) {
      ok = fail("layer-ref-missing", diff_id);
      continue;
    }
    std::optional<Digest> stream = repo.stream_object(oci::layer_stream_name(diff_id));
    if (!stream) {
      ok = fail("layer-stream-missing", diff_id);
      continue;
    }
    try {
      repo.open_object(it->second);
    } catch (const Error& e) {
      ok = fail("layer-object-missing", diff_id + ": " + e.what());
    }
  }
  // A sealed image names its composefs image in a label: that image must be in the repository.
  if (auto seal = config.labels.find(std::string(oci::kSealLabel)); seal != config.labels.end()) {
    try {
      repo.open_image(seal->second);
    } catch (const Error& e) {
      ok = fail("seal-image-missing", seal->second + ": " + e.what());
    }
  }
  return ok;
}

}  // namespace

int cmd_oci_fsck(const Global& g, Args& a) {
  bool json = a.flag("json");
  std::vector<std::string> pos = a.positionals(0, 1, "[IMAGE]");
  auto repo = repo::Repository::open(repo_path(g), g.open);
  Progress progress;
  repo::FsckReport report = [&] {
    cli::ProgressLine line(progress, "objects");
    return repo::fsck(*repo, false, line.shown() ? &progress : nullptr);
  }();
  std::vector<std::string> names;
  if (pos.empty()) {
    for (const auto& [name, digest] : oci::list_tags(*repo)) names.push_back(name);
  } else {
    names.push_back(pos[0]);
  }
  std::vector<std::string> errors;
  std::uint64_t checked = 0, corrupted = 0;
  for (const std::string& name : names) {
    ++checked;
    if (!check_tag(*repo, name, errors)) ++corrupted;
  }
  bool ok = report.ok() && errors.empty();
  if (json) {
    ojson j;
    j["ok"] = ok;
    j["images_checked"] = checked;
    j["images_corrupted"] = corrupted;
    j["errors"] = errors;
    j["repo"] = ojson::parse(report.json());
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  std::cout << report.text() << "oci images: " << (checked - corrupted) << "/" << checked << " ok\n";
  if (!errors.empty()) {
    std::cout << "oci errors: " << errors.size() << "\n";
    for (const std::string& e : errors) std::cout << "  - " << e << "\n";
  }
  if (ok) return 0;
  std::cerr << "Error: OCI integrity check failed\n";
  return 1;
}

}  // namespace cfs::cfsctl
