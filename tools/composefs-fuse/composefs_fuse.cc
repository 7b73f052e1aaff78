// composefs-fuse -o source=IMAGE,basedir=DIR[:DIR][,remote=URL] MOUNTPOINT: a verifying FUSE
// mount of an image, rootless through fusermount3, with kernel passthrough of file data where
// allowed, and objects fetched on first open from HTTP mirrors.
#include "composefs-fuse/composefs_fuse.h"

#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <syslog.h>
#include <unistd.h>

#include <charconv>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "base/error.h"
#include "base/file_io.h"
#include "common/cli.h"
#include "common/image_file.h"
#include "fuse/mount_fuse.h"
#include "fuse/server.h"
#include "fuse/uring_channel.h"
#include "mirror/mirror_source.h"
#include "mirror/prefetch.h"
#include "mirror/recorder.h"

namespace cfs::tools {
namespace {

constexpr const char* kProg = "composefs-fuse";

void usage(const char* argv0, int fd) {
  write_all(fd, std::string("usage: ") + argv0 + " [options] [IMAGE] <mountpoint>\n"
                "  -o source=IMAGE        the composefs image (required)\n"
                "  -o basedir=DIR[:DIR]   object stores, searched in order (required)\n"
                "  -o remote=URL          a mirror (a repository served over HTTP/HTTPS) for\n"
                "                         objects the basedirs lack, fetched on first open and\n"
                "                         checked, into the first basedir (the cache); repeat\n"
                "                         the option for more mirrors, tried in order\n"
                "  -o record=FILE         write the objects in the order first opened\n"
                "  -o prefetch=FILE|all   fetch those objects (or all) in the background\n"
                "  -o verity=on|require|off  check objects against the image's digests\n"
                "                         (on: where recorded; require: refuse files without)\n"
                "  -o noacl               hide POSIX ACLs\n"
                "  -o threads=N           server threads (default 4)\n"
                "  -o uring=auto|on|off   requests over io_uring, a queue per CPU (Linux 6.14+,\n"
                "                         fuse.enable_uring=1); auto: where the kernel offers it\n"
                "                         (default: $CFS_FUSE_URING, else auto)\n"
                "  -o nopassthrough       serve file data from user space\n"
                "  -o noopen              opens send no request: objects verified at first read,\n"
                "                         data cached by this mount (fastest warm opens; no sharing)\n"
                "  -o allow_other         let other users in (root mounts do this by default)\n"
                "  -o allow_root          let only root in besides the owner\n"
                "  -o auto_unmount        unmount when the server ends, even if killed\n"
                "  -o fsname=NAME, -o noexec, -o max_threads=N (as threads)\n"
                "  (mount's generic options, e.g. ro, nodev, noatime, are accepted)\n"
                "  -f                     stay in the foreground\n"
                "  -d, -o debug           debug: foreground, log every request\n"
                "  -s                     single-threaded\n"
                "  -h, --help, -V, --version\n");
}

struct Args {
  std::string source, mountpoint;
  std::vector<std::string> basedirs;
  std::vector<std::string> remotes;
  std::string record, prefetch;
  fuse::ServerOptions server;
  fuse::MountOptions mount;
  bool foreground = false;
  bool allow_other = false, allow_root = false;  // as given
  bool uring_option = false;                      // -o uring= given (not the environment's default)
};

// Options that mount(8), mount.fuse3 and fstab pass to every file system, with nothing to do
// here: the mount is always read-only, nosuid and nodev, and times come from the image.
bool is_generic_noop(const std::string& key) {
  static const char* const kNoops[] = {"ro", "rw", "default_permissions", "suid", "nosuid", "dev",
                                       "nodev", "atime", "noatime", "relatime", "strictatime",
                                       "nodiratime", "diratime", "sync", "async", "auto", "noauto",
                                       "nofail", "_netdev", "user", "users", "nouser", "defaults"};
  for (const char* k : kNoops) {
    if (key == k) return true;
  }
  return key.starts_with("x-");
}

bool parse_uring(const std::string& value, fuse::UringMode& mode) {
  if (value == "auto") mode = fuse::UringMode::kAuto;
  else if (value == "on") mode = fuse::UringMode::kOn;
  else if (value == "off") mode = fuse::UringMode::kOff;
  else return false;
  return true;
}

// Parses one -o list; returns an error message or "".
std::string parse_options(const std::string& list, Args& a) {
  for (const auto& [key, value_or] : cli::split_mount_options(list)) {
    bool valued = key == "source" || key == "basedir" || key == "verity" || key == "threads" ||
                  key == "max_threads" || key == "fsname" || key == "remote" || key == "record" ||
                  key == "prefetch" || key == "uring";
    if (valued && !value_or) return "No value specified for " + key + " option";
    const std::string value = value_or.value_or("");
    if (key == "source") {
      a.source = value;
    } else if (key == "basedir") {
      auto dirs = cli::split_basedirs(value);
      if (!dirs) return "Value for basedir option has incorrect format";
      a.basedirs = std::move(*dirs);
    } else if (key == "remote") {
      a.remotes.push_back(value);
    } else if (key == "record") {
      a.record = value;
    } else if (key == "prefetch") {
      a.prefetch = value;
    } else if (key == "verity") {
      if (value == "on") a.server.verity = fuse::VerityMode::kOn;
      else if (value == "require") a.server.verity = fuse::VerityMode::kRequire;
      else if (value == "off") a.server.verity = fuse::VerityMode::kOff;
      else return "verity must be on, require or off";
    } else if (key == "uring") {
      if (!parse_uring(value, a.server.uring)) return "uring must be auto, on or off";
      a.uring_option = true;
    } else if (key == "debug") {
      a.foreground = a.server.debug = true;
    } else if (key == "noacl") {
      a.server.acl = false;
    } else if (key == "threads" || key == "max_threads") {
      unsigned n = 0;
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (ec != std::errc() || end != value.data() + value.size() || n < 1 || n > 1024) {
        return key + " must be a number from 1 to 1024";
      }
      a.server.threads = n;
    } else if (key == "nopassthrough") {
      a.server.passthrough = false;
    } else if (key == "noopen") {
      a.server.no_open = true;
    } else if (key == "allow_other") {
      a.allow_other = true;
    } else if (key == "allow_root") {
      a.allow_root = true;
    } else if (key == "auto_unmount") {
      a.mount.auto_unmount = true;
    } else if (key == "fsname") {
      a.mount.fsname = value;
    } else if (key == "noexec" || key == "exec") {
      a.mount.noexec = key == "noexec";
    } else if (!is_generic_noop(key)) {
      return "Unsupported option " + key;
    }
  }
  return "";
}

void log_line(const std::string& line, bool to_syslog) {
  if (to_syslog) {
    ::syslog(LOG_INFO, "%s", line.c_str());
  } else {
    cli::error(kProg, line);
  }
}

// Where objects come from: the basedirs, then the mirrors (into the first basedir); the
// record file writes down what is asked for.
struct Objects {
  std::unique_ptr<store::DirectorySource> local;
  std::unique_ptr<mirror::Mirrors> mirrors;
  std::unique_ptr<mirror::MirrorSource> mirrored;
  std::unique_ptr<mirror::RecordingSource> recording;
  const store::ObjectSource* source = nullptr;
  std::vector<mirror::WantedObject> prefetch;
};

Objects open_objects(const Args& a, const reader::Image& image) {
  Objects o;
  if (a.remotes.empty()) {
    try {
      o.local = std::make_unique<store::DirectorySource>(a.basedirs);
    } catch (const Error& e) {
      throw Error(e.code(), std::string("Failed to open basedir ") + e.what());
    }
    o.source = o.local.get();
  } else {
    o.mirrors = std::make_unique<mirror::Mirrors>(a.remotes, mirror::MirrorOptions{.parallel = a.server.fetch_threads / 2});
    o.mirrored = std::make_unique<mirror::MirrorSource>(a.basedirs, *o.mirrors);
    o.source = o.mirrored.get();
  }
  if (!a.record.empty()) {
    o.recording = std::make_unique<mirror::RecordingSource>(
        *o.source, a.record, [&a](const std::string& line) { log_line(line, a.server.syslog); });
    o.source = o.recording.get();
  }
  if (!a.prefetch.empty()) {
    std::vector<mirror::WantedObject> all = mirror::image_objects(image);
    if (a.prefetch == "all") {
      o.prefetch = std::move(all);
    } else {
      UniqueFd fd(::open(a.prefetch.c_str(), O_RDONLY | O_CLOEXEC));
      if (!fd) throw_errno(errno, a.prefetch);
      std::vector<std::byte> text = read_all(fd.get());
      o.prefetch = mirror::recorded_objects(all, {reinterpret_cast<const char*>(text.data()), text.size()});
    }
  }
  return o;
}

}  // namespace

int composefs_fuse_main(int argc, char** argv) {
  Args a;
  // Tests only: makes every object measurement slow, to show that a long verification does
  // not hold up other requests.
  if (const char* ms = std::getenv("CFS_TEST_VERIFY_DELAY_MS")) a.server.verify_delay_for_test_ms = std::atoi(ms);
  // The default transport (tests run every mount both ways); -o uring= overrides it.
  if (const char* uring = std::getenv("CFS_FUSE_URING"); uring != nullptr && *uring != '\0') {
    if (!parse_uring(uring, a.server.uring)) {
      cli::error(kProg, "CFS_FUSE_URING must be auto, on or off");
      return 1;
    }
  }
  optind = 0;
  static const option kLong[] = {{"help", no_argument, nullptr, 'h'},
                                 {"version", no_argument, nullptr, 'V'},
                                 {nullptr, 0, nullptr, 0}};
  for (int c; (c = getopt_long(argc, argv, "o:fdshV", kLong, nullptr)) != -1;) {
    switch (c) {
      case 'o':
        if (std::string err = parse_options(optarg, a); !err.empty()) {
          cli::error(kProg, err);
          return 1;
        }
        break;
      case 'f': a.foreground = true; break;
      case 'd': a.foreground = a.server.debug = true; break;
      case 's': a.server.threads = 1; break;
      case 'h': usage(argv[0], STDOUT_FILENO); return 0;
      case 'V': return cli::print_out(kProg, std::string("composefs-fuse ") + cli::kVersion + "\n") ? 0 : 1;
      default: usage(argv[0], STDERR_FILENO); return 1;
    }
  }
  if (optind >= argc) {
    usage(argv[0], STDOUT_FILENO);
    return 1;
  }
  // "IMAGE MOUNTPOINT" too: how mount.fuse3 (fstab "fuse.composefs-fuse") runs file systems.
  if (argc - optind == 2) a.source = argv[optind++];
  if (argc - optind != 1) {
    usage(argv[0], STDERR_FILENO);
    return 1;
  }
  a.mountpoint = argv[optind];
  if (a.allow_other && a.allow_root) {
    cli::error(kProg, "allow_other and allow_root exclude each other");
    return 1;
  }
  // Root mounts let everyone in by default, as kernel mounts do; allow_root: the kernel lets
  // everyone in, and the server turns away all but the owner and root.
  a.mount.allow_other = a.allow_other || a.allow_root || ::geteuid() == 0;
  if (a.allow_root) a.server.owner_and_root_only = ::getuid();
  if (a.mount.fsname.empty()) a.mount.fsname = a.source;
  if (a.source.empty()) {
    cli::error(kProg, "No source specified (-o source=IMAGE)");
    return 1;
  }
  if (a.basedirs.empty()) {
    cli::error(kProg, "No basedir specified (-o basedir=DIR)");
    return 1;
  }

  if (a.remotes.empty() && !a.prefetch.empty()) {
    cli::error(kProg, "prefetch needs a mirror (-o remote=URL)");
    return 1;
  }
  if (!a.remotes.empty() && a.server.no_open) {
    cli::error(kProg, "noopen cannot be combined with remote (a read would wait for the network)");
    return 1;
  }

  // A killed server's io_uring queues let go of /dev/fuse only after fusermount3 has looked
  // whether the mount is dead (it finds it alive, and leaves it): auto_unmount reads /dev/fuse.
  if (a.mount.auto_unmount && a.server.uring != fuse::UringMode::kOff) {
    if (a.uring_option && a.server.uring == fuse::UringMode::kOn) {
      cli::error(kProg, "uring=on and auto_unmount exclude each other");
      return 1;
    }
    a.server.uring = fuse::UringMode::kOff;
  }
  if (a.server.uring == fuse::UringMode::kOn) {
    if (auto why = fuse::uring_unavailable()) {
      cli::error(kProg, "uring=on: " + *why);
      return 1;
    }
  }

  std::optional<cli::ImageFile> image;
  try {
    image.emplace(cli::open_image(a.source));
  } catch (const Error& e) {
    cli::error(kProg, e.what());
    return 1;
  }
  Objects objects;
  try {
    objects = open_objects(a, image->image);
  } catch (const Error& e) {
    cli::error(kProg, e.what());
    return 1;
  }
  fuse::MountedFuse mounted;
  try {
    mounted = fuse::mount_fuse(a.mountpoint, a.mount);
  } catch (const Error& e) {
    cli::error(kProg, std::string("Failed to mount: ") + e.what());
    return 1;
  }

  if (!a.foreground) {
    // The mount exists already; the server lives on in a child, the caller gets its shell.
    pid_t pid = ::fork();
    if (pid < 0) {
      try {
        fuse::unmount_fuse(a.mountpoint);
      } catch (const Error&) {  // the fork error is the one to report
      }
      cli::error(kProg, std::string("fork: ") + std::strerror(errno));
      return 1;
    }
    if (pid > 0) return 0;
    // A daemon keeps none of its caller's descriptors (a caller reading our stderr would wait
    // for ever); its log lines go to syslog.
    ::setsid();
    int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null >= 0) {
      for (int fd : {STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO}) ::dup2(null, fd);
      ::close(null);
    }
    ::openlog(kProg, LOG_PID, LOG_DAEMON);
    a.server.syslog = true;
  }

  bool to_syslog = a.server.syslog;
  // SIGINT/SIGTERM/SIGHUP unmount; the server then sees ENODEV and returns.
  sigset_t sigs;
  sigemptyset(&sigs);
  for (int s : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&sigs, s);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  // If the unmount fails (fusermount3 does without /etc/mtab) the server must not live on
  // with nobody to stop it: it says why and exits, and closing /dev/fuse ends the session.
  std::thread([sigs, mnt = a.mountpoint, to_syslog]() mutable {
    int sig;
    if (sigwait(&sigs, &sig) != 0) return;
    try {
      fuse::unmount_fuse(mnt);
    } catch (const Error& e) {
      std::string why = "cannot unmount " + mnt + ": " + e.what() + "; exiting";
      if (to_syslog) ::syslog(LOG_ERR, "%s", why.c_str());
      cli::error(kProg, why);
      ::_exit(1);
    } catch (...) {  // out of memory: nothing leaves the thread, and the server still ends
      ::_exit(1);
    }
  }).detach();

  // Threads start here, in the process that serves (after the fork).
  std::optional<mirror::Prefetcher> prefetcher;
  if (objects.mirrored && !objects.prefetch.empty()) {
    // Half the download slots at most: an open never waits behind the prefetch.
    prefetcher.emplace(*objects.mirrored, std::move(objects.prefetch), a.server.fetch_threads / 4,
                       [to_syslog](const std::string& line) { log_line(line, to_syslog); });
  }
  fuse::ServerStats stats;
  try {
    fuse::serve(mounted.fuse.get(), image->image, *objects.source, a.server, stats);
  } catch (const Error& e) {  // before serving anything: the mount goes with us
    log_line(e.what(), to_syslog);
    try {
      fuse::unmount_fuse(a.mountpoint);
    } catch (const Error&) {  // closing /dev/fuse at exit ends the session anyway
    }
    return 1;
  }
  return 0;
}

}  // namespace cfs::tools
