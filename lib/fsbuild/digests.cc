#include "fsbuild/digests.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>

#include "base/error.h"
#include "base/unique_fd.h"
#include "fsbuild/scan.h"
#include "store/store.h"
#include "verity/measure.h"

namespace cfs::fsbuild {
namespace {

constexpr std::uint64_t kInlineMax = 64;  // upstream's recommended inline content size
// Files change hands in batches: a thread woken per small file costs more than the file.
constexpr std::size_t kBatch = 16;

void process(tree::Tree& tree, tree::Node& n, const std::string& path, store::ObjectStore* store) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY));
  if (!fd) throw_errno(errno, path);
  try {
    Digest d = verity::compute_from_file(fd.get(), n.size);
    n.digest = d;
    n.payload = tree.keep(object_path(d));
    if (n.size <= kInlineMax) {
      char content[kInlineMax];
      ssize_t got = ::pread(fd.get(), content, n.size, 0);
      if (got < 0) throw_errno(errno);
      if (static_cast<std::uint64_t>(got) != n.size) throw_errno(ENODATA);
      n.content = tree.keep({content, n.size});
    } else if (store != nullptr) {
      store->put(d, fd.get(), n.size);
    }
  } catch (const Error& e) {
    throw Error(e.code(), path + ": " + e.what());
  }
}

}  // namespace

FileHasher::FileHasher(tree::Tree& tree, std::string source, unsigned threads, store::ObjectStore* store,
                       Progress* progress)
    : tree_(tree), source_(std::move(source)), store_(store), progress_(progress) {
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
        process(tree_, *n, source_path(source_, *n), store_);
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
