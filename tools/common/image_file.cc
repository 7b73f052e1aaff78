#include "common/image_file.h"

namespace cfs::cli {

ImageFile open_image(const std::string& path) {
  std::optional<MappedFile> map;
  try {
    UniqueFd fd = open_read(path);
    map.emplace(MappedFile::open(fd.get()));
  } catch (const Error& e) {
    throw Error(e.code(), "Failed to open '" + path + "': " + e.what());
  }
  try {
    reader::Image image = reader::Image::open(map->bytes());
    return {std::move(*map), image};
  } catch (const Error& e) {
    throw load_error(path, e);
  }
}

Error load_error(const std::string& path, const Error& e) {
  return Error(e.code(), "Failed to load '" + path + "': " + e.what());
}

}  // namespace cfs::cli
