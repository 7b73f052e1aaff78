// ObjectSource: where backing objects come from. The one seam between "this image needs
// object xx/yyy" and local directories today, an HTTP mirror or an OCI registry tomorrow.
// Layer: store. Implementations are thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/unique_fd.h"

namespace cfs::store {

class ObjectSource {
 public:
  virtual ~ObjectSource() = default;
  // A read-only fd of the regular file `object` ("xx/<62 hex>", relative: see
  // format::redirect_object). Throws Error: ENOENT when no source has it, else a one-line
  // reason (refused path, not a regular file, I/O error).
  virtual UniqueFd open(std::string_view object) const = 0;
};

// Object directories searched in order (mount.composefs basedir=A:B). An object is resolved
// as overlayfs resolves a redirect: never above the directory, never through a symlink, and
// only a regular file is opened (a FIFO or device an image points at is never opened for I/O).
class DirectorySource final : public ObjectSource {
 public:
  explicit DirectorySource(const std::vector<std::string>& dirs);  // throws Error
  UniqueFd open(std::string_view object) const override;

 private:
  std::vector<UniqueFd> dirs_;
};

}  // namespace cfs::store
