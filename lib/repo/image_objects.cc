#include "repo/image_objects.h"

#include <sys/stat.h>

#include "base/file_io.h"
#include "format/composefs.h"
#include "reader/image.h"
#include "reader/walk.h"

namespace cfs::repo {

std::set<std::string> image_object_paths(int image_fd) {
  MappedFile file = MappedFile::open(image_fd);
  reader::Image image = reader::Image::open(file.bytes());
  std::set<std::string> paths;
  reader::walk(image, {}, [&](const reader::WalkEntry& e) {
    const tree::Node& n = e.inode;
    if (n.type() == S_IFREG && n.content.empty() && !n.payload.empty()) paths.emplace(n.payload);
  });
  return paths;
}

}  // namespace cfs::repo
