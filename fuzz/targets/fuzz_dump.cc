// Fuzz target: arbitrary bytes as a dump file. If it parses, it must write, read back and
// print without error.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "base/error.h"
#include "dump/parse.h"
#include "dump/print.h"
#include "reader/image.h"
#include "reader/to_tree.h"
#include "writer/writer.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  cfs::tree::Tree tree;
  try {
    tree = cfs::dump::parse({reinterpret_cast<const char*>(data), size}, {.strict = size % 2 == 0});
  } catch (const cfs::Error&) {
    return 0;
  }
  std::vector<std::byte> image;
  try {
    image = cfs::writer::write_to_vector(tree);
  } catch (const cfs::Error& e) {
    // The writer may refuse what the parser accepts only for these upstream reasons.
    if (e.code() != EFBIG && e.code() != ERANGE && e.code() != ELOOP && e.code() != EINVAL) abort();
    return 0;
  }
  auto img = cfs::reader::Image::open(image);  // must not throw: our own output
  cfs::dump::print(cfs::reader::to_tree(img), [](std::string_view) {});
  return 0;
}
