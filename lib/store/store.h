// ObjectStore: a content-addressed directory of backing files named "xx/<62 hex>" after their
// fs-verity digest. Objects are published atomically (a private temporary file renamed into
// place), so a valid name never holds a partial object. Layer: store.
// Thread-safety: put() may be called from several threads at once.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "base/digest.h"
#include "base/unique_fd.h"

namespace cfs::store {

class ObjectStore {
 public:
  // Creates the directory if needed.
  explicit ObjectStore(const std::string& path);

  bool contains(const Digest& d) const;
  // Copies `size` bytes of `src_fd` into the store as object `d` unless it is already there:
  // a reflink where the filesystem can, else a copy that keeps holes (a sparse source stays
  // sparse). Mode 0644; fs-verity enabled where supported. The copy is an unnamed file until
  // flush() names it (put() flushes by itself every kBatch objects).
  void put(const Digest& d, int src_fd, std::uint64_t size);
  // Makes every pending object durable with one syncfs(2), then gives each its name: one
  // flush per batch instead of an fsync per object, and still no named partial object.
  void flush();

  static constexpr std::size_t kBatch = 256;

 private:
  struct Pending {
    std::string name;
    UniqueFd fd;
  };
  void flush_locked();

  std::string path_;
  UniqueFd dir_fd_;
  std::mutex mutex_;
  std::vector<Pending> pending_;  // unnamed: dropped (never published) if flush never comes
};

}  // namespace cfs::store
