#include "base/output_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <optional>

#include "base/error.h"
#include "base/file_io.h"

namespace cfs {
namespace {

std::string dir_of(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

// The name `path` finally stands for, following symlinks (even dangling ones), or nullopt
// where a /proc magic link is on the way (/dev/stdout, /proc/self/fd/N): those name an open
// file, not a place in a directory, and are written through.
std::optional<std::string> final_name(std::string path) {
  for (int hops = 0; hops < 40; ++hops) {
    std::string dir = dir_of(path);
    char real[PATH_MAX];
    if (::realpath(dir.c_str(), real) != nullptr) {
      std::string r = real;
      if (r == "/proc" || r.starts_with("/proc/")) return std::nullopt;
    }
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) return path;
    std::string target(PATH_MAX, '\0');
    ssize_t n = ::readlink(path.c_str(), target.data(), target.size());
    if (n < 0) throw_errno(errno);
    target.resize(static_cast<std::size_t>(n));
    path = target.starts_with('/') ? target : dir + "/" + target;
  }
  throw_errno(ELOOP);
}

bool cannot_write_dir(int err) { return err == EACCES || err == EPERM || err == EROFS; }

}  // namespace

OutputFile::OutputFile(const std::string& path) {
  mode_t mask = ::umask(0);
  ::umask(mask);
  if (path == "-") {
    kind_ = Kind::kStdout;
    fd_.reset(::dup(STDOUT_FILENO));
    if (!fd_) throw_errno(errno);
    return;
  }
  std::optional<std::string> name = final_name(path);
  struct stat st {};
  bool exists = ::stat(path.c_str(), &st) == 0;
  if (exists && S_ISDIR(st.st_mode)) throw_errno(EISDIR);
  if (!name || (exists && !S_ISREG(st.st_mode))) {
    kind_ = Kind::kThrough;
    fd_.reset(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY, 0644));
    if (!fd_) throw_errno(errno);
    return;
  }
  final_ = *name;
  try {
    open_temp(dir_of(final_));
    kind_ = Kind::kReplace;
    if (exists) {
      keep_mode_ = st.st_mode & 07777;
      keep_uid_ = st.st_uid;
      keep_gid_ = st.st_gid;
    }
  } catch (const Error& e) {
    if (!exists || !cannot_write_dir(e.code())) throw;
    // The directory is closed to us but the file is writable: write it in place, from a
    // private copy, at commit.
    in_place_.reset(::open(final_.c_str(), O_WRONLY | O_CLOEXEC | O_NOCTTY));
    if (!in_place_) throw_errno(errno);
    const char* tmpdir = std::getenv("TMPDIR");
    open_temp(tmpdir != nullptr && *tmpdir != '\0' ? tmpdir : "/tmp");
    kind_ = Kind::kInPlace;
  }
  if (kind_ == Kind::kReplace && !exists && ::fchmod(fd_.get(), 0644 & ~mask) != 0) throw_errno(errno);
  if (kind_ == Kind::kReplace && exists && ::fchmod(fd_.get(), keep_mode_) != 0) throw_errno(errno);
}

// Preferably an unnamed file: even SIGKILL then leaves nothing behind.
void OutputFile::open_temp(const std::string& dir) {
  std::string base = final_.substr(final_.rfind('/') + 1);
  tmp_path_ = dir + "/." + base + ".tmpXXXXXX";
  mode_t mask = ::umask(0);
  ::umask(mask);
  int fd = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0644 & ~mask);
  if (fd >= 0) {
    unnamed_ = true;
  } else {
    if (cannot_write_dir(errno)) throw_errno(errno);
    fd = ::mkostemp(tmp_path_.data(), O_CLOEXEC);
    if (fd < 0) throw_errno(errno);
    named_ = true;
  }
  fd_.reset(fd);
}

OutputFile::~OutputFile() {
  if (!committed_ && named_) ::unlink(tmp_path_.c_str());
}

void OutputFile::write(std::span<const std::byte> data) {
  write_all(fd_.get(), data);
  written_ += data.size();
  if (kind_ == Kind::kReplace) start_writeback();
}

// Starts the writeback of what lies well behind the end: a page (or large folio) still
// being appended to must not be under writeback, or the next write waits for the disk.
void OutputFile::start_writeback() {
  constexpr std::uint64_t kBehind = 4 << 20, kStep = 2 << 20;
  std::uint64_t upto = written_ > kBehind ? (written_ - kBehind) / kStep * kStep : 0;
  if (upto <= started_) return;
  // A hint: failures (e.g. EINVAL on some filesystems) are fsync's to report.
  ::sync_file_range(fd_.get(), static_cast<off64_t>(started_), static_cast<off64_t>(upto - started_),
                    SYNC_FILE_RANGE_WRITE);
  started_ = upto;
}

void OutputFile::commit() {
  switch (kind_) {
    case Kind::kStdout:
    case Kind::kThrough:
      break;
    case Kind::kInPlace: {
      if (::ftruncate(in_place_.get(), 0) != 0) throw_errno(errno);
      off_t in = 0;
      while (static_cast<std::uint64_t>(in) < written_) {
        ssize_t n = ::copy_file_range(fd_.get(), &in, in_place_.get(), nullptr, written_ - in, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {  // across filesystems on old kernels: copy by hand
          std::vector<std::byte> buf(1 << 20);
          ssize_t r = ::pread(fd_.get(), buf.data(), buf.size(), in);
          if (r <= 0) throw_errno(r < 0 ? errno : EIO);
          write_all(in_place_.get(), std::span(buf.data(), static_cast<std::size_t>(r)));
          in += r;
        }
      }
      if (::fsync(in_place_.get()) != 0 && errno != EINVAL) throw_errno(errno);
      if (::close(in_place_.release()) != 0) throw_errno(errno);
      break;
    }
    case Kind::kReplace:
      if (keep_uid_ >= 0 && ::geteuid() == 0) {
        (void)::fchown(fd_.get(), static_cast<uid_t>(keep_uid_), static_cast<gid_t>(keep_gid_));
        if (::fchmod(fd_.get(), keep_mode_) != 0) throw_errno(errno);  // chown cleared setuid bits
      }
      if (::fsync(fd_.get()) != 0 && errno != EINVAL) throw_errno(errno);
      if (unnamed_) {
        // Give it a temporary name, then rename over the destination (linkat cannot replace).
        int tmp = ::mkostemp(tmp_path_.data(), O_CLOEXEC);
        if (tmp < 0) throw_errno(errno);
        ::close(tmp);
        ::unlink(tmp_path_.c_str());
        std::string proc = "/proc/self/fd/" + std::to_string(fd_.get());
        if (::linkat(AT_FDCWD, proc.c_str(), AT_FDCWD, tmp_path_.c_str(), AT_SYMLINK_FOLLOW) != 0) {
          throw_errno(errno);
        }
        named_ = true;
      }
      break;
  }
  if (::close(fd_.release()) != 0) throw_errno(errno);  // close first: it may report write errors
  if (kind_ == Kind::kReplace && ::rename(tmp_path_.c_str(), final_.c_str()) != 0) throw_errno(errno);
  committed_ = true;
}

}  // namespace cfs
