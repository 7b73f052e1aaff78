// An image file opened for reading: the mapping and the checked reader over it, together so
// that the mapping outlives the reader. Layer: tools.
#pragma once

#include <string>

#include "base/error.h"
#include "base/file_io.h"
#include "reader/image.h"

namespace cfs::cli {

struct ImageFile {
  MappedFile map;
  reader::Image image;
};

// Throws Error (its errno kept) with the tools' message: "Failed to open 'PATH': reason" when
// the file cannot be read, else load_error().
ImageFile open_image(const std::string& path);
// A failure reading an opened image (checking, walking, loading it into a tree):
// "Failed to load 'PATH': reason".
Error load_error(const std::string& path, const Error& e);

}  // namespace cfs::cli
