#include "oci/prepare_boot.h"

#include <sys/stat.h>

#include <cstring>
#include <filesystem>

#include "base/error.h"
#include "base/file_io.h"
#include "boot/bootdir.h"
#include "boot/entries.h"
#include "oci/boot.h"
#include "oci/pull.h"
#include "reader/image.h"
#include "reader/to_tree.h"
#include "verity/fsverity.h"

namespace cfs::oci {
namespace {

// An object's bytes, checked against its digest (an insecure repository has no fs-verity to
// do it): what lands in the boot directory is what the image names.
boot::ReadObject object_reader(const repo::Repository& repo) {
  return [&repo](const Digest& d) {
    UniqueFd fd = repo.open_object(d);
    std::vector<std::byte> bytes = read_all(fd.get());
    if (verity::digest_of(bytes, d.algorithm()) != d) {
      throw Error(ErrorKind::kCorrupt, EUCLEAN,
                  "object " + to_hex(d) + " does not match its digest (run fsck)");
    }
    std::string text(bytes.size(), '\0');
    if (!bytes.empty()) std::memcpy(text.data(), bytes.data(), bytes.size());
    return text;
  };
}

void check_bootdir(const std::string& bootdir) {
  struct stat st {};
  if (::stat(bootdir.c_str(), &st) != 0) throw_errno(errno, "boot directory " + bootdir);
  if (!S_ISDIR(st.st_mode))
    throw Error(ENOTDIR, "boot directory " + bootdir + " is not a directory");
}

const boot::BootEntry& first_entry(const std::vector<boot::BootEntry>& entries) {
  if (entries.empty()) {
    throw Error(ENOENT,
                "No boot entries! (no /boot/loader/entries/*.conf, no *.efi UKI, no "
                "/usr/lib/modules/<kver>/vmlinuz in the image)");
  }
  return entries.front();  // composefs-rs writes the first only
}

// Plans the entry (reading its files), writes it, makes the state directories.
PreparedBoot write_entry(const repo::Repository& repo, const boot::BootEntry& entry,
                         const boot::Karg& karg, const std::vector<Digest>& acceptable,
                         const PrepareBootOptions& o) {
  boot::PlanOptions p;
  p.entry_id = o.entry_id.value_or(boot::next_entry_id(o.bootdir, boot::default_entry_name(entry)));
  p.karg = karg;
  p.cmdline = o.cmdline;
  p.acceptable = acceptable;
  PreparedBoot r{boot::plan_boot(entry, p, object_reader(repo)), ""};
  boot::write_plan(o.bootdir, r.plan);
  r.state_dir = o.state_root + "/state/deploy/" + to_hex(r.plan.karg.digest);
  for (const char* sub : {"var", "etc/upper", "etc/work"}) {
    std::error_code ec;
    std::filesystem::create_directories(r.state_dir + "/" + sub, ec);
    if (ec) throw Error(ec.value(), r.state_dir + "/" + sub + ": " + ec.message());
  }
  return r;
}

bool empty_dir(const tree::Tree& tree, const char* path) {
  const tree::Node* n = tree.find(path);
  return n != nullptr && n->is_dir() && n->children.empty();
}

}  // namespace

boot::Karg boot_karg(const repo::Repository& repo,
                     const std::vector<std::pair<std::uint32_t, Digest>>& ids) {
  const Digest* v1 = nullptr;
  const Digest* v2 = nullptr;
  for (const auto& [version, id] : ids) (version == 2 ? v2 : v1) = &id;
  bool writes_v2 = false;
  for (std::uint32_t v : repo.erofs_versions()) writes_v2 = writes_v2 || v == 2;
  const Digest* id = v1 != nullptr ? v1 : v2;
  if (id == nullptr) throw Error(EINVAL, "no boot image was stored");
  return boot::Karg{writes_v2 ? 2U : 1U, *id, !repo.secure()};
}

PreparedBoot prepare_boot_oci(repo::Repository& repo, const StoredImage& img,
                              const PrepareBootOptions& o, bool verify) {
  check_bootdir(o.bootdir);
  repo.check_writable();
  tree::Tree tree = image_tree(repo, img, TransformOptions{}, verify);
  std::vector<boot::BootEntry> entries = boot::find_boot_entries(tree, object_reader(repo));
  const boot::BootEntry& entry = first_entry(entries);
  make_bootable(repo, tree);
  std::vector<std::pair<std::uint32_t, Digest>> ids = commit_boot_tree(repo, img, tree);
  std::vector<Digest> acceptable;
  for (const auto& [version, id] : ids) acceptable.push_back(id);
  return write_entry(repo, entry, boot_karg(repo, ids), acceptable, o);
}

PreparedBoot prepare_boot_image(repo::Repository& repo, const std::string& name,
                                const PrepareBootOptions& o) {
  check_bootdir(o.bootdir);
  repo::Repository::OpenedImage img = repo.open_image(name);
  MappedFile file = MappedFile::open(img.fd.get());
  reader::Image image = reader::Image::open(file.bytes());
  tree::Tree tree = reader::to_tree(image);
  if (!empty_dir(tree, "/boot") || !empty_dir(tree, "/sysroot")) {
    throw Error(
        EINVAL,
        "image " + name +
            " was not made with --bootable (its /boot and /sysroot are not empty directories)");
  }
  std::vector<boot::BootEntry> entries = boot::find_boot_entries(tree, object_reader(repo));
  const boot::BootEntry& entry = first_entry(entries);
  std::uint32_t version = image.composefs_version() >= 2 ? 2 : 1;
  return write_entry(repo, entry, boot_karg(repo, {{version, img.id}}), {img.id}, o);
}

}  // namespace cfs::oci
