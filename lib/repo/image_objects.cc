#include "repo/image_objects.h"

#include "base/file_io.h"
#include "reader/objects.h"

namespace cfs::repo {

std::set<std::string> image_object_paths(int image_fd) {
  MappedFile file = MappedFile::open(image_fd);
  return reader::object_paths(reader::Image::open(file.bytes()));
}

}  // namespace cfs::repo
