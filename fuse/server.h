// The composefs FUSE server: speaks the FUSE protocol on /dev/fuse directly (Debian 12's
// libfuse 3.14 cannot express passthrough), serving one image through the shared reader.
// Layer: fuse. Ownership: borrows the Image and the ObjectSource, which must outlive it.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>

#include "reader/image.h"
#include "store/object_source.h"

namespace cfs::fuse {

enum class VerityMode { kOff, kOn, kRequire };
// FUSE over io_uring: auto where the kernel offers it (Linux 6.14+, fuse.enable_uring=1), on
// or nothing (serve() throws where it cannot be had), off: requests are read from /dev/fuse.
enum class UringMode { kOff, kAuto, kOn };

struct ServerOptions {
  VerityMode verity = VerityMode::kOn;  // on: check every object whose digest is recorded
  bool acl = true;                      // expose POSIX ACLs (when the image has any)
  bool passthrough = true;              // hand backing files to the kernel where allowed
  // Opens without a request (FUSE_NO_OPEN_SUPPORT): objects are verified at their first READ
  // and file data stays in this mount's page cache, so a warm open costs what the kernel's
  // does; no passthrough, so the cache is not shared with other mounts of the same objects.
  bool no_open = false;
  unsigned threads = 4;  // reading /dev/fuse (io_uring has a thread per CPU besides)
  UringMode uring = UringMode::kAuto;
  // Opens whose object must first come from a mirror (ObjectSource::may_wait) wait on threads
  // of their own, this many: local opens and verifications never queue behind the network.
  unsigned fetch_threads = 16;
  bool debug = false;                   // log every request
  bool syslog = false;                  // log lines go to syslog, not stderr (a daemon's case)
  // allow_root: the mount lets everyone in (allow_other), and requests from users other
  // than this one and root are answered EACCES (those on an open handle excepted).
  std::optional<std::uint32_t> owner_and_root_only;
  unsigned verify_delay_for_test_ms = 0;  // tests only: every object measurement waits this long
};

struct ServerStats {
  std::atomic<std::uint64_t> opens{0}, passthrough_opens{0}, verify_failures{0};
};

// Serves requests from `fuse_fd` (a mounted /dev/fuse) until the filesystem is unmounted.
// Throws Error before serving anything when uring=on cannot be had.
void serve(int fuse_fd, const reader::Image& image, const store::ObjectSource& objects,
           const ServerOptions& options, ServerStats& stats);

}  // namespace cfs::fuse
