// Fuzz target: arbitrary bytes as a dump file. Fed in three pieces it must give the same
// tree or error as whole. If it parses, it must write, read back and print without error.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "base/error.h"
#include "dump/parse.h"
#include "dump/print.h"
#include "reader/image.h"
#include "reader/to_tree.h"
#include "writer/writer.h"

namespace {

// The tree printed, or the error.
std::string outcome(std::string_view text, std::size_t pieces, cfs::tree::Tree* tree_out) {
  try {
    cfs::dump::StreamParser parser({.strict = text.size() % 2 == 0});
    for (std::size_t i = 0, start = 0; i < pieces; ++i) {
      std::size_t end = text.size() * (i + 1) / pieces;
      parser.feed(text.substr(start, end - start));
      start = end;
    }
    cfs::tree::Tree tree = parser.finish();
    if (tree_out == nullptr) return cfs::dump::print_to_string(tree);
    *tree_out = std::move(tree);  // kept even if printing fails (a hard-link loop)
    return cfs::dump::print_to_string(*tree_out);
  } catch (const cfs::Error& e) {
    return std::string("error: ") + e.what();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  cfs::tree::Tree tree;
  std::string whole = outcome(text, 1, &tree);
  if (outcome(text, 3, nullptr) != whole) abort();
  if (tree.root() == nullptr) return 0;
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
