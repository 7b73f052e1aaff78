// Fuzz target: arbitrary bytes as an image. Rejection is fine; a crash, hang or sanitizer
// report is a bug. Whatever loads must also dump and re-write.
#include <cstddef>
#include <cstdint>
#include <span>

#include "base/error.h"
#include "dump/print.h"
#include "reader/image.h"
#include "reader/to_tree.h"
#include "writer/writer.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    auto img = cfs::reader::Image::open(std::as_bytes(std::span(data, size)));
    auto root = img.inode(img.root_nid());
    img.lookup(root, "a");
    auto tree = cfs::reader::to_tree(img);
    cfs::dump::print(tree, [](std::string_view) {});
    cfs::writer::write(tree, {}, [](std::span<const std::byte>) {});
  } catch (const cfs::Error&) {
  }
  return 0;
}
