// An image file opened for reading: the mapping and the checked reader over it, together so
// that the mapping outlives the reader. Layer: tools.
#pragma once

#include <string>

#include "base/file_io.h"
#include "reader/image.h"

namespace cfs::cli {

struct ImageFile {
  MappedFile map;
  reader::Image image;
};

// Throws Error; `stage` tells whether opening ("open") or checking ("load") failed.
ImageFile open_image(const std::string& path, std::string& stage);

}  // namespace cfs::cli
