#include "reader/objects.h"

#include <sys/stat.h>

#include "reader/walk.h"

namespace cfs::reader {

std::set<std::string> object_paths(const Image& image) {
  std::set<std::string> paths;
  walk(image, {}, [&](const WalkEntry& e) {
    const tree::Node& n = e.inode;
    if (n.type() == S_IFREG && n.content.empty() && !n.payload.empty()) paths.emplace(n.payload);
  });
  return paths;
}

}  // namespace cfs::reader
