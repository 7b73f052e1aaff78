// FUSE over io_uring (Linux 6.14+, fuse.enable_uring=1): one queue per CPU, each an io_uring
// of its own whose entries (a header and a payload buffer each) the kernel fills with the
// requests made on that CPU. A request is answered through the entry it came in, by the
// COMMIT_AND_FETCH command that also takes the entry's next request: no read or write system
// call per request, and the queue's thread runs on the CPU of the callers it serves.
// FORGET and INTERRUPT still come through /dev/fuse, as does FUSE_INIT; requests answered
// through neither way (FUSE_INIT, interrupts) are written to /dev/fuse. Layer: fuse.
// Thread-safety: reply() from any thread; start() and stop() from one.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "fuse/channel.h"

namespace cfs::fuse {

// Why FUSE over io_uring cannot be used here (built without liburing, a kernel without it,
// fuse.enable_uring off, io_uring refused), or nullopt when it can.
std::optional<std::string> uring_unavailable();

class UringChannel final : public Channel {
 public:
  using Handler = std::function<void(const char* request, std::size_t size)>;
  using Failed = std::function<void(const std::string& why)>;

  // Sets up the queues (rings and buffers) for the session of `dev` (borrowed, and its
  // `fuse_fd`), before FUSE_INIT; `max_payload`: the largest request or reply argument the
  // INIT answer allows. Throws Error with the reason where io_uring cannot be had.
  UringChannel(DevFuseChannel& dev, int fuse_fd, std::size_t max_payload);
  ~UringChannel() override;  // stops the queues

  // After the FUSE_INIT answer that agreed on io_uring: registers every entry and serves each
  // queue's requests through `handler` on a thread of its own. `failed` hears why a queue gave
  // up (the kernel refused its registration, and then sends everything through /dev/fuse).
  void start(Handler handler, Failed failed);
  // Ends the queue threads (the session is over) and joins them.
  void stop();
  bool started() const;
  std::size_t queue_count() const;
  std::uint64_t requests() const;  // served through the queues so far

  void reply(std::uint64_t unique, int error, const void* data, std::size_t size) override;
  int open_backing(int fd) override { return dev_.open_backing(fd); }
  void close_backing(int id) override { dev_.close_backing(id); }

 private:
  class Rings;
  DevFuseChannel& dev_;
  std::unique_ptr<Rings> rings_;
};

}  // namespace cfs::fuse
