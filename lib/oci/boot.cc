#include "oci/boot.h"

#include <cerrno>
#include <map>

#include "base/error.h"
#include "base/file_io.h"
#include "boot/policy_reader.h"
#include "boot/transform.h"
#include "oci/pull.h"

namespace cfs::oci {

std::string boot_image_ref(std::uint32_t version, XattrMode mode) {
  std::string base;
  if (version <= 1) {
    base = kBootImageRefV1;
  } else if (version == 2) {
    base = kBootImageRefV2;
  } else {
    throw Error(ENOTSUP, "EROFS format version " + std::to_string(version) + " has no boot image");
  }
  if (mode == XattrMode::kAllowlistOnly) return base;
  return base + ".xattrs=" + std::string(xattr_mode_name(mode));
}

std::optional<Digest> boot_image(const StoredImage& image, std::uint32_t version) {
  auto it = image.config_refs.find(boot_image_ref(version));
  if (it == image.config_refs.end()) return std::nullopt;
  return it->second;
}

void make_bootable(const repo::Repository& repo, tree::Tree& tree) {
  boot::TreePolicyReader policy(tree, [&](const Digest& object) {
    UniqueFd fd = repo.open_object(object);
    std::vector<std::byte> bytes = read_all(fd.get());
    return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  });
  boot::transform_for_boot(tree, policy);
}

namespace {

// The config stream rewritten with `config_refs`, then the manifest stream naming it (the
// images are stored already: the crash-safe order, as pull's).
void rename_config(repo::Repository& repo, const StoredImage& img,
                   const std::map<std::string, Digest>& config_refs) {
  Digest config_stream = with_context("storing config " + img.config_digest, [&] {
    return write_document_stream(repo, config_content_type(), img.config, config_refs);
  });
  repo.link_stream(config_stream_name(img.config_digest), config_stream);
  DocumentStream manifest =
      read_document_stream(repo, img.manifest_stream, manifest_content_type());
  manifest.named_refs["config:" + img.config_digest] = config_stream;
  Digest manifest_stream = with_context("storing manifest " + img.manifest_digest, [&] {
    return write_document_stream(repo, manifest_content_type(), manifest.bytes,
                                 manifest.named_refs);
  });
  repo.link_stream(manifest_stream_name(img.manifest_digest), manifest_stream);
}

}  // namespace

std::vector<std::pair<std::uint32_t, Digest>> commit_boot_tree(repo::Repository& repo, const StoredImage& img,
                                                               const tree::Tree& tree) {
  // Crash-safe order, as pull: images, then the config stream naming them, then the manifest
  // stream naming that.
  std::map<std::string, Digest> config_refs = img.config_refs;
  std::vector<std::pair<std::uint32_t, Digest>> ids;
  for (std::uint32_t v : repo.erofs_versions()) {
    Digest id = with_context("storing the boot EROFS image",
                             [&] { return store_erofs_image(repo, tree, v); });
    repo.link_image(id);
    config_refs[boot_image_ref(v)] = id;
    ids.emplace_back(v, id);
  }
  if (!img.manifest.empty() && config_refs != img.config_refs) rename_config(repo, img, config_refs);
  return ids;
}

Digest ensure_boot_image(repo::Repository& repo, const std::string& name_or_digest) {
  std::vector<std::uint32_t> versions = repo.erofs_versions();
  StoredImage img = open_stored_image(repo, name_or_digest);
  if (std::optional<Digest> cached = boot_image(img, versions.front())) return *cached;
  tree::Tree tree = image_tree(repo, img, TransformOptions{});
  make_bootable(repo, tree);
  return commit_boot_tree(repo, img, tree).front().second;
}

BootImageSearch find_boot_image(repo::Repository& repo, const std::string& name_or_digest,
                                const Digest& expected) {
  StoredImage img = open_stored_image(repo, name_or_digest);
  BootImageSearch search;
  for (XattrMode mode : {XattrMode::kAllowlistOnly, XattrMode::kKeepUserXattrs}) {
    // The named ones first: no tree to build.
    std::vector<BootVariant> unnamed;
    for (const BootVariant& v : kBootVariants) {
      if (v.mode != mode) continue;
      auto it = img.config_refs.find(boot_image_ref(v.version, mode));
      if (it == img.config_refs.end()) {
        unnamed.push_back(v);
        continue;
      }
      BootAttempt a{v, it->second, true};
      if (a.id == expected) return search.found = a, search;
      search.tried.push_back(a);
    }
    if (unnamed.empty()) continue;
    TransformOptions transform;
    transform.xattrs = mode;
    tree::Tree tree = image_tree(repo, img, transform);
    make_bootable(repo, tree);
    for (const BootVariant& v : unnamed) {
      BootAttempt a{v, erofs_image_id(tree, v.version, repo.algorithm()), false};
      if (a.id != expected) {
        search.tried.push_back(a);
        continue;
      }
      // Named by what was stored (the writer is deterministic: the same bytes again).
      Digest id = with_context("storing the boot EROFS image",
                               [&] { return store_erofs_image(repo, tree, v.version); });
      if (id != expected)
        throw Error(EIO, "the stored boot image is " + to_hex(id) + ", not " + to_hex(expected));
      repo.link_image(id);
      std::map<std::string, Digest> config_refs = img.config_refs;
      config_refs[boot_image_ref(v.version, mode)] = id;
      rename_config(repo, img, config_refs);
      search.found = a;
      return search;
    }
  }
  return search;
}

}  // namespace cfs::oci
