#include "store/store.h"

#include <algorithm>

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <vector>

#include "base/error.h"
#include "base/file_io.h"
#include "store/beneath.h"
#include "verity/fsverity.h"
#include "verity/measure.h"

namespace cfs::store {
namespace {

[[noreturn]] void shrank() { throw Error(ENODATA, "file shrank while being read"); }

void pwrite_all(int fd, std::span<const std::byte> data, std::uint64_t at) {
  for (std::size_t w = 0; w < data.size();) {
    ssize_t k = ::pwrite(fd, data.data() + w, data.size() - w, static_cast<off_t>(at + w));
    if (k < 0 && errno == EINTR) continue;
    if (k < 0) throw_errno(errno);
    w += static_cast<std::size_t>(k);
  }
}

// Writes `data` at `at`, skipping whole 4 KiB blocks of zeros (the file is cut to its size
// at the end, so they read back as zeros from a hole).
// Returns whether the last byte was written (else the file still needs its size set).
bool write_keeping_holes(int fd, std::span<const std::byte> data, std::uint64_t at) {
  constexpr std::size_t kBlock = 4096;
  static const std::array<std::byte, kBlock> kZeros{};
  std::size_t run = 0;  // start of the data not yet written
  for (std::size_t pos = 0; pos < data.size(); pos += kBlock) {
    std::size_t len = std::min(kBlock, data.size() - pos);
    if (len == kBlock && std::memcmp(data.data() + pos, kZeros.data(), kBlock) == 0) {
      if (pos > run) pwrite_all(fd, data.subspan(run, pos - run), at + run);
      run = pos + kBlock;
    }
  }
  if (run >= data.size()) return false;
  pwrite_all(fd, data.subspan(run), at + run);
  return true;
}

// A hasher of this thread for `algorithm`, reset (a previous use may have thrown halfway).
verity::Hasher& thread_hasher(HashAlgorithm algorithm) {
  thread_local verity::Hasher sha256(HashAlgorithm::kSha256), sha512(HashAlgorithm::kSha512);
  verity::Hasher& h = algorithm == HashAlgorithm::kSha512 ? sha512 : sha256;
  h.reset();
  return h;
}

// Copies [0, size) of src into dst keeping holes, hashing exactly the bytes written (holes
// as zeros): the digest is that of the copy, whatever happens to src meanwhile.
Digest copy_hashed(int src, int dst, std::uint64_t size, HashAlgorithm algorithm) {
  verity::Hasher& hasher = thread_hasher(algorithm);
  thread_local std::vector<std::byte> buf(1 << 20);
  for (std::uint64_t pos = 0; pos < size;) {
    off_t data = ::lseek(src, static_cast<off_t>(pos), SEEK_DATA);
    if (data < 0 && errno == ENXIO) {  // only a hole is left, or the file shrank
      struct stat st {};
      if (::fstat(src, &st) != 0) throw_errno(errno);
      if (static_cast<std::uint64_t>(st.st_size) < size) shrank();
      hasher.update_zeros(size - pos);
      break;
    }
    std::uint64_t from = data < 0 ? pos : std::min<std::uint64_t>(static_cast<std::uint64_t>(data), size);
    off_t hole = data < 0 ? -1 : ::lseek(src, data, SEEK_HOLE);
    std::uint64_t to = hole < 0 ? size : std::min<std::uint64_t>(static_cast<std::uint64_t>(hole), size);
    if (from > pos) hasher.update_zeros(from - pos);
    for (std::uint64_t at = from; at < to;) {
      std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), to - at));
      ssize_t n = ::pread(src, buf.data(), want, static_cast<off_t>(at));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) throw_errno(errno);
      if (n == 0) shrank();
      std::span<const std::byte> got(buf.data(), static_cast<std::size_t>(n));
      hasher.update(got);
      pwrite_all(dst, got, at);
      at += static_cast<std::uint64_t>(n);
    }
    pos = to;
  }
  if (::ftruncate(dst, static_cast<off_t>(size)) != 0) throw_errno(errno);
  return hasher.finish();
}

// A reflink of src, cut to `size` and measured from the clone itself; nullopt where the
// filesystem cannot clone.
std::optional<Digest> clone_measured(int src, int dst, std::uint64_t size, HashAlgorithm algorithm) {
  if (::ioctl(dst, FICLONE, src) != 0) return std::nullopt;
  struct stat st {};
  if (::fstat(dst, &st) != 0) throw_errno(errno);
  if (static_cast<std::uint64_t>(st.st_size) < size) shrank();
  if (::ftruncate(dst, static_cast<off_t>(size)) != 0) throw_errno(errno);
  return verity::compute_from_file(dst, size, algorithm);
}

// The store's descriptors of each kind (unnamed objects, xx/ directories): up to 256, but
// never more than a quarter of those we may hold; the rest are for sources and threads.
std::size_t fd_budget_of_limit() {
  constexpr std::size_t kMax = 1024;  // batches of 512: a syncfs per 512 objects
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0 || lim.rlim_cur == RLIM_INFINITY) return kMax;
  return std::clamp<std::size_t>(lim.rlim_cur / 4, 1, kMax);
}

}  // namespace

ObjectStore::ObjectStore(const std::string& path, HashAlgorithm algorithm)
    : path_(path), algorithm_(algorithm), fd_budget_(fd_budget_of_limit()) {
  if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) throw_errno(errno, path);
  dir_fd_.reset(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir_fd_) throw_errno(errno, path);
}

ObjectStore::Subdir ObjectStore::subdir(std::uint8_t first_byte, bool create) const {
  std::lock_guard lock(subdirs_mutex_);
  UniqueFd& cached = subdirs_[first_byte];
  if (cached) return {cached.get(), UniqueFd()};
  static constexpr char kHex[] = "0123456789abcdef";
  const char name[3] = {kHex[first_byte >> 4], kHex[first_byte & 15], '\0'};
  if (create && ::mkdirat(dir_fd_.get(), name, 0755) != 0 && errno != EEXIST) throw_errno(errno, path_ + "/" + name);
  UniqueFd fd;
  try {
    fd = open_dir_beneath(dir_fd_.get(), name);
  } catch (const Error& e) {
    throw e.wrap(path_);
  }
  if (!fd) return {-1, UniqueFd()};
  if (subdirs_open_ == fd_budget_) return {fd.get(), std::move(fd)};
  ++subdirs_open_;
  cached = std::move(fd);
  return {cached.get(), UniqueFd()};
}

// Where the next unnamed file goes: the xx/ directories that exist, in turn (the store root
// until there are some). Its name is not known yet, but ext4 places an inode near its
// directory's: tens of thousands of them all made in the root crowd one block group, and
// allocating each costs a scan of it (a build into an empty store took 35% longer).
int ObjectStore::unnamed_file_dir() {
  std::lock_guard lock(subdirs_mutex_);
  for (unsigned i = 0; i < subdirs_.size(); ++i) {
    const UniqueFd& fd = subdirs_[next_tmp_dir_++ % subdirs_.size()];
    if (fd) return fd.get();
  }
  return dir_fd_.get();
}

bool ObjectStore::contains(const Digest& d) const {
  Subdir sub = subdir(d[0], false);
  if (sub.fd < 0) return false;
  struct stat st {};
  return ::fstatat(sub.fd, object_path(d).c_str() + 3, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

// An unnamed file in the store: nothing is visible until flush() links it, and a crash or an
// error leaves nothing behind.
UniqueFd ObjectStore::unnamed_file() {
  UniqueFd tmp(::openat(unnamed_file_dir(), ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0644));
  if (!tmp) throw_errno(errno, path_);
  return tmp;
}

ObjectStore::Ingested ObjectStore::ingest(int src_fd, std::uint64_t size) {
  UniqueFd tmp = unnamed_file();
  std::optional<Digest> d = clone_measured(src_fd, tmp.get(), size, algorithm_);
  if (!d) d = copy_hashed(src_fd, tmp.get(), size, algorithm_);
  return publish(std::move(tmp), *d);
}

ObjectStore::Ingested ObjectStore::ingest_stream(const ReadSome& read, const std::optional<Digest>& expected) {
  UniqueFd tmp = unnamed_file();
  verity::Hasher& hasher = thread_hasher(algorithm_);
  thread_local std::vector<std::byte> buf(1 << 20);
  std::uint64_t size = 0;
  bool sized = true;  // the file's size is `size` (its last byte written); ftruncate otherwise
  for (;;) {
    std::size_t got = 0;  // a full buffer (or the end), so that zero blocks are seen whole
    while (got < buf.size()) {
      std::size_t n = read(std::span(buf).subspan(got));
      if (n == 0) break;
      got += n;
    }
    if (got == 0) break;
    std::span<const std::byte> data(buf.data(), got);
    hasher.update(data);
    sized = write_keeping_holes(tmp.get(), data, size);
    size += got;
    if (got < buf.size()) break;
  }
  if (!sized && ::ftruncate(tmp.get(), static_cast<off_t>(size)) != 0) throw_errno(errno, path_);
  Digest d = hasher.finish();
  if (expected && d != *expected) {
    throw Error(EBADMSG, "fs-verity digest " + to_hex(d) + " differs from the expected " + to_hex(*expected));
  }
  return publish(std::move(tmp), d);
}

ObjectStore::Ingested ObjectStore::ingest_hashed(std::span<const std::byte> bytes, const Digest& digest) {
  if (contains(digest)) return {digest, false};
  UniqueFd tmp = unnamed_file();
  bool sized = bytes.empty() || write_keeping_holes(tmp.get(), bytes, 0);
  if (!sized && ::ftruncate(tmp.get(), static_cast<off_t>(bytes.size())) != 0) throw_errno(errno, path_);
  return publish(std::move(tmp), digest);
}

ObjectStore::Ingested ObjectStore::publish(UniqueFd tmp, const Digest& d) {
  if (contains(d)) return {d, false};
  if (::fchmod(tmp.get(), 0644) != 0) throw_errno(errno);
  // fs-verity refuses files open for writing: the object waits read-only (the reopen is done
  // here, on the storing threads, not in the flush).
  if (!verity_unsupported_ || verity_required_) tmp = reopen_read_only(tmp.get());
  std::lock_guard lock(mutex_);
  // The same bytes stored twice before a flush (two threads, one layer): one copy is kept.
  auto same = [&](const Pending& p) { return p.digest == d; };
  if (std::any_of(pending_.begin(), pending_.end(), same) || std::any_of(naming_.begin(), naming_.end(), same)) return {d, false};
  pending_.push_back({d, std::move(tmp)});
  // Half the descriptor budget for each of the two batches (the one named, the one filling).
  if (pending_.size() >= std::max<std::size_t>(1, fd_budget_ / 2)) {
    finish_naming_locked();
    naming_ = std::move(pending_);
    pending_.clear();
    named_ = std::async(std::launch::async, [this] { name_batch(naming_); });
  }
  return {d, true};
}

ObjectStore::Ingested ObjectStore::adopt(UniqueFd tmp, const Digest& digest) {
  Ingested got = publish(std::move(tmp), digest);
  flush();
  return got;
}

OpenedObject ObjectStore::open(const ObjectRef& ref) const {
  UniqueFd fd = open_object_beneath(dir_fd_.get(), ref);
  if (!fd) throw Error(ENOENT, "No such file or directory");
  return {std::move(fd), false};
}

UniqueFd ObjectStore::open_pending(const Digest& d) {
  std::lock_guard lock(mutex_);
  for (const std::vector<Pending>* batch : {&pending_, &naming_}) {
    for (const Pending& p : *batch) {
      if (p.digest == d) return reopen_read_only(p.fd.get());
    }
  }
  return UniqueFd();
}

void ObjectStore::flush() {
  std::lock_guard lock(mutex_);
  finish_naming_locked();
  if (pending_.empty()) return;
  std::vector<Pending> batch = std::move(pending_);
  pending_.clear();
  name_batch(batch);
}

// Waits for the batch being named; its failure is rethrown (its objects are dropped unnamed).
void ObjectStore::finish_naming_locked() {
  if (!named_.valid()) return;
  std::future<void> named = std::move(named_);
  try {
    named.get();
  } catch (...) {
    naming_.clear();
    throw;
  }
  naming_.clear();
}

// Names the unnamed file `fd` `name`: by the descriptor where the kernel lets us (linkat with
// AT_EMPTY_PATH wants CAP_DAC_READ_SEARCH), else through /proc (a path walk per object).
void ObjectStore::link_object(int fd, std::uint8_t first_byte, const std::string& name) {
  Subdir sub = subdir(first_byte, true);
  const char* leaf = name.c_str() + 3;
  if (!link_by_path_) {
    if (::linkat(fd, "", sub.fd, leaf, AT_EMPTY_PATH) == 0 || errno == EEXIST) return;
    if (errno != ENOENT && errno != EPERM) throw_errno(errno, path_ + "/" + name);
    link_by_path_ = true;
  }
  std::string proc = "/proc/self/fd/" + std::to_string(fd);
  if (::linkat(AT_FDCWD, proc.c_str(), sub.fd, leaf, AT_SYMLINK_FOLLOW) != 0 && errno != EEXIST) {
    throw_errno(errno, path_ + "/" + name);
  }
}

// Makes `batch` durable and names it. Touches nothing of the store but the xx/ directories
// and the learnt flags: it runs without mutex_ (publish() may wait for it holding mutex_).
void ObjectStore::name_batch(const std::vector<Pending>& batch) {
  if (::syncfs(dir_fd_.get()) != 0) throw_errno(errno, path_);
  for (const Pending& p : batch) {
    std::string name = object_path(p.digest);
    if (!verity_unsupported_ || verity_required_) {
      int err = verity::try_enable_verity(p.fd.get(), algorithm_);
      if (err == 0 || err == EEXIST) {  // best effort, as upstream; then the kernel's word
        std::optional<Digest> measured = verity::kernel_measure(p.fd.get(), algorithm_);
        if (measured && *measured != p.digest) throw Error(EIO, path_ + "/" + name + ": fs-verity measurement differs from the copy's digest");
      } else if (verity_required_) {
        throw Error(EOPNOTSUPP, path_ + "/" + name + ": fs-verity cannot be enabled, and this store requires it");
      } else if (err == EOPNOTSUPP || err == ENOTTY) {
        verity_unsupported_ = true;  // the filesystem has none: the next objects skip the reopen and the ioctl
      } else if (err != EINVAL && err != EPERM && err != EACCES && err != EROFS) {
        throw_errno(err, path_ + "/" + name + ": enabling fs-verity");
      }
    }
    link_object(p.fd.get(), p.digest[0], name);
  }
}

}  // namespace cfs::store
