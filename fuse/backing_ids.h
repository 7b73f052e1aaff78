// The backing files the kernel holds for passthrough opens. The kernel takes one backing
// file per inode (a second, different one makes that open fail with EIO), so every open of
// an inode shares one id. After the last release an id is kept for a while: reopening a
// recently used file then costs neither an object lookup nor two ioctls, only a stat to see
// that the object is unchanged. That stat needs the object open: at most `keep` ids hold
// their object's fd (and only those are kept idle), so the descriptors held stay bounded
// however many files are open. Layer: fuse. Thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <mutex>
#include <optional>
#include <unordered_map>

#include "base/digest.h"
#include "base/unique_fd.h"
#include "fuse/channel.h"

namespace cfs::fuse {

class BackingIds {
 public:
  // Is the object open as `fd` still the one verified against `digest` (none: nothing to check)?
  using StillValid = std::function<bool(int fd, const std::optional<Digest>& digest)>;

  // Holds at most `keep` object fds, and so keeps at most `keep` idle ids; a new id takes the
  // fd budget of the oldest idle one.
  BackingIds(Channel& channel, std::size_t keep) : channel_(channel), keep_(keep) {}

  // One more open of `nid` on the id already held for it, if `still_valid` says its object is
  // unchanged (an id whose fd was not kept is in use, and shared unchecked, as the kernel
  // would share it anyway); 0 when there is none (an idle one that changed is given back).
  int share(std::uint64_t nid, const StillValid& still_valid);
  // Registers `fd`, verified against `digest`, for `nid`, taking it: the id (> 0), or -errno
  // where the kernel refuses (`fd` is then left alone). Shares the id another open
  // registered meanwhile.
  int acquire(std::uint64_t nid, UniqueFd& fd, const std::optional<Digest>& digest);
  // One open of `nid` ended.
  void release(std::uint64_t nid);
  // Gives every id back (the session ends).
  void close_all();

  std::size_t held() const;  // ids held, in use or idle (tests)

 private:
  struct Entry {
    int id;
    unsigned opens;
    UniqueFd fd;                   // the object, for the unchanged check (within the budget)
    std::optional<Digest> digest;  // what it was verified against
    std::list<std::uint64_t>::iterator idle;  // its place among the idle, when opens == 0
  };
  using Entries = std::unordered_map<std::uint64_t, Entry>;
  void forget(Entries::iterator it);  // gives an idle one back

  Channel& channel_;
  const std::size_t keep_;
  std::size_t fds_held_ = 0;
  mutable std::mutex mutex_;
  Entries entries_;                 // by nid
  std::list<std::uint64_t> idle_;                     // oldest first
};

}  // namespace cfs::fuse
