#include "mount/staging.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "base/error.h"
#include "mount/plain.h"

namespace cfs::mount {

Staging::Staging(const std::string& parent, const std::string& prefix) {
  std::string tmpl = parent + "/" + prefix + ".XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (::mkdtemp(buf.data()) == nullptr)
    throw_errno(errno, "making a staging directory in " + parent);
  path_ = buf.data();
  try {
    mount_tmpfs(path_, "mode=0700");
    mounted_ = true;
    // Private: a mount can only be moved out from under a private parent, and nothing
    // mounted here shows up anywhere else (the initramfs' / and /run may be shared).
    make_private(path_, false);
  } catch (...) {
    if (mounted_) detach(path_);
    ::rmdir(path_.c_str());
    throw;
  }
}

Staging::~Staging() {
  if (mounted_) {
    // Private first, all the way down: a recursive bind of a shared mount is a peer of the
    // original, and detaching its submounts would otherwise detach the original's too.
    try {
      make_private(path_, true);
    } catch (const Error&) {
      // Nothing shared below (or nothing at all): the detach is safe as it is.
    }
    detach(path_);
  }
  ::rmdir(path_.c_str());
}

std::string Staging::make_dir(const std::string& name, mode_t mode) const {
  std::string p = path_ + "/" + name;
  if (::mkdir(p.c_str(), mode) != 0) throw_errno(errno, "making " + p);
  return p;
}

}  // namespace cfs::mount
