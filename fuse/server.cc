#include "fuse/server.h"

#include <linux/fuse.h>

#include <atomic>
#include <cerrno>
#include <memory>
#include <condition_variable>
#include <mutex>
#include <new>
#include <thread>
#include <vector>

#include "base/error.h"
#include "fuse/channel.h"
#include "fuse/operations.h"
#include "fuse/protocol.h"
#include "fuse/uring_channel.h"

namespace cfs::fuse {
namespace {

constexpr std::size_t kBufferSize = (1 << 20) + 4096;  // max_write and a header

// One thread at a time reads requests (the leader) and handles what it read itself: most
// requests are answered from memory in microseconds, and waking another thread for each (in
// a VM: an idle CPU) costs more than the request. Before handling a request that may wait
// for the disk, the leader hands the reading on to a waiting thread.
class Leadership {
 public:
  void take() {
    std::unique_lock lock(mutex_);
    free_.wait(lock, [&] { return !taken_; });
    taken_ = true;
  }
  void hand_on() {
    {
      std::lock_guard lock(mutex_);
      taken_ = false;
    }
    free_.notify_one();
  }

 private:
  std::mutex mutex_;
  std::condition_variable free_;
  bool taken_ = false;
};

// A data read served from user space (not passthrough, not inline) reads the object.
bool may_wait_for_disk(const char* request, std::size_t size) {
  if (size < sizeof(fuse_in_header)) return false;
  return reinterpret_cast<const fuse_in_header*>(request)->opcode == FUSE_READ;
}

}  // namespace

namespace {

// FUSE over io_uring's queues, set up before FUSE_INIT (which asks for them only where they
// could be); null where uring is off, or auto and the kernel or io_uring says no.
std::unique_ptr<UringChannel> make_rings(DevFuseChannel& dev, int fuse_fd, ServerOptions& options) {
  if (options.uring == UringMode::kOff) return nullptr;
  try {
    return std::make_unique<UringChannel>(dev, fuse_fd, kMaxWrite);
  } catch (const Error& e) {
    if (options.uring == UringMode::kOn) throw e.wrap("uring=on");
    options.uring = UringMode::kOff;
    return nullptr;
  }
}

}  // namespace

void serve(int fuse_fd, const reader::Image& image, const store::ObjectSource& objects,
           const ServerOptions& given, ServerStats& stats) {
  ServerOptions options = given;
  DevFuseChannel dev(fuse_fd);
  std::unique_ptr<UringChannel> rings = make_rings(dev, fuse_fd, options);  // outlives the operations
  Channel& channel = rings ? static_cast<Channel&>(*rings) : dev;
  Operations operations(image, objects, options, stats, channel);
  // Once FUSE_INIT agreed on io_uring (its answer is written: the kernel now waits for every
  // queue to be registered), the queues' threads take the requests.
  std::atomic<bool> rings_started{false};
  std::mutex start_mutex;
  auto start_rings = [&] {
    if (!rings || rings_started || !operations.over_uring()) return;
    std::lock_guard lock(start_mutex);
    if (rings_started.exchange(true)) return;
    rings->start([&](const char* request, std::size_t size) { operations.handle(request, size); },
                 [&](const std::string& why) { operations.log(why + ": requests come through /dev/fuse"); });
    dev.set_spinning(false);
    if (options.debug) {
      operations.log("FUSE over io_uring: " + std::to_string(rings->queue_count()) + " queues");
    }
  };
  Leadership leadership;
  // Nothing leaves a worker: handle() answers every request, whatever it throws, and a
  // thread without memory for its buffer serves nothing (the others go on).
  auto worker = [&] {
    std::vector<char> buf;
    try {
      buf.resize(kBufferSize);
    } catch (const std::bad_alloc&) {
      return;
    }
    leadership.take();
    while (!operations.destroyed()) {
      ssize_t n = dev.read_request(buf);
      if (n < 0) {
        if (errno == EINTR || errno == ENOENT) continue;
        break;  // ENODEV: unmounted
      }
      auto size = static_cast<std::size_t>(n);
      bool slow = may_wait_for_disk(buf.data(), size);
      if (slow) leadership.hand_on();
      operations.handle(buf.data(), size);
      start_rings();
      if (slow) leadership.take();
    }
    dev.stop();
    leadership.hand_on();  // the others see the end too
  };
  std::vector<std::thread> workers;
  for (unsigned i = 1; i < std::max(1U, options.threads); ++i) workers.emplace_back(worker);
  worker();
  for (auto& w : workers) w.join();
  if (rings) {
    rings->stop();
    if (options.debug) operations.log("requests served over io_uring: " + std::to_string(rings->requests()));
  }
  objects.cancel_waits();  // the opens still waiting for a mirror end before Operations goes
}

}  // namespace cfs::fuse
