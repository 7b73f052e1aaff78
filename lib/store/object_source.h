// ObjectSource: where backing objects come from. The one seam between "this image needs
// this object" and local directories or a store today, an HTTP mirror or a registry tomorrow.
// Layer: store. Implementations are thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
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

// A large object served while it arrives: a read waits only for the blocks it needs, each
// checked against the Merkle tree of the object's fs-verity digest before it is served.
class PartialObject {
 public:
  virtual ~PartialObject() = default;
  // Whether [offset, offset + size) can be read without waiting.
  virtual bool ready(std::uint64_t offset, std::size_t size) const = 0;
  // Up to buf.size() bytes at `offset` (fewer at the end), after they arrived and were checked.
  // Throws Error(EIO) when no mirror has them right.
  virtual std::size_t read(std::uint64_t offset, std::span<std::byte> buf) = 0;
};

struct ResolvedObject {
  enum class Where { kLocal, kStreaming, kRemote };
  Where where = Where::kRemote;
  OpenedObject local;                        // kLocal
  std::shared_ptr<PartialObject> streaming;  // kStreaming
};

class ObjectSource {
 public:
  virtual ~ObjectSource() = default;
  // The object `ref` names. Throws Error: ENOENT when no source has it, else a one-line
  // reason (refused path, not a regular file, wrong size, I/O error).
  virtual OpenedObject open(const ObjectRef& ref) const = 0;
  // Where `ref` is, found with one lookup and never waiting for the network: here (opened, as
  // open() opens it), arriving (a stream serves it already), or only on a mirror: then
  // open_partial() and open() wait for it, from a thread of the caller's that may block.
  // Throws Error as open() does for a local object it refuses.
  virtual ResolvedObject resolve(const ObjectRef& ref) const;
  // `ref`, when it is large and not local, as a PartialObject (concurrent callers share one);
  // null when it is local, small, or cannot be streamed (the caller open()s it whole).
  virtual std::shared_ptr<PartialObject> open_partial(const ObjectRef& /*ref*/) const { return nullptr; }
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
