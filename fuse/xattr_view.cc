#include "fuse/xattr_view.h"

#include <sys/stat.h>

#include <unordered_set>
#include <vector>

#include "base/error.h"
#include "format/composefs.h"

namespace cfs::fuse {

std::optional<std::string> visible_xattr_name(std::string_view name, bool acl, bool privileged) {
  std::optional<std::string> own = format::unescaped_xattr_name(name);
  if (!own) return std::nullopt;  // composefs' own overlay xattrs
  std::string out;
  if (name.starts_with(format::kXattrEscapedPrefix)) {
    out = std::move(*own);
  } else if (name.starts_with("system.posix_acl_")) {
    if (!acl) return std::nullopt;
    out = name;
  } else if (name.starts_with("user.") || name.starts_with("trusted.") || name.starts_with("security.")) {
    out = name;
  } else {
    return std::nullopt;  // no kernel handler for other prefixes: invisible there too
  }
  if (!privileged && out.starts_with("trusted.")) return std::nullopt;
  return out;
}

XattrSummary summarize_xattrs(const reader::Image& image, bool acl) {
  XattrSummary summary;
  auto check = [&](const reader::Inode& in) {
    image.for_each_xattr(in, [&](std::string_view n, std::string_view) {
      if (auto visible = visible_xattr_name(n, acl, true)) {
        summary.any = true;
        summary.selinux |= *visible == "security.selinux";
      }
      return !summary.selinux;  // nothing more to learn
    });
  };
  try {
    std::vector<std::uint64_t> dirs = {image.root_nid()};
    std::unordered_set<std::uint64_t> seen = {image.root_nid()};
    check(image.inode(image.root_nid()));
    while (!summary.selinux && !dirs.empty()) {
      reader::Inode dir = image.inode(dirs.back());
      dirs.pop_back();
      image.for_each_dirent(dir, [&](const reader::DirEntryView& e) {
        if (e.name == "." || e.name == ".." || !seen.insert(e.nid).second) return true;
        reader::Inode child = image.inode(e.nid);
        check(child);
        if (child.type() == S_IFDIR) dirs.push_back(e.nid);
        return !summary.selinux;
      });
    }
  } catch (const Error&) {
    return {true, true};
  }
  return summary;
}

}  // namespace cfs::fuse
