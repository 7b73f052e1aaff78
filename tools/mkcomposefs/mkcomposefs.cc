// mkcomposefs: build a composefs image from a dump file (--from-file) or a directory.
// Options, messages and exit codes follow upstream 1.0.8 (docs/man/mkcomposefs.1.md).
#include "mkcomposefs/mkcomposefs.h"

#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <chrono>
#include <cstdio>
#include <thread>

#include "base/error.h"
#include "base/file_io.h"
#include "base/output_file.h"
#include "common/cli.h"
#include "common/progress_line.h"
#include "dump/parse.h"
#include "fsbuild/build.h"
#include "store/store.h"
#include "verity/fsverity.h"
#include "writer/writer.h"

namespace cfs::tools {
namespace {

constexpr const char* kProg = "mkcomposefs";

void usage(const char* argv0) {
  std::string text = std::string("usage: ") + argv0 +
                     " [OPTIONS] SOURCE IMAGE\n"
                     "       " + argv0 + " [OPTIONS] --print-digest-only SOURCE\n"
                     "\n"
                     "SOURCE is a directory, or with --from-file a composefs-dump(5) file ('-' for\n"
                     "stdin). IMAGE is the image to write ('-' for stdout).\n"
                     "\n"
                     "Options:\n"
                     "  --from-file             SOURCE is a dump file\n"
                     "  --print-digest          print the image's fs-verity digest\n"
                     "  --print-digest-only     print the digest, write no image\n"
                     "  --min-version=N         lowest format version to use (0 or 1; default 0)\n"
                     "  --max-version=N         highest format version to use (default 1)\n"
                     "  --version[=N]           print the program version; with N: format version N\n"
                     "  --digest-store=PATH     copy file contents into the object store PATH\n"
                     "  --use-epoch             set all mtimes to 0\n"
                     "  --skip-devices          leave out device nodes\n"
                     "  --skip-xattrs           read no xattrs\n"
                     "  --user-xattrs           read only user.* xattrs\n"
                     "  --threads=N             worker threads (default: all CPUs)\n"
                     "  --hardlinks             keep hard links of SOURCEDIR as hard links\n"
                     "  --help                  this text\n";
  write_all(STDERR_FILENO, text);
}

int usage_error(const char* argv0, const char* message) {
  if (message != nullptr) cli::error(kProg, message);
  usage(argv0);
  return 1;
}

std::optional<std::uint32_t> parse_version(const char* s) {
  char* end = nullptr;
  errno = 0;
  long v = std::strtol(s, &end, 10);
  if (errno != 0 || end == s || *end != '\0' || v < 0 || v > UINT32_MAX) return std::nullopt;
  return static_cast<std::uint32_t>(v);
}

struct Args {
  bool from_file = false;
  bool print_digest = false;
  bool print_digest_only = false;
  std::optional<std::uint32_t> min_version, max_version;
  std::string digest_store;
  fsbuild::ScanOptions scan;
  unsigned threads = std::max(1U, std::thread::hardware_concurrency());
  std::string source, image;
};

// Parses the dump as it is read, a piece at a time: the whole text is never in memory.
int tree_from_dump(const Args& args, tree::Tree& tree) {
  UniqueFd file;
  try {
    if (args.source != "-") file = open_read(args.source);
  } catch (const Error& e) {
    cli::error(kProg, "open `" + args.source + "`: " + e.what());
    return 1;
  }
  int fd = file ? file.get() : STDIN_FILENO;
  dump::ParseOptions popts;
  popts.strict = std::getenv("CFS_PARSE_STRICT") != nullptr;
  try {
    dump::StreamParser parser(popts);
    std::vector<std::byte> piece(256 << 10);
    for (;;) {
      std::size_t n = 0;
      try {
        n = read_some(fd, piece);
      } catch (const Error& e) {
        cli::error(kProg, "read `" + args.source + "`: " + e.what());
        return 1;
      }
      if (n == 0) break;
      parser.feed({reinterpret_cast<const char*>(piece.data()), n});
    }
    tree = parser.finish();
  } catch (const Error& e) {
    cli::error(kProg, e.what());
    return 1;
  }
  return 0;
}

// Builds the tree of the source directory (fsbuild::build), in upstream's words on failure.
int tree_from_directory(const Args& args, tree::Tree& tree) {
  // Upstream looks at the path first: a source that is not a directory is reported as the
  // failure to write, and must not create the store.
  struct stat st {};
  if (::lstat(args.source.c_str(), &st) != 0) {
    cli::error(kProg, "error accessing " + args.source + ": " + std::strerror(errno));
    return 1;
  }
  if (!S_ISDIR(st.st_mode)) {
    cli::error(kProg, "cannot write file: Not a directory");
    return 1;
  }
  UniqueFd dir(::open(args.source.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!dir) {
    cli::error(kProg, "error accessing " + args.source + ": " + std::strerror(errno));
    return 1;
  }
  auto files_failed = [&](const std::string& what) {
    cli::error(kProg, std::string(args.digest_store.empty() ? "error computing digest: " : "cannot fill store: ") + what);
    return 1;
  };
  std::optional<store::ObjectStore> store;
  fsbuild::Progress progress;
  fsbuild::BuildOptions options{args.scan, args.threads, nullptr, &progress};
  try {
    if (!args.digest_store.empty()) options.store = &store.emplace(args.digest_store);
  } catch (const Error& e) {
    return files_failed(e.what());
  }
  cli::ProgressLine line(progress);
  try {
    fsbuild::build(dir.get(), options, tree);
  } catch (const fsbuild::BuildError& e) {
    std::string where = args.source + e.path();
    if (e.step() == fsbuild::BuildError::Step::kScan) {
      cli::error(kProg, "error accessing " + where + ": " + e.reason());
      return 1;
    }
    return files_failed(where + ": " + e.reason());
  } catch (const Error& e) {
    return files_failed(e.what());
  }
  return 0;
}

// On SIGINT/SIGTERM/SIGHUP the half-written image must not survive: remove it, then die of
// the signal as usual. (Objects need nothing: they are unnamed until complete.)
char g_temp_image[4096];

void remove_temp_and_die(int sig) {
  if (g_temp_image[0] != '\0') ::unlink(g_temp_image);
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

void clean_up_on_signals(const std::string& temp_path) {
  if (temp_path.size() >= sizeof g_temp_image) return;
  std::memcpy(g_temp_image, temp_path.c_str(), temp_path.size() + 1);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) ::signal(sig, remove_temp_and_die);
}

enum Opt { kFromFile = 256, kPrintDigest, kPrintDigestOnly, kMinVersion, kMaxVersion, kVersionOpt,
           kDigestStore, kUseEpoch, kSkipDevices, kSkipXattrs, kUserXattrs, kThreads, kHelp, kHardlinks };

}  // namespace

int mkcomposefs_main(int argc, char** argv) {
  static const option kOptions[] = {
      {"from-file", no_argument, nullptr, kFromFile},
      {"print-digest", no_argument, nullptr, kPrintDigest},
      {"print-digest-only", no_argument, nullptr, kPrintDigestOnly},
      {"min-version", required_argument, nullptr, kMinVersion},
      {"max-version", required_argument, nullptr, kMaxVersion},
      {"version", optional_argument, nullptr, kVersionOpt},
      {"digest-store", required_argument, nullptr, kDigestStore},
      {"use-epoch", no_argument, nullptr, kUseEpoch},
      {"skip-devices", no_argument, nullptr, kSkipDevices},
      {"skip-xattrs", no_argument, nullptr, kSkipXattrs},
      {"user-xattrs", no_argument, nullptr, kUserXattrs},
      {"threads", required_argument, nullptr, kThreads},
      {"help", no_argument, nullptr, kHelp},
      {"hardlinks", no_argument, nullptr, kHardlinks},
      {nullptr, 0, nullptr, 0}};
  Args args;
  optind = 0;
  for (int c; (c = getopt_long(argc, argv, "", kOptions, nullptr)) != -1;) {
    switch (c) {
      case kFromFile: args.from_file = true; break;
      case kPrintDigest: args.print_digest = true; break;
      case kPrintDigestOnly: args.print_digest = args.print_digest_only = true; break;
      case kMinVersion:
        if (!(args.min_version = parse_version(optarg))) {
          cli::error(kProg, std::string("Invalid min version ") + optarg);
          return 1;
        }
        break;
      case kMaxVersion:
        if (!(args.max_version = parse_version(optarg))) {
          cli::error(kProg, std::string("Invalid max version ") + optarg);
          return 1;
        }
        break;
      case kVersionOpt:
        if (optarg == nullptr) {
          return cli::print_out(kProg, std::string("mkcomposefs ") + cli::kVersion + "\n") ? 0 : 1;
        }
        if (!(args.min_version = args.max_version = parse_version(optarg))) {
          cli::error(kProg, std::string("Invalid version ") + optarg);
          return 1;
        }
        break;
      case kThreads: {
        auto n = parse_version(optarg);
        if (!n || *n < 1) {
          cli::error(kProg, std::string("Invalid threads count ") + optarg);
          return 1;
        }
        args.threads = *n;
        break;
      }
      case kDigestStore: args.digest_store = optarg; break;
      case kUseEpoch: args.scan.use_epoch = true; break;
      case kSkipDevices: args.scan.skip_devices = true; break;
      case kSkipXattrs: args.scan.skip_xattrs = true; break;
      case kUserXattrs: args.scan.user_xattrs = true; break;
      case kHardlinks: args.scan.hardlinks = true; break;
      case kHelp:
        usage(argv[0]);
        return 0;
      default:
        return usage_error(argv[0], nullptr);
    }
  }
  if (optind >= argc) return usage_error(argv[0], "No source path specified");
  args.source = argv[optind++];
  if (args.source.empty()) return usage_error(argv[0], "Empty source path specified");
  if (optind < argc) args.image = argv[optind++];
  if (optind < argc) return usage_error(argv[0], "Too many arguments");
  if (args.print_digest_only && !args.image.empty()) {
    return usage_error(argv[0], "Cannot specify destination path with --print-digest-only");
  }
  if (!args.print_digest_only && args.image.empty()) {
    return usage_error(argv[0], "No destination path specified");
  }
  if (args.image == "-" && ::isatty(STDOUT_FILENO)) {
    cli::error(kProg, "stdout is a tty.  Refusing to use it");
    return 1;
  }

  writer::Options wopts;
  if (args.min_version || args.max_version) {
    wopts.min_version = args.min_version.value_or(0);
    wopts.max_version = args.max_version.value_or(0);
  }

  std::optional<OutputFile> output;
  if (!args.print_digest_only) {
    try {
      output.emplace(args.image);
      clean_up_on_signals(output->temp_path());
    } catch (const Error& e) {
      cli::error(kProg, std::string("failed to open output file: ") + e.what());
      return 1;
    }
  }

  tree::Tree tree;
  int status = args.from_file ? tree_from_dump(args, tree) : tree_from_directory(args, tree);
  if (status != 0) return status;

  verity::Hasher hasher;
  try {
    writer::write(tree, wopts, [&](std::span<const std::byte> chunk) {
      if (args.print_digest) hasher.update(chunk);
      if (output) output->write(chunk);
    });
  } catch (const Error& e) {
    cli::error(kProg, std::string("cannot write file: ") + std::strerror(e.code()));
    return 1;
  }
  try {
    if (output) output->commit();
    g_temp_image[0] = '\0';
  } catch (const Error& e) {
    cli::error(kProg, std::string("close output file: ") + e.what());
    return 1;
  }
  if (args.print_digest && !cli::print_out(kProg, to_hex(hasher.finish()) + "\n")) return 1;
  return 0;
}

}  // namespace cfs::tools
