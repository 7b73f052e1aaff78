#include "fuse/backing_ids.h"

namespace cfs::fuse {

int BackingIds::share(std::uint64_t nid, const StillValid& still_valid) {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(nid);
  if (it == entries_.end()) return 0;
  Entry& e = it->second;
  if (e.fd && !still_valid(e.fd.get(), e.digest)) {
    if (e.opens == 0) forget(it);
    return 0;
  }
  if (e.opens++ == 0) idle_.erase(e.idle);
  return e.id;
}

int BackingIds::acquire(std::uint64_t nid, UniqueFd& fd, const std::optional<Digest>& digest) {
  std::lock_guard lock(mutex_);
  if (auto it = entries_.find(nid); it != entries_.end()) {
    if (it->second.opens++ == 0) idle_.erase(it->second.idle);
    return it->second.id;
  }
  int id = channel_.open_backing(fd.get());
  if (id <= 0) return id;
  UniqueFd kept;
  if (fds_held_ == keep_ && !idle_.empty()) forget(entries_.find(idle_.front()));  // the oldest idle
  if (fds_held_ < keep_) {
    kept = std::move(fd);
    ++fds_held_;
  }
  fd.reset();  // the kernel holds the file now
  entries_.emplace(nid, Entry{id, 1, std::move(kept), digest, {}});
  return id;
}

void BackingIds::release(std::uint64_t nid) {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(nid);
  if (it == entries_.end() || --it->second.opens > 0) return;
  it->second.idle = idle_.insert(idle_.end(), nid);
  if (!it->second.fd) forget(it);  // it could not be checked when reused
}

void BackingIds::forget(Entries::iterator it) {
  channel_.close_backing(it->second.id);
  if (it->second.fd) --fds_held_;
  idle_.erase(it->second.idle);
  entries_.erase(it);
}

void BackingIds::close_all() {
  std::lock_guard lock(mutex_);
  for (auto& [nid, e] : entries_) channel_.close_backing(e.id);
  entries_.clear();
  idle_.clear();
  fds_held_ = 0;
}

std::size_t BackingIds::held() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

}  // namespace cfs::fuse
