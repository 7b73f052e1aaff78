// Open file and directory handles, named to the kernel by small numbers (FUSE's fh) instead
// of pointers: a handle the table does not hold is refused, never dereferenced. Layer: fuse.
// Thread-safe; a handle stays alive while a request uses it, even if released meanwhile.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <unordered_map>
#include <vector>

namespace cfs::fuse {

template <class T>
class HandleTable {
 public:
  std::uint64_t add(std::shared_ptr<T> handle) {
    std::unique_lock lock(mutex_);
    std::uint64_t fh = next_++;
    handles_.emplace(fh, std::move(handle));
    return fh;
  }
  // nullptr when `fh` names nothing.
  std::shared_ptr<T> find(std::uint64_t fh) const {
    std::shared_lock lock(mutex_);
    auto it = handles_.find(fh);
    return it == handles_.end() ? nullptr : it->second;
  }
  std::shared_ptr<T> remove(std::uint64_t fh) {
    std::unique_lock lock(mutex_);
    auto it = handles_.find(fh);
    if (it == handles_.end()) return nullptr;
    std::shared_ptr<T> h = std::move(it->second);
    handles_.erase(it);
    return h;
  }
  std::vector<std::shared_ptr<T>> remove_all() {
    std::unique_lock lock(mutex_);
    std::vector<std::shared_ptr<T>> all;
    for (auto& [fh, h] : handles_) all.push_back(std::move(h));
    handles_.clear();
    return all;
  }
  std::size_t size() const {
    std::shared_lock lock(mutex_);
    return handles_.size();
  }

 private:
  mutable std::shared_mutex mutex_;
  std::uint64_t next_ = 1;  // 0 is what a kernel sends when it has no handle
  std::unordered_map<std::uint64_t, std::shared_ptr<T>> handles_;
};

}  // namespace cfs::fuse
