// composefs-dump SRC-IMAGE DEST-IMAGE: re-serialise an image through the tree, as upstream's tool.
#include "composefs-dump/composefs-dump.h"

#include <getopt.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "base/error.h"
#include "base/output_file.h"
#include "common/cli.h"
#include "common/image_file.h"
#include "reader/to_tree.h"
#include "writer/writer.h"

namespace cfs::tools {
namespace {

constexpr const char* kProg = "composefs-dump";

int usage(const char* argv0, const char* message, int code = 1) {
  if (message != nullptr) cli::error(kProg, message);
  write_all(STDERR_FILENO, std::string("usage: ") + argv0 + " SRC DEST\n");
  return code;
}

}  // namespace

int composefs_dump_main(int argc, char** argv) {
  static const option kOptions[] = {{"help", no_argument, nullptr, 'h'},
                                    {"version", no_argument, nullptr, 'V'},
                                    {nullptr, 0, nullptr, 0}};
  optind = 0;
  for (int c; (c = getopt_long(argc, argv, "", kOptions, nullptr)) != -1;) {
    if (c == 'h') return usage(argv[0], nullptr, 0);
    if (c == 'V') {
      return cli::print_out(kProg, std::string("composefs-dump ") + cli::kVersion + "\n") ? 0 : 1;
    }
    return usage(argv[0], nullptr);
  }
  if (optind >= argc) return usage(argv[0], "No source path specified");
  std::string src = argv[optind++];
  if (optind >= argc) return usage(argv[0], "No destination path specified");
  std::string dest = argv[optind++];

  tree::Tree tree;
  std::uint32_t version = 0;
  try {
    auto img = cli::open_image(src);
    version = img.image.composefs_version();
    try {
      tree = reader::to_tree(img.image);
    } catch (const Error& e) {
      throw cli::load_error(src, e);
    }
  } catch (const Error& e) {
    cli::error(kProg, e.what());
    return 1;
  }
  try {
    OutputFile out(dest);
    try {
      writer::write(tree, writer::Options::exactly(version),
                    [&](std::span<const std::byte> chunk) { out.write(chunk); });
    } catch (const Error& e) {
      cli::error(kProg, std::string("cannot write file: ") + std::strerror(e.code()));
      return 1;
    }
    out.commit();
  } catch (const Error& e) {
    cli::error(kProg, "failed to open '" + dest + "': " + e.what());
    return 1;
  }
  return 0;
}

}  // namespace cfs::tools
