// MirrorSource: objects from local directories, and those they lack from HTTP mirrors on first
// use. A missing object is fetched (mirror/mirrors.h) into an unnamed file in the cache (the
// first directory), checked against its fs-verity digest as it is written, and served from
// that file at once; a namer thread makes such files durable and names them in batches (one
// syncfs for many, off the open's path). Nothing unchecked is ever served or named.
// Concurrent requests for one object share one download. Layer: mirror. Thread-safe.
#pragma once

#include <condition_variable>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "mirror/mirrors.h"
#include "mirror/streaming.h"
#include "store/object_source.h"
#include "store/store.h"

namespace cfs::mirror {

class MirrorSource final : public store::ObjectSource {
 public:
  // `basedirs`: searched in order; the first is the cache (created if missing). Borrows
  // `mirrors`. Throws Error.
  MirrorSource(const std::vector<std::string>& basedirs, Mirrors& mirrors);
  ~MirrorSource() override;  // names what is still unnamed

  store::OpenedObject open(const store::ObjectRef& ref) const override;
  store::ResolvedObject resolve(const store::ObjectRef& ref) const override;
  std::shared_ptr<store::PartialObject> open_partial(const store::ObjectRef& ref) const override;
  // Whether `ref` is not here yet (opening it would wait for a mirror).
  bool may_wait(const store::ObjectRef& ref) const;
  void cancel_waits() const override { mirrors_.cancel(); }

  // Objects from this size on are streamed where a mirror has their Merkle tree.
  static constexpr std::uint64_t kStreamFrom = 8 << 20;
  // ... and up to the size whose block hashes (held in memory while it streams) take this
  // much: 32 GiB with SHA-256, 16 GiB with SHA-512. Larger objects are fetched whole.
  static constexpr std::uint64_t kMaxTree = 256 << 20;
  // Makes `ref` local: what open() does, without opening it. True when the object named now
  // is the copy this call (or one it waited for) fetched and checked. Throws Error.
  bool fetch(const store::ObjectRef& ref) const;

 private:
  struct Download {
    std::mutex mutex;
    std::condition_variable done_changed;
    bool done = false, stored = false;
    std::exception_ptr error;
  };
  store::ObjectStore& cache(HashAlgorithm algorithm) const;
  bool download(const store::ObjectRef& ref, const Digest& digest) const;
  // Drops the streams that are complete (local now) or gave up (a partial file that a full
  // disk stopped goes with its last reader, not at unmount).
  void drop_finished_streams() const;

  std::string cache_path_;
  std::unique_ptr<store::DirectorySource> local_;
  Mirrors& mirrors_;
  mutable std::mutex mutex_;
  mutable std::map<HashAlgorithm, std::unique_ptr<store::ObjectStore>> caches_;
  mutable std::map<std::string, std::shared_ptr<Download>, std::less<>> downloads_;  // by path
  mutable std::map<std::string, std::shared_ptr<StreamingObject>, std::less<>> streaming_;  // by path
  // Fetched and checked, not named yet: read-only descriptors, by path.
  mutable std::map<std::string, std::shared_ptr<UniqueFd>, std::less<>> unnamed_;
  void name_unnamed() const;  // the namer thread
  void flush_caches() const;
  mutable std::condition_variable unnamed_changed_;
  mutable bool stopping_ = false;
  mutable std::thread namer_;
};

// The digest an object must have: the image's, else the one its store path spells; Error when
// neither exists or they disagree (a mirror's copy could not be checked or found).
Digest digest_to_check(const store::ObjectRef& ref);

}  // namespace cfs::mirror
