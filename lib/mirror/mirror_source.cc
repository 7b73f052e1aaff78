#include "mirror/mirror_source.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <chrono>

#include "base/error.h"
#include "base/file_io.h"
#include "verity/fsverity.h"

namespace cfs::mirror {

Digest digest_to_check(const store::ObjectRef& ref) {
  std::string hex(ref.path);
  hex.erase(std::remove(hex.begin(), hex.end(), '/'), hex.end());
  std::optional<Digest> named = ref.path.size() > 3 && ref.path[2] == '/' ? parse_hex_digest(hex) : std::nullopt;
  if (ref.digest && named && *ref.digest != *named) {
    throw Error(EIO, "the image's digest differs from the one its object path names");
  }
  if (ref.digest) {
    if (object_path(*ref.digest) != ref.path) throw Error(EIO, "the object path is not its digest's: no mirror serves it");
    return *ref.digest;
  }
  if (!named) throw Error(EIO, "no digest to check a mirror's copy against");
  return *named;
}

MirrorSource::MirrorSource(const std::vector<std::string>& basedirs, Mirrors& mirrors) : mirrors_(mirrors) {
  if (basedirs.empty()) throw Error(EINVAL, "no cache directory");
  cache_path_ = basedirs.front();
  if (::mkdir(cache_path_.c_str(), 0755) != 0 && errno != EEXIST) throw_errno(errno, cache_path_);
  local_ = std::make_unique<store::DirectorySource>(basedirs);
}

MirrorSource::~MirrorSource() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  unnamed_changed_.notify_all();
  if (namer_.joinable()) namer_.join();
  streaming_.clear();  // their threads end before the stores go
}

void MirrorSource::flush_caches() const {
  std::vector<store::ObjectStore*> stores;
  {
    std::lock_guard lock(mutex_);
    for (auto& [algorithm, store] : caches_) stores.push_back(store.get());
  }
  for (store::ObjectStore* s : stores) s->flush();
}

// Names fetched objects a moment after they arrive, many per syncfs; entries leave unnamed_
// only once named (a failed flush leaves them served from their unnamed files).
void MirrorSource::name_unnamed() const {
  std::unique_lock lock(mutex_);
  for (;;) {
    unnamed_changed_.wait(lock, [&] { return stopping_ || !unnamed_.empty(); });
    if (!stopping_) unnamed_changed_.wait_for(lock, std::chrono::milliseconds(200), [&] { return stopping_; });
    std::vector<std::string> batch;
    bool named = false;
    try {  // nothing leaves the thread: what is not named is served from its unnamed file
      for (const auto& [path, fd] : unnamed_) batch.push_back(path);
      lock.unlock();
      flush_caches();
      named = true;
    } catch (...) {
    }
    if (!lock.owns_lock()) lock.lock();
    if (named) {
      for (const std::string& p : batch) unnamed_.erase(p);
    }
    if (stopping_) return;
  }
}

store::ObjectStore& MirrorSource::cache(HashAlgorithm algorithm) const {
  std::lock_guard lock(mutex_);
  auto& store = caches_[algorithm];
  if (!store) store = std::make_unique<store::ObjectStore>(cache_path_, algorithm);
  return *store;
}

bool MirrorSource::may_wait(const store::ObjectRef& ref) const {
  {
    std::lock_guard lock(mutex_);
    if (unnamed_.contains(ref.path)) return false;
  }
  return !local_->has(ref);
}

store::ResolvedObject MirrorSource::resolve(const store::ObjectRef& ref) const {
  using Where = store::ResolvedObject::Where;
  {
    std::lock_guard lock(mutex_);
    if (auto it = unnamed_.find(ref.path); it != unnamed_.end()) {
      return {Where::kLocal, {reopen_read_only(it->second->get()), true}, nullptr};
    }
    if (auto it = streaming_.find(ref.path); it != streaming_.end() && !it->second->complete() && !it->second->gave_up()) {
      store::ResolvedObject arriving;
      arriving.where = Where::kStreaming;
      arriving.streaming = it->second;
      return arriving;
    }
  }
  try {
    return {Where::kLocal, local_->open(ref), nullptr};
  } catch (const Error& e) {
    if (e.code() != ENOENT) throw;  // refused, or the wrong size: not fetched over it
  }
  return store::ResolvedObject();  // only on a mirror
}

store::OpenedObject MirrorSource::open(const store::ObjectRef& ref) const {
  store::ResolvedObject here = resolve(ref);
  if (here.where == store::ResolvedObject::Where::kLocal) return std::move(here.local);
  bool checked = fetch(ref);
  {
    std::lock_guard lock(mutex_);
    if (auto it = unnamed_.find(ref.path); it != unnamed_.end()) {
      // A file description of its own (a dup would share the file offset).
      return {reopen_read_only(it->second->get()), true};
    }
  }
  store::OpenedObject opened = local_->open(ref);
  opened.verified = checked;
  return opened;
}

bool MirrorSource::fetch(const store::ObjectRef& ref) const {
  if (!may_wait(ref)) return false;
  Digest digest = digest_to_check(ref);
  std::shared_ptr<Download> d;
  bool mine = false;
  {
    std::lock_guard lock(mutex_);
    auto [it, added] = downloads_.try_emplace(std::string(ref.path));
    if (added) it->second = std::make_shared<Download>();
    d = it->second;
    mine = added;
  }
  if (mine) {
    std::exception_ptr error;
    bool stored = false;
    try {
      stored = download(ref, digest);
    } catch (...) {
      error = std::current_exception();
    }
    {
      std::lock_guard lock(mutex_);
      downloads_.erase(std::string(ref.path));
    }
    std::lock_guard lock(d->mutex);
    d->done = true;
    d->stored = stored;
    d->error = error;
    d->done_changed.notify_all();
  } else {
    std::unique_lock lock(d->mutex);
    d->done_changed.wait(lock, [&] { return d->done; });
  }
  if (d->error) std::rethrow_exception(d->error);
  return d->stored;
}

std::shared_ptr<store::PartialObject> MirrorSource::open_partial(const store::ObjectRef& ref) const {
  if (ref.size < kStreamFrom || local_->has(ref)) return nullptr;
  Digest digest = digest_to_check(ref);
  drop_finished_streams();
  {
    std::lock_guard lock(mutex_);
    if (auto it = streaming_.find(ref.path); it != streaming_.end()) return it->second;
  }
  // The hash of every block, checked against the digest (a wrong tree: the next mirror's).
  // The size is the image's word: a tree beyond the bound is not asked for (fetched whole).
  std::uint64_t blocks = ref.size / StreamingObject::kBlock + (ref.size % StreamingObject::kBlock != 0);
  std::uint64_t tree_size = blocks * digest_size(digest.algorithm());
  if (tree_size > kMaxTree) return nullptr;
  std::string hashes;
  try {
    hashes = mirrors_.fetch_small("merkle/" + std::string(ref.path), tree_size,
                                  [&](const std::string& tree) {
                                    verity::Hasher h(digest.algorithm());
                                    h.append_block_hashes({reinterpret_cast<const std::uint8_t*>(tree.data()), tree.size()}, ref.size);
                                    if (h.finish() != digest) throw Error(EBADMSG, "the Merkle tree is not the object's");
                                  });
  } catch (const Error&) {
    return nullptr;  // no mirror has a tree for it: fetched whole
  }
  auto s = std::make_shared<StreamingObject>(cache(digest.algorithm()), mirrors_, "objects/" + std::string(ref.path),
                                             digest, ref.size, std::vector<std::uint8_t>(hashes.begin(), hashes.end()));
  {
    std::lock_guard lock(mutex_);
    auto [it, added] = streaming_.try_emplace(std::string(ref.path), s);
    if (!added) return it->second;  // another open got there first: ours never started
  }
  s->start();
  return s;
}

void MirrorSource::drop_finished_streams() const {
  std::vector<std::shared_ptr<StreamingObject>> finished;  // let go of after the lock
  std::lock_guard lock(mutex_);
  for (auto it = streaming_.begin(); it != streaming_.end();) {
    if (it->second->complete() || it->second->gave_up()) {
      finished.push_back(std::move(it->second));
      it = streaming_.erase(it);
    } else {
      ++it;
    }
  }
}

bool MirrorSource::download(const store::ObjectRef& ref, const Digest& digest) const {
  if (local_->has(ref)) return false;  // an earlier download got it meanwhile
  drop_finished_streams();  // the space a stream that gave up holds
  store::ObjectStore& store = cache(digest.algorithm());
  bool added;
  try {
    added = mirrors_.fetch("objects/" + std::string(ref.path), digest, ref.size, store).added;
  } catch (const Error& e) {
    // Not the mirrors' failure (no other was tried): the log line says where it happened.
    if (e.kind() == ErrorKind::kLocalIo) throw e.wrap("writing to the cache " + cache_path_);
    throw;
  }
  UniqueFd fd = store.open_pending(digest);
  if (!fd) {  // named already
    if (added) return true;
    return false;  // another process named its copy first, which is not ours to vouch for
  }
  std::lock_guard lock(mutex_);
  unnamed_.emplace(std::string(ref.path), std::make_shared<UniqueFd>(std::move(fd)));
  if (!namer_.joinable()) namer_ = std::thread([this] { name_unnamed(); });
  unnamed_changed_.notify_all();
  return true;
}

}  // namespace cfs::mirror
