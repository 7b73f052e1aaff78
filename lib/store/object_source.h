// ObjectSource: where backing objects come from. The one seam between "this image needs
// object xx/yyy" and local directories today, an HTTP mirror or an OCI registry tomorrow.
// Layer: store. Implementations are thread-safe.
#pragma once

#include <string>
#include <vector>

#include "base/unique_fd.h"

namespace cfs::store {

class ObjectSource {
 public:
  virtual ~ObjectSource() = default;
  // A read-only fd of the object at `path` ("xx/<62 hex>", leading slashes ignored), or an
  // invalid fd with errno set (ENOENT when no source has it).
  virtual UniqueFd open(const std::string& path) const = 0;
};

// Object directories searched in order (mount.composefs basedir=A:B).
class DirectorySource final : public ObjectSource {
 public:
  explicit DirectorySource(const std::vector<std::string>& dirs);  // throws Error
  UniqueFd open(const std::string& path) const override;

 private:
  std::vector<UniqueFd> dirs_;
};

}  // namespace cfs::store
