// ObjectStore: a content-addressed directory of backing files named "xx/<62 hex>" after their
// fs-verity digest ("xx/<126 hex>" in a SHA-512 store), and an ObjectSource that serves them. An object is named by what was stored: its bytes are copied into an
// unnamed temporary file and measured there (hashed as they are written, or measured from the
// copy), never named after an earlier, separate read of the source. Objects are published
// atomically (linked by flush()), so a valid name never holds a partial object. The xx/
// directories are resolved beneath the store (a symlinked one is refused). Layer: store.
// Thread-safety: ingest(), ingest_stream(), contains() and open() may be called from several
// threads at once.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <future>
#include <span>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/digest.h"
#include "base/unique_fd.h"
#include "store/object_source.h"

struct stat;

namespace cfs::store {

class ObjectStore final : public ObjectSource {
 public:
  // Creates the directory if needed. Objects are named by `algorithm`'s digests.
  explicit ObjectStore(const std::string& path, HashAlgorithm algorithm = HashAlgorithm::kSha256);

  HashAlgorithm algorithm() const noexcept { return algorithm_; }
  // Objects must get fs-verity (a secure composefs-rs repository): flush() fails where it
  // cannot be enabled. Off by default (best effort, as upstream's --digest-store).
  void set_verity_required(bool required) noexcept { verity_required_ = required; }

  bool contains(const Digest& d) const;

  struct Ingested {
    Digest digest;  // the digest of the bytes stored
    bool added;     // false: an object of that digest was there already (the copy dropped)
  };
  // Copies `size` bytes of the regular file `src_fd` into the store: a reflink where the
  // filesystem can, else a copy that keeps holes. Mode 0644; fs-verity enabled at flush where
  // supported (and its measurement checked against the name). Throws Error(ENODATA) if the
  // file turns out shorter than `size`. The copy is unnamed until flush() names it (ingest()
  // flushes by itself every fd_budget() objects).
  Ingested ingest(int src_fd, std::uint64_t size);
  // Fills the buffer it is given and returns how many bytes it put there; 0 at the end.
  // Throws Error on failure (then nothing is stored).
  using ReadSome = std::function<std::size_t(std::span<std::byte>)>;
  // Stores a stream's bytes (a pipe, a decompressor, a tar member), however long, as one
  // object; runs of zero blocks become holes. Otherwise as ingest(). With `expected` (bytes
  // from an untrusted mirror), bytes of another digest are dropped unnamed and Error(EBADMSG)
  // names both digests: nothing wrong is ever stored.
  Ingested ingest_stream(const ReadSome& read, const std::optional<Digest>& expected = std::nullopt);
  // Stores `bytes`, whose digest the caller has just computed from this very buffer (a batch of
  // small files hashed together, verity::digest_many): the object holds exactly the bytes that
  // were hashed. Otherwise as ingest().
  Ingested ingest_hashed(std::span<const std::byte> bytes, const Digest& digest);
  // How take_file() made a file an object.
  enum class Taken { kPresent, kReflinked, kHardLinked, kCopied };
  // Fed every byte of an object as stored, once, in order.
  using Observe = std::function<void(std::span<const std::byte>)>;
  // Makes the regular file `src_fd` (`size` bytes, read-only: a file of containers-storage)
  // an object without copying its bytes where the filesystem allows, as composefs-rs does: a
  // reflink, measured from the clone; else a hard link of the file itself (on the same
  // filesystem, with CAP_DAC_READ_SEARCH for linkat(AT_EMPTY_PATH); when this store requires
  // fs-verity it is first enabled on the file in place, which makes it immutable; a setuid or
  // setgid file is never linked, as objects/ would expose it); else, unless `zero_copy`, a
  // copy. With `zero_copy`, Error(EXDEV) says why neither link works.
  Taken take_file(int src_fd, std::uint64_t size, bool zero_copy, const Observe& observe, Digest* digest);
  // An unnamed file in the store, for an object that arrives in pieces (mirror/streaming.h).
  UniqueFd unnamed_file();
  // Names `tmp` (from unnamed_file()) at once as the object `digest`: the caller has checked
  // every block of it against the Merkle tree whose root `digest` is.
  Ingested adopt(UniqueFd tmp, const Digest& digest);
  // The object `ref` names (its path beneath the store, as a redirect spells it).
  OpenedObject open(const ObjectRef& ref) const override;
  // A read-only descriptor of the object `d` while it waits for flush() to name it (invalid
  // when it is not pending): to serve a just-stored object before it is durable.
  UniqueFd open_pending(const Digest& d);
  // Makes every pending object durable with one syncfs(2), then gives each its name: one
  // flush per batch instead of an fsync per object, and still no named partial object. The
  // batches that fill up while objects are stored are flushed on a thread of their own, one at
  // a time, while the next fills (its failure is rethrown by the next store or flush()).
  void flush();

  // How many unnamed objects (each an open descriptor) wait for a flush at most (half of them
  // filling a batch, half being named), and how many xx/ directories stay open: 1024 (a
  // syncfs per 512 objects), or a quarter of the descriptors this process may hold
  // (RLIMIT_NOFILE when the store was made), so that a low `ulimit -n` costs more flushes and
  // lookups instead of failing with EMFILE.
  std::size_t fd_budget() const noexcept { return fd_budget_; }

 private:
  struct Pending {
    Digest digest;
    UniqueFd fd;
  };
  // An xx/ directory: kept open in subdirs_ while the budget allows (then `owned` is empty),
  // else opened for this use alone. fd is -1 when it is absent.
  struct Subdir {
    int fd = -1;
    UniqueFd owned;
  };
  Ingested publish(UniqueFd tmp, const Digest& d);
  std::string why_no_hard_link(const struct stat& st);
  void finish_naming_locked();
  void name_batch(const std::vector<Pending>& batch);
  void link_object(int fd, std::uint8_t first_byte, const std::string& name);
  Subdir subdir(std::uint8_t first_byte, bool create) const;
  int unnamed_file_dir();

  std::string path_;
  HashAlgorithm algorithm_;
  bool verity_required_ = false;
  std::atomic<bool> no_reflink_{false};  // FICLONE failed once: the filesystem cannot
  std::size_t fd_budget_;
  UniqueFd dir_fd_;
  std::mutex mutex_;  // pending_
  mutable std::mutex subdirs_mutex_;
  mutable std::array<UniqueFd, 256> subdirs_;  // xx/, opened beneath the store once
  mutable std::size_t subdirs_open_ = 0;       // how many of them, at most fd_budget_
  unsigned next_tmp_dir_ = 0;                  // under subdirs_mutex_
  // Learnt at the first flush: no fs-verity here; linkat by descriptor refused.
  std::atomic<bool> verity_unsupported_ = false, link_by_path_ = false;
  std::vector<Pending> pending_;  // unnamed: dropped (never published) if flush never comes
  std::vector<Pending> naming_;   // the batch named_ makes durable and names (read-only there)
  std::future<void> named_;       // under mutex_, as naming_; last: its thread ends first
};

}  // namespace cfs::store
