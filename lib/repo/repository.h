// A composefs repository as composefs-rs (cfsctl 0.9) lays it out, so that either tool can use
// the other's: meta.json, objects/xx/<rest> named by fs-verity digest (SHA-512 by default),
// images/<hex> -> ../objects/..., images/refs/NAME -> ../<hex>, streams/ (docs/repository.md).
// An open Repository holds flock(LOCK_SH) on the repository directory until destroyed (gc
// takes LOCK_EX), so a gc never runs beside a writer. Layer: repo.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/digest.h"
#include "base/unique_fd.h"
#include "repo/meta.h"
#include "store/store.h"

namespace cfs::repo {

struct OpenOptions {
  std::optional<HashAlgorithm> hash;            // --hash: must match meta.json
  bool insecure = false;                        // --insecure: no fs-verity required
  bool require_verity = false;                  // --require-verity: refuse an insecure repository
  bool no_upgrade = false;                      // --no-upgrade
  std::optional<std::uint32_t> erofs_version;   // --erofs-version for this run
};

struct InitOptions {
  HashAlgorithm algorithm = HashAlgorithm::kSha512;
  bool insecure = false;
  bool reset_metadata = false;
  bool ensure = false;
  std::uint32_t erofs_version = 1;
};

// The repository's algorithm as cfsctl decides it before opening (meta.json, else the name
// length of the first object); no lock. Throws Error with cfsctl's messages.
HashAlgorithm detect_algorithm(const std::string& path, const OpenOptions& options);

// `cfsctl init`: creates the repository and meta.json; returns what it prints.
std::string init(const std::string& path, const InitOptions& options);

class Repository {
 public:
  static std::unique_ptr<Repository> open(const std::string& path, const OpenOptions& options);

  const std::string& path() const { return path_; }
  int fd() const { return fd_.get(); }
  const Meta& meta() const { return meta_; }
  HashAlgorithm algorithm() const { return meta_.algorithm; }
  bool secure() const { return secure_; }
  // The EROFS versions new images are written in, the default first.
  std::vector<std::uint32_t> erofs_versions() const;

  // Refuses a read-only or unwritable repository (before anything is written).
  void check_writable() const;
  // flock on the repository directory: LOCK_EX for gc, LOCK_SH otherwise (blocking).
  void lock(int operation) const;

  store::ObjectStore& objects();
  // Stores bytes as one object (published on return); its digest.
  Digest store_object(std::span<const std::byte> bytes);
  // images/<hex> -> the object of `id`, and with a name images/refs/NAME -> ../<hex> (a NAME
  // with an empty, "." or ".." component is refused: Error EINVAL).
  void link_image(const Digest& id);
  void link_image_ref(const std::string& name, const Digest& id);

  // A stored object, read-only (no symlink followed). Error(ENOENT) "object <hex> not found".
  UniqueFd open_object(const Digest& object) const;
  // streams/NAME -> the object (replaced atomically).
  void link_stream(const std::string& name, const Digest& object);
  // The object streams/NAME links to; nullopt when there is no such stream, or its object is
  // gone (a link left by a gc killed halfway is not a stream to reuse).
  std::optional<Digest> stream_object(const std::string& name) const;

  // The image ID NAME stands for: NAME itself when it is one (hex), else the image the ref
  // images/refs/NAME links to (NAME without a '/', or spelled refs/NAME, as cfsctl looks at
  // images/NAME); nullopt when there is no such ref. A ref must link to images/<image ID> as
  // composefs-rs spells it ("../<hex>"): anything else is Error (kCorrupt), never followed.
  // A name with an empty, "." or ".." component is Error (EINVAL), as in link_image_ref.
  std::optional<Digest> resolve_image(const std::string& name) const;

  struct OpenedImage {
    UniqueFd fd;                 // objects/<ID as path>, regular, read-only
    std::string name;
    Digest id;                   // the digest it must have (a mount checks it)
    bool require_object_verity;  // overlayfs verity=require on the files
  };
  // NAME resolved as above; images/<ID> must link to the object of that ID, which is opened
  // and, where it has fs-verity, checked against the ID. Error "image not found: NAME".
  OpenedImage open_image(const std::string& name) const;

  ~Repository();

 private:
  Repository() = default;
  std::string path_;
  UniqueFd fd_;
  Meta meta_;
  bool secure_ = false;
  std::once_flag objects_once_;
  std::unique_ptr<store::ObjectStore> objects_;
};

// A relative symlink at `link` (relative to dir_fd) pointing at `target` (relative to the
// same directory), replaced atomically if it exists with another target; parents made 0755.
void replace_symlink(int dir_fd, const std::string& link, const std::string& target);

}  // namespace cfs::repo
