#include "common/image_file.h"

namespace cfs::cli {

ImageFile open_image(const std::string& path, std::string& stage) {
  stage = "open";
  UniqueFd fd = open_read(path);
  MappedFile map = MappedFile::open(fd.get());
  stage = "load";
  reader::Image image = reader::Image::open(map.bytes());
  return {std::move(map), image};
}

}  // namespace cfs::cli
