#include "fuse/server.h"

#include <linux/fuse.h>

#include <cerrno>
#include <thread>
#include <vector>

#include "fuse/channel.h"
#include "fuse/operations.h"

namespace cfs::fuse {
namespace {
constexpr std::size_t kBufferSize = (1 << 20) + 4096;  // max_write and a header
}

void serve(int fuse_fd, const reader::Image& image, const store::ObjectSource& objects,
           const ServerOptions& options, ServerStats& stats) {
  DevFuseChannel channel(fuse_fd);
  Operations operations(image, objects, options, stats, channel);
  auto worker = [&] {
    std::vector<char> buf(kBufferSize);
    while (!operations.destroyed()) {
      ssize_t n = channel.read_request(buf);
      if (n < 0) {
        if (errno == EINTR || errno == ENOENT) continue;
        break;  // ENODEV: unmounted
      }
      operations.handle(buf.data(), static_cast<std::size_t>(n));
    }
    channel.stop();
  };
  std::vector<std::thread> workers;
  for (unsigned i = 1; i < std::max(1U, options.threads); ++i) workers.emplace_back(worker);
  worker();
  for (auto& w : workers) w.join();
}

}  // namespace cfs::fuse
