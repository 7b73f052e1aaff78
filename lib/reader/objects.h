// The backing objects an image names: the "xx/<rest>" path of every external regular file,
// read with our checked reader. One decoder for the repository (gc, fetch) and mounts.
// Layer: reader.
#pragma once

#include <set>
#include <string>

#include "reader/image.h"

namespace cfs::reader {

// Every distinct backing-object path of `image`. Throws Error for an image that does not parse.
std::set<std::string> object_paths(const Image& image);

}  // namespace cfs::reader
