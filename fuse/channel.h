// The kernel end of a FUSE session as the filesystem operations see it: replies addressed by
// a request's unique, and backing files registered for passthrough. DevFuseChannel is the
// real one over /dev/fuse; tests give the operations one of their own. Layer: fuse.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace cfs::fuse {

class Channel {
 public:
  virtual ~Channel() = default;
  // Answers request `unique`: `error` 0 with `size` bytes of `data`, else a positive errno
  // (the data then unused). Thread-safe.
  virtual void reply(std::uint64_t unique, int error, const void* data, std::size_t size) = 0;
  // Registers `fd` as a backing file: its id (> 0), or a negative errno where passthrough is
  // not allowed.
  virtual int open_backing(int fd) = 0;
  virtual void close_backing(int id) = 0;
};

class DevFuseChannel final : public Channel {
 public:
  explicit DevFuseChannel(int fd);  // a mounted /dev/fuse, borrowed
  // The next request into `buf`: its length, or -1 with errno (ENODEV: unmounted; EINTR,
  // ENOENT: try again). Several threads may wait at once.
  ssize_t read_request(std::vector<char>& buf);
  void stop() { stopping_ = true; }  // readers stop spinning; the unmount wakes them
  // Whether a reader polls for a while after a request (on by default); off when io_uring
  // carries the requests and /dev/fuse only the odd FORGET.
  void set_spinning(bool on) { spinning_ = on; }

  void reply(std::uint64_t unique, int error, const void* data, std::size_t size) override;
  int open_backing(int fd) override;
  void close_backing(int id) override;

 private:
  int fd_;
  std::atomic<bool> spinner_{false};
  std::atomic<bool> stopping_{false};
  std::atomic<bool> spinning_{true};
};

}  // namespace cfs::fuse
