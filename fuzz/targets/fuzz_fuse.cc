// Fuzz target: arbitrary bytes as a FUSE session's requests (each as long as its header's
// len says, cut at the input's end) sent to the operations over a small image with inline,
// external, symlink, device and whiteout entries. Every request must be answered or refused:
// a crash, hang or sanitizer report is a bug.
#include <sys/mman.h>
#include <unistd.h>

#include <linux/fuse.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "base/error.h"
#include "dump/parse.h"
#include "fuse/operations.h"
#include "reader/image.h"
#include "verity/fsverity.h"
#include "writer/writer.h"

namespace {

using namespace cfs;

const std::string kObject = "the one external object";

class DiscardingChannel final : public fuse::Channel {
 public:
  void reply(std::uint64_t, int, const void* data, std::size_t size) override {
    if (size > 0 && data == nullptr) abort();
  }
  int open_backing(int) override { return 5; }
  void close_backing(int id) override {
    if (id != 5) abort();
  }
};

// Serves kObject as an in-memory file to whatever asks with its size.
class MemorySource final : public store::ObjectSource {
 public:
  store::OpenedObject open(const store::ObjectRef& ref) const override {
    if (ref.size != kObject.size()) throw Error(ENOENT, "No such file or directory");
    UniqueFd fd(::memfd_create("object", MFD_CLOEXEC));
    if (!fd || ::pwrite(fd.get(), kObject.data(), kObject.size(), 0) != static_cast<ssize_t>(kObject.size())) {
      throw Error(EIO, "memfd");
    }
    return {std::move(fd), false};
  }
};

const reader::Image& image() {
  static const std::vector<std::byte> bytes = [] {
    Digest d = verity::digest_of(std::as_bytes(std::span(kObject)));
    std::string dump =
        "/ 4096 40755 3 0 0 0 0.0 - - - user.a=1 security.selinux=x\n"
        "/d 4096 40755 2 0 0 0 0.0 - - - system.posix_acl_access=0sAgAAAAEABgD/////BAAEAP////8QAAQA/////yAABAD/////\n"
        "/d/i 6 100644 1 0 0 0 0.0 - hello\\n - trusted.overlay.x=y\n"
        "/d/w 0 20000 1 0 0 0 0.0 - - -\n"
        "/d/c 0 20644 1 0 0 1025 0.0 - - -\n"
        "/e " + std::to_string(kObject.size()) + " 100644 1 0 0 0 0.0 " + object_path(d) + " - " + to_hex(d) + "\n"
        "/n 9 100644 1 0 0 0 0.0 ab/none - -\n"
        "/l 1 120777 1 0 0 0 0.0 d - -\n";
    return writer::write_to_vector(dump::parse(dump));
  }();
  static const reader::Image img = reader::Image::open(bytes);
  return img;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static MemorySource objects;
  DiscardingChannel channel;
  fuse::ServerOptions options;
  fuse::ServerStats stats;
  {
    fuse::Operations ops(image(), objects, options, stats, channel);
    std::vector<char> request;  // a copy of its own, so reads past it are caught
    for (std::size_t at = 0, n = 0; at < size && n < 64; ++n) {
      std::uint32_t len = 0;
      if (size - at >= sizeof len) std::memcpy(&len, data + at, sizeof len);
      std::size_t take = len < sizeof(std::uint32_t) ? sizeof(std::uint32_t) : len;
      take = std::min(take, size - at);
      request.assign(data + at, data + at + take);
      ops.handle(request.data(), request.size());
      at += take;
    }
  }  // the destructor finishes late replies and gives back the backing ids
  return 0;
}
