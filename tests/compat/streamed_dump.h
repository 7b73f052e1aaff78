// The dump as composefs-info prints it: straight from the image, without a tree. For the
// compat tests, which compare it with the dump of the tree the reader builds.
#pragma once

#include <string>

#include "dump/print.h"
#include "reader/image.h"
#include "reader/walk.h"

namespace cfs::test {

inline std::string streamed_dump(const reader::Image& img) {
  std::string text;
  reader::walk(img, {}, [&](const reader::WalkEntry& e) {
    dump::append_line(text, e.path, e.inode, e.primary);
  });
  return text;
}

}  // namespace cfs::test
