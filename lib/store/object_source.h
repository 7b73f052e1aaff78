// ObjectSource: where backing objects come from. The one seam between "this image needs
// this object" and local directories or a store today, an HTTP mirror or a registry tomorrow.
// Layer: store. Implementations are thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/digest.h"
#include "base/unique_fd.h"

namespace cfs::store {

// What an image records of an external file's backing object.
struct ObjectRef {
  std::string_view path;         // relative, "xx/<62 hex>" in a store (format::redirect_object)
  std::optional<Digest> digest;  // its fs-verity digest, where the image records one
  std::uint64_t size = 0;        // the file's size in the image
};

struct OpenedObject {
  UniqueFd fd;            // read-only, a regular file of exactly ref.size bytes
  bool verified = false;  // the source has checked it against ref.digest (a mirror fetch);
                          // false: the caller checks it (store::ObjectVerifier)
};

class ObjectSource {
 public:
  virtual ~ObjectSource() = default;
  // The object `ref` names. Throws Error: ENOENT when no source has it, else a one-line
  // reason (refused path, not a regular file, wrong size, I/O error).
  virtual OpenedObject open(const ObjectRef& ref) const = 0;
  // True when open(ref) would wait for the network (the object is not local yet): callers
  // that must not block call it from a thread of its own.
  virtual bool may_wait(const ObjectRef& /*ref*/) const { return false; }
  // The session is over: opens waiting for the network fail now, and later ones at once.
  virtual void cancel_waits() const {}
};

// Object directories searched in order (mount.composefs basedir=A:B). An object is resolved
// as overlayfs resolves a redirect: never above the directory, never through a symlink, and
// only a regular file is opened (a FIFO or device an image points at is never opened for I/O).
class DirectorySource final : public ObjectSource {
 public:
  explicit DirectorySource(const std::vector<std::string>& dirs);  // throws Error
  OpenedObject open(const ObjectRef& ref) const override;
  // Whether some directory has it (a refused or wrong-sized entry counts: open() says why).
  bool has(const ObjectRef& ref) const;

 private:
  std::vector<UniqueFd> dirs_;
};

// `ref` beneath `dir_fd` by those rules: an invalid fd when absent; Error when refused or
// when its size is not the image's.
UniqueFd open_object_beneath(int dir_fd, const ObjectRef& ref);

}  // namespace cfs::store
