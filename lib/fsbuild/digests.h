// Fills in what a scanned tree's regular files need for the image: the fs-verity digest and
// object path of every non-empty file, and the inline content of files of at most 64 bytes.
// Optionally copies each external file into an object store. Files are handed over one by
// one while the scan still runs, and worked on by a pool of threads in batches; the small
// files of a batch are hashed together (verity::digest_many). The result does not depend on
// the number of threads. Layer: fsbuild.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/progress.h"
#include "tree/tree.h"

namespace cfs::store {
class ObjectStore;
}

namespace cfs::fsbuild {

// Counters a caller may watch from another thread; the totals grow while the scan runs.
using cfs::Progress;

class FileHasher {
 public:
  // `threads` workers for the files of `tree` (which keeps their new strings), scanned from
  // the directory open as `root_fd`: files are opened beneath it, never through a symlink
  // (an entry swapped for one during the build is refused). `store` and `progress` may be
  // null; all three must outlive the hasher. Digests are `algorithm`'s (the store's, if any).
  FileHasher(tree::Tree& tree, int root_fd, unsigned threads, store::ObjectStore* store,
             Progress* progress, HashAlgorithm algorithm = HashAlgorithm::kSha256);
  ~FileHasher();  // stops the workers (work still queued is dropped)
  FileHasher(const FileHasher&) = delete;
  FileHasher& operator=(const FileHasher&) = delete;

  // Queues a regular file of the tree (its name, parent and size final; not an alias).
  void add(tree::Node& file);
  // Waits until every queued file is done and the store is flushed. Throws BuildError
  // (Step::kFile) for the first file that failed (later work is skipped), Error for a
  // failed flush.
  void finish();

  // Tests only: called after a file's first digest, before it is copied into the store.
  void set_after_probe_for_test(std::function<void(tree::Node&)> hook) { after_probe_for_test_ = std::move(hook); }

 private:
  void work();
  void process(tree::Node& n);
  void process_small(const std::vector<tree::Node*>& nodes);
  Digest digest_and_store(tree::Node& n, int fd);
  void stop();

  tree::Tree& tree_;
  int root_fd_;
  store::ObjectStore* store_;
  Progress* progress_;
  HashAlgorithm algorithm_;
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<tree::Node*> queue_;
  bool closed_ = false;
  std::atomic<bool> failed_{false};
  std::exception_ptr first_error_;
  std::vector<std::thread> workers_;
  std::atomic<std::uint64_t> found_{0}, missed_{0};  // objects the store had / lacked
  std::function<void(tree::Node&)> after_probe_for_test_;
};

}  // namespace cfs::fsbuild
