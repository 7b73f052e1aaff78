// composefs-info: ls, dump, objects, missing-objects, measure-file (docs/man/composefs-info.1.md).
#include "composefs-info/composefs-info.h"

#include <fcntl.h>
#include <getopt.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/error.h"
#include "common/cli.h"
#include "common/image_file.h"
#include "dump/escape.h"
#include "dump/print.h"
#include "format/composefs.h"
#include "reader/walk.h"
#include "store/beneath.h"
#include "verity/measure.h"

namespace cfs::tools {
namespace {

constexpr const char* kProg = "composefs-info";

int usage(const char* argv0, const char* message, int code = 1) {
  if (message != nullptr) cli::error(kProg, message);
  write_all(STDERR_FILENO,
            std::string("usage: ") + argv0 +
                " [--basedir=path] [--filter=name]... "
                "[ls|objects|dump|missing-objects|measure-file] IMAGES...\n");
  return code;
}

// Buffered stdout for listings that can be large. A failed write is reported once and ends
// the output (failed()).
class Out {
 public:
  ~Out() { flush(); }
  void add(std::string_view s) {
    if (failed_) return;
    buf_ += s;
    if (buf_.size() > (1 << 16)) flush();
  }
  void flush() {
    if (!failed_ && !buf_.empty()) failed_ = !cli::print_out(kProg, buf_);
    buf_.clear();
  }
  bool failed() const { return failed_; }

 private:
  std::string buf_;
  bool failed_ = false;
};

void list_entry(const reader::WalkEntry& e, Out& out) {
  if (e.depth == 0) return;  // the root itself is not listed
  std::string line;
  dump::append_escaped(line, e.path, dump::EscapeMode::kSpaceRaw);
  if (e.primary == nullptr) {
    const tree::Node& inode = e.inode;
    if (inode.is_dir()) {
      line += "/\t";
    } else if (inode.type() == S_IFLNK) {
      line += "\t-> ";
      dump::append_escaped(line, inode.payload, dump::EscapeMode::kField);
    } else if (inode.type() == S_IFREG && !inode.payload.empty()) {
      line += "\t@ ";
      dump::append_escaped(line, inode.payload, dump::EscapeMode::kField);
    }
  }
  line += '\n';
  out.add(line);
}

int measure_files(int argc, char** argv, int first) {
  if (first >= argc) return usage(argv[0], "No files specified");
  for (int i = first; i < argc; ++i) {
    UniqueFd fd;
    try {
      fd = open_read(argv[i]);
    } catch (const Error& e) {
      cli::error(kProg, std::string("Failed to open '") + argv[i] + "': " + e.what());
      return 1;
    }
    Digest digest;
    try {
      digest = verity::measure_fd(fd.get());
    } catch (const Error& e) {
      cli::error(kProg, std::string("failed to measure '") + argv[i] + "': " + e.what());
      return 1;
    }
    if (!cli::print_out(kProg, to_hex(digest) + "\n")) return 1;
  }
  return 0;
}

}  // namespace

int composefs_info_main(int argc, char** argv) {
  static const option kOptions[] = {{"basedir", required_argument, nullptr, 'b'},
                                    {"filter", required_argument, nullptr, 'f'},
                                    {"help", no_argument, nullptr, 'h'},
                                    {"version", no_argument, nullptr, 'V'},
                                    {nullptr, 0, nullptr, 0}};
  std::vector<std::string> basedirs;
  reader::WalkOptions walk_options;
  optind = 0;
  for (int c; (c = getopt_long(argc, argv, "", kOptions, nullptr)) != -1;) {
    switch (c) {
      case 'b': {
        auto dirs = cli::split_basedirs(optarg);
        if (!dirs) {
          cli::error(kProg, "Value for basedir option has incorrect format");
          return 1;
        }
        basedirs.insert(basedirs.end(), dirs->begin(), dirs->end());
        break;
      }
      case 'f':
        if (std::string_view(optarg).find('/') != std::string_view::npos) {
          cli::error(kProg, std::string("Filter must be a single name: ") + optarg);
          return 1;
        }
        walk_options.filters.emplace_back(optarg);
        break;
      case 'h': return usage(argv[0], nullptr, 0);
      case 'V':
        return cli::print_out(kProg, std::string("composefs-info ") + cli::kVersion + "\n") ? 0 : 1;
      default: return usage(argv[0], nullptr);
    }
  }
  if (optind >= argc) return usage(argv[0], "No command specified");
  std::string command = argv[optind++];
  if (command == "measure-file") return measure_files(argc, argv, optind);
  if (command != "ls" && command != "dump" && command != "objects" && command != "missing-objects") {
    cli::error(kProg, "Unknown command '" + command + "'");
    return 1;
  }
  if (optind >= argc) return usage(argv[0], "No image path specified");

  std::vector<UniqueFd> basedir_fds;
  for (const std::string& dir : basedirs) {
    UniqueFd fd(::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!fd) {
      cli::error(kProg, "Can't open basedir `" + dir + "': " + std::strerror(errno));
      return 1;
    }
    basedir_fds.push_back(std::move(fd));
  }

  Out out;
  std::set<std::string> objects;
  std::string line;
  auto visit = [&](const reader::WalkEntry& e) {
    if (command == "ls") {
      list_entry(e, out);
    } else if (command == "dump") {
      line.clear();
      dump::append_line(line, e.path, e.inode, e.primary);
      out.add(line);
    } else if (e.primary == nullptr && e.inode.type() == S_IFREG && !e.inode.payload.empty()) {
      objects.emplace(e.inode.payload);
    }
  };
  for (int i = optind; i < argc; ++i) {
    std::string path = argv[i];
    try {
      auto img = cli::open_image(path);
      try {
        reader::walk(img.image, walk_options, visit);  // checks the whole image before visiting
      } catch (const Error& e) {
        throw cli::load_error(path, e);
      }
    } catch (const Error& e) {
      out.flush();
      cli::error(kProg, e.what());
      return 1;
    }
  }
  // An object is there when a basedir holds it as the kernel would find it (beneath the
  // directory, no symlinks, a regular file).
  auto present = [&](const std::string& obj) {
    std::optional<std::string_view> name = format::redirect_object(obj);
    for (const UniqueFd& dir : basedir_fds) {
      if (name && store::has_regular_beneath(dir.get(), *name)) return true;
    }
    return false;
  };
  bool missing = false;
  try {
    for (const std::string& obj : objects) {
      if (command == "missing-objects") {
        if (present(obj)) continue;
        missing = true;
      }
      out.add(obj);
      out.add("\n");
    }
  } catch (const Error& e) {
    out.flush();
    cli::error(kProg, e.what());
    return 1;
  }
  out.flush();
  return out.failed() || missing ? 1 : 0;
}

}  // namespace cfs::tools
