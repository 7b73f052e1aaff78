// The xattrs a mounted composefs image shows, as overlayfs shows them: composefs' internal
// trusted.overlay.* hidden, escaped trusted.overlay.overlay.* unescaped, ACLs only when
// exposed, trusted.* only to privileged callers. Layer: fuse.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "reader/image.h"

namespace cfs::fuse {

// The name a stored xattr shows under, or nullopt when it is hidden.
std::optional<std::string> visible_xattr_name(std::string_view stored, bool acl, bool privileged);

// What the whole image shows, found by one walk over every inode.
struct XattrSummary {
  bool any = false;      // some inode shows an xattr
  bool selinux = false;  // some inode has a security.selinux label
};
// A damaged image gives {true, true}: the per-request path then reports its errors.
XattrSummary summarize_xattrs(const reader::Image& image, bool acl);

}  // namespace cfs::fuse
