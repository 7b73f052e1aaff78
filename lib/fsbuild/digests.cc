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


// Small files, read whole: their digests computed together, objects stored from the very
// bytes hashed.
void FileHasher::process_small(const std::vector<tree::Node*>& nodes) {
  std::vector<std::vector<std::byte>> data(nodes.size());
  std::vector<std::span<const std::byte>> spans;
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    tree::Node& n = *nodes[i];
    std::string path = n.path();
    try {
      UniqueFd fd = store::open_scanned_file_beneath(root_fd_, std::string_view(path).substr(1));
      if (!fd) throw_errno(ENOENT);
      data[i].resize(n.size + 1);  // one byte more: a file that grew is seen
      std::size_t got = 0;
      for (ssize_t r; got < data[i].size(); got += static_cast<std::size_t>(r)) {
        r = ::pread(fd.get(), data[i].data() + got, data[i].size() - got, static_cast<off_t>(got));
        if (r < 0 && errno == EINTR) r = 0;
        else if (r < 0) throw_errno(errno);
        else if (r == 0) break;
      }
      if (got != n.size) throw Error(ENODATA, "the file changed size during the build");
      data[i].resize(n.size);
    } catch (const Error& e) {
      throw BuildError(BuildError::Step::kFile, e.code(), path, e.what());
    }
    spans.emplace_back(data[i]);
  }
  std::vector<Digest> digests(nodes.size());
  verity::digest_many(spans, algorithm_, digests.data());
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    tree::Node& n = *nodes[i];
    if (n.size <= kInlineMax) {
      n.content = tree_.keep({reinterpret_cast<const char*>(data[i].data()), data[i].size()});
    } else if (store_ != nullptr) {
      try {
        ++(store_->ingest_hashed(data[i], digests[i]).added ? missed_ : found_);
      } catch (const Error& e) {
        throw BuildError(BuildError::Step::kFile, e.code(), n.path(), e.what());
      }
    }
    n.digest = tree_.keep(digests[i]);
    n.payload = tree_.keep(object_path(digests[i]));
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
  std::vector<tree::Node*> batch, small;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      ready_.wait(lock, [this] { return queue_.size() >= kBatch || closed_; });
      if (queue_.empty()) return;
      std::size_t take = std::min(queue_.size(), kBatch);
      batch.assign(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(take));
      queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(take));
    }
    small.clear();
    for (tree::Node* n : batch) {
      if (failed_) break;
      if (n->size <= verity::kSmallFileMax) {
        small.push_back(n);
        continue;
      }
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
    if (small.empty() || failed_) continue;
    try {
      process_small(small);
      if (progress_ != nullptr) {
        progress_->files_done += small.size();
        for (tree::Node* n : small) progress_->bytes_done += n->size;
      }
    } catch (...) {
      std::lock_guard lock(mutex_);
      if (!failed_.exchange(true)) first_error_ = std::current_exception();
    }
  }
}

}  // namespace cfs::fsbuild
