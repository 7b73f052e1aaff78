// --bootable for images in the repository, as composefs-rs 0.9 does it (crates/composefs-oci/
// src/{boot,lib}.rs): the tree goes through the boot transform (boot/transform.h) with the
// policy read from the tree and the repository's objects, and a pulled image's bootable
// EROFS is cached under a named ref of its config stream, where composefs-rs looks for it
// too (and where gc's config marking keeps it). Layer: oci.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "oci/stored.h"
#include "oci/transform.h"
#include "repo/repository.h"
#include "tree/tree.h"

namespace cfs::oci {

inline constexpr std::string_view kBootImageRefV1 = "composefs.image.boot.v1";  // V0/V1 EROFS
inline constexpr std::string_view kBootImageRefV2 = "composefs.image.boot";     // V2 EROFS

// The config's named ref of the boot image in EROFS `version` made with xattr `mode`: the
// default mode (allowlist-only) has the bare name, another gets ".xattrs=<mode>" appended.
std::string boot_image_ref(std::uint32_t version, XattrMode mode = XattrMode::kAllowlistOnly);

// The boot image the config names for `version`, if it has been made.
std::optional<Digest> boot_image(const StoredImage& image, std::uint32_t version);

// transform_for_boot on `tree`, whose external files are objects of `repo`.
void make_bootable(const repo::Repository& repo, tree::Tree& tree);

// The boot image of a stored image (a tag or manifest digest) in the repository's first EROFS
// version: the cached one, or made now from its layers, stored (an image of each of the
// repository's versions) and named by a rewritten config stream, which a rewritten manifest
// stream names in turn (the tag, a link to the manifest's stream name, is unchanged).
Digest ensure_boot_image(repo::Repository& repo, const std::string& name_or_digest);

// Stores the bootable `tree` of `img` in each of the repository's EROFS versions (images/<hex>)
// and, when `img` has a manifest (a tag or manifest digest, not a bare config), names them in
// its config as ensure_boot_image does. The IDs, the repository's default version first.
std::vector<std::pair<std::uint32_t, Digest>> commit_boot_tree(repo::Repository& repo, const StoredImage& img,
                                                               const tree::Tree& tree);

// Boot image recovery (boot.md §3.6, composefs-rs's find_matching_boot_image): the boot image
// a UKI names may come from another composefs-rs release with other defaults. These are the
// (xattr mode, EROFS version) pairs tried, in composefs-rs's order.
struct BootVariant {
  XattrMode mode;
  std::uint32_t version;
};
inline constexpr BootVariant kBootVariants[] = {
    {XattrMode::kAllowlistOnly, 1},
    {XattrMode::kAllowlistOnly, 2},
    {XattrMode::kKeepUserXattrs, 1},
    {XattrMode::kKeepUserXattrs, 2},
};

struct BootAttempt {
  BootVariant variant;
  Digest id;
  bool cached = false;  // named by the config already, not computed
};
struct BootImageSearch {
  std::optional<BootAttempt> found;  // its image stored and named by the config
  std::vector<BootAttempt> tried;    // the ones that did not match, in the order tried
};

// For each xattr mode: the boot images the config names already (V1, then V2), then, when a
// version is not named, its ID computed from one boot tree of that mode. The first whose ID is
// `expected` is stored and named (a computed one; a named one is there already); the search
// stops there.
BootImageSearch find_boot_image(repo::Repository& repo, const std::string& name_or_digest,
                                const Digest& expected);

}  // namespace cfs::oci
