#include "fsbuild/digests.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <span>

#include "base/error.h"
#include "base/unique_fd.h"
#include "format/composefs.h"
#include "fsbuild/build_error.h"
#include "store/beneath.h"
#include "store/store.h"
#include "verity/fsverity.h"
#include "verity/measure.h"

namespace cfs::fsbuild {
namespace {

constexpr std::uint64_t kInlineMax = format::kRecommendedInline;
// Files change hands in batches: a thread woken per small file costs more than the file.
constexpr std::size_t kBatch = 16;

}  // namespace

// The digest of an external file, and its object in the store when there is one. The image
// records the digest of the bytes stored, so a file rewritten during the build gives a
// consistent image and object, never an object under a name its content does not have.
// Where the store mostly has the files already, a digest of the source comes first and only a
// missing object is copied (and measured again as copied); where it mostly lacks them, the
// file is copied and hashed in one pass.
Digest FileHasher::digest_and_store(tree::Node& n, int fd) {
  if (store_ == nullptr) return verity::compute_from_file(fd, n.size, algorithm_);
  if (found_ >= missed_) {
    Digest probe = verity::compute_from_file(fd, n.size, algorithm_);
    if (store_->contains(probe)) {
      ++found_;
      return probe;
    }
    if (after_probe_for_test_) after_probe_for_test_(n);
  }
  store::ObjectStore::Ingested in = store_->ingest(fd, n.size);
  ++(in.added ? missed_ : found_);
  return in.digest;
}

void FileHasher::process(tree::Node& n) {
  std::string path = n.path();
  try {
    UniqueFd fd = store::open_scanned_file_beneath(root_fd_, std::string_view(path).substr(1));
    if (!fd) throw_errno(ENOENT);
    if (n.size <= kInlineMax) {  // inline: the digest is that of the very bytes kept
      char content[kInlineMax];
      ssize_t got = ::pread(fd.get(), content, n.size, 0);
      if (got < 0) throw_errno(errno);
      if (static_cast<std::uint64_t>(got) != n.size) throw_errno(ENODATA);
      n.content = tree_.keep({content, n.size});
      n.digest = tree_.keep(verity::digest_of(std::as_bytes(std::span(content, n.size)), algorithm_));
    } else {
      n.digest = tree_.keep(digest_and_store(n, fd.get()));
    }
    n.payload = tree_.keep(object_path(*n.digest));
  } catch (const Error& e) {
    throw BuildError(BuildError::Step::kFile, e.code(), path, e.what());
  }
}


FileHasher::FileHasher(tree::Tree& tree, int root_fd, unsigned threads, store::ObjectStore* store,
                       Progress* progress, HashAlgorithm algorithm)
    : tree_(tree), root_fd_(root_fd), store_(store), progress_(progress),
      algorithm_(store != nullptr ? store->algorithm() : algorithm) {
  for (unsigned t = 0; t < std::max(1U, threads); ++t) workers_.emplace_back([this] { work(); });
}

FileHasher::~FileHasher() {
  failed_ = true;  // skip whatever is still queued
  stop();
}

void FileHasher::add(tree::Node& file) {
  if (file.size == 0) return;  // nothing to hash or store
  if (progress_ != nullptr) {
    progress_->files_total += 1;
    progress_->bytes_total += file.size;
  }
  bool wake;
  {
    std::lock_guard lock(mutex_);
    queue_.push_back(&file);
    wake = queue_.size() % kBatch == 0;
  }
  if (wake) ready_.notify_one();
}

void FileHasher::finish() {
  stop();
  if (first_error_) std::rethrow_exception(first_error_);
  if (store_ != nullptr) store_->flush();
}

void FileHasher::stop() {
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
  }
  ready_.notify_all();
  for (std::thread& w : workers_) w.join();
  workers_.clear();
}

void FileHasher::work() {
  std::vector<tree::Node*> batch;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      ready_.wait(lock, [this] { return queue_.size() >= kBatch || closed_; });
      if (queue_.empty()) return;
      std::size_t take = std::min(queue_.size(), kBatch);
      batch.assign(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(take));
      queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(take));
    }
    for (tree::Node* n : batch) {
      if (failed_) break;
      try {
        process(*n);
        if (progress_ != nullptr) {
          progress_->files_done += 1;
          progress_->bytes_done += n->size;
        }
      } catch (...) {
        std::lock_guard lock(mutex_);
        if (!failed_.exchange(true)) first_error_ = std::current_exception();
      }
    }
  }
}

}  // namespace cfs::fsbuild
