// cfsctl oci prepare-boot and prepare-boot: an image's boot entry written into a boot
// directory, as composefs-rs 0.9's `oci prepare-boot` (crates/composefs-ctl/src/lib.rs) does:
// the image's boot entries found, the bootable image stored, the first entry written with the
// composefs karg (boot/plan.h, boot/bootdir.h), and the state directories composefs-setup-root
// mounts (<state root>/state/deploy/<hex>/{var,etc/upper,etc/work}) made. Layer: oci (it joins
// the repository, the OCI image and the boot layer).
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "boot/plan.h"
#include "oci/stored.h"
#include "repo/repository.h"

namespace cfs::oci {

struct PrepareBootOptions {
  std::string bootdir = "/boot";
  std::optional<std::string> entry_id;  // else boot::next_entry_id
  std::vector<std::string> cmdline;     // extra kernel arguments (Type 1 only)
  std::string state_root = "/sysroot";  // composefs-rs: the parent of --repo, else /sysroot
};

struct PreparedBoot {
  boot::BootPlan plan;    // what was written
  std::string state_dir;  // <state root>/state/deploy/<hex>
};

// The karg composefs-rs writes for an image with `ids` (its EROFS versions and IDs): the V1
// image's ID (V0 counts as V1 here; composefs-rs has none for a V0-only repository), else the
// V2 one's, in the V1 form when the repository writes no V2 image, else as composefs=; '?'
// when the repository is insecure.
boot::Karg boot_karg(const repo::Repository& repo,
                     const std::vector<std::pair<std::uint32_t, Digest>>& ids);

// An OCI image (a tag, a manifest digest, or a bare config with `verify` telling whether its
// layers are checked): its tree before the boot transform gives the entries, the bootable tree
// is stored (and named by the config when there is a manifest), then the first entry is
// written. Error before anything is written for a missing boot directory, no entry, a bad one.
PreparedBoot prepare_boot_oci(repo::Repository& repo, const StoredImage& img,
                              const PrepareBootOptions& options, bool verify = false);

// An image of the repository made bootable (create-image --bootable; NAME a ref or image ID):
// its /boot is empty, so the entries are its UKIs and kernels under /usr/lib/modules.
// Error(EINVAL) when its /boot or /sysroot is not empty (not made with --bootable).
PreparedBoot prepare_boot_image(repo::Repository& repo, const std::string& name,
                                const PrepareBootOptions& options);

}  // namespace cfs::oci
