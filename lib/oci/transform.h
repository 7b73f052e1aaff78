// The rules composefs-rs applies to a tree before it becomes an image (cfsctl create-image and
// compute-id, and OCI imports): the root takes /usr's metadata (layer tars rarely carry "./",
// so "/" would otherwise depend on the runtime), /run is emptied, and xattrs are filtered to
// an allowlist. Layer: oci (pure: on a tree::Tree).
#pragma once

#include <string_view>

#include "tree/tree.h"

namespace cfs::oci {

enum class XattrMode {
  kAllowlistOnly,   // keep security.capability only (composefs-rs's default)
  kKeepUserXattrs,  // and user.*
};

// composefs-rs's spelling: "allowlist-only", "keep-user-xattrs".
std::string_view xattr_mode_name(XattrMode mode);

struct TransformOptions {
  bool propagate_usr_to_root = true;  // false: none of this (--no-propagate-usr-to-root)
  XattrMode xattrs = XattrMode::kAllowlistOnly;
};

// Throws Error(ENOENT) when the tree has no /usr directory to take the root's metadata from.
void transform_for_oci(tree::Tree& tree, const TransformOptions& options);

}  // namespace cfs::oci
