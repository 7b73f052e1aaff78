// Fuzz target: arbitrary bytes as an image. Rejection is fine; a crash, hang or sanitizer
// report is a bug. walk() must visit nothing before rejecting, and what it visits must print
// as the loaded tree does. Whatever loads must also dump and re-write.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <span>
#include <string>

#include "base/error.h"
#include "dump/print.h"
#include "reader/image.h"
#include "reader/to_tree.h"
#include "reader/walk.h"
#include "writer/writer.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::optional<cfs::reader::Image> img;
  std::string streamed;
  try {
    img.emplace(cfs::reader::Image::open(std::as_bytes(std::span(data, size))));
    img->lookup(img->inode(img->root_nid()), "a");
    cfs::reader::walk(*img, {}, [&](const cfs::reader::WalkEntry& e) {
      cfs::dump::append_line(streamed, e.path, e.inode, e.primary);
    });
  } catch (const cfs::Error&) {
    if (!streamed.empty()) abort();  // visited, then rejected
    return 0;
  }
  try {
    auto tree = cfs::reader::to_tree(*img);  // must load, as walk() accepted it
    if (cfs::dump::print_to_string(tree) != streamed) abort();
    cfs::writer::write(tree, {}, [](std::span<const std::byte>) {});
  } catch (const cfs::Error& e) {
    if (e.code() == EUCLEAN) abort();  // the writer may refuse it; the reader may not
  }
  return 0;
}
