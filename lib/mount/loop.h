// Attaching a file to a free loop device, read-only, 4096-byte blocks, autoclear (the device
// frees itself when its last user, the EROFS mount, goes away). Layer: mount.
#pragma once

#include <string>

#include "base/unique_fd.h"

namespace cfs::mount {

struct LoopDevice {
  UniqueFd fd;       // close after mounting: autoclear then ties its life to the mount
  std::string path;  // /dev/loopN
};

LoopDevice attach_loop(int backing_fd);

}  // namespace cfs::mount
