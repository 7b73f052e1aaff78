#include "fuse/server.h"

#include <fcntl.h>
#include <linux/fuse.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <syslog.h>
#include <sys/uio.h>
#include <unistd.h>

#include <poll.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include "base/error.h"
#include "format/composefs.h"
#include "format/erofs.h"
#include "fuse/protocol.h"
#include "fuse/request.h"
#include "fuse/verifier.h"
#include "fuse/xattr_view.h"

namespace cfs::fuse {
namespace {

constexpr std::uint64_t kTimeout = 86400;  // images are immutable: cache entries for a day
constexpr std::size_t kBufferSize = (1 << 20) + 4096;
constexpr std::uint32_t kMaxWrite = 1 << 20;

struct FileHandle {
  UniqueFd backing;     // external file: the verified object
  bool passthrough = false;  // shares the inode's backing id (Session::backing_ids_)
  reader::Inode inode;  // inline files: served from the image
  std::string shown_object;  // the redirect, as log lines show it
};

struct DirHandle {
  struct Entry {
    std::string name;
    std::uint64_t nid;
    std::uint8_t type;
  };
  std::vector<Entry> entries;
};

class Session {
 public:
  Session(int fd, const reader::Image& image, const store::ObjectSource& objects,
          const ServerOptions& options, ServerStats& stats)
      : fd_(fd), image_(image), objects_(objects), options_(options), stats_(stats) {
    acl_ = options.acl && (image.header_flags() & format::kComposefsFlagHasAcl);
    verifier_.set_slow_for_test(options.verify_delay_for_test_ms);
  }

  void run() {
    // Non-blocking: next_request() decides when to poll and when to sleep.
    ::fcntl(fd_, F_SETFL, ::fcntl(fd_, F_GETFL) | O_NONBLOCK);
    slow_opens_.start(2);
    std::vector<std::thread> workers;
    for (unsigned i = 1; i < std::max(1U, options_.threads); ++i) workers.emplace_back([this] { loop(); });
    loop();
    for (auto& w : workers) w.join();
    slow_opens_.stop();
  }

 private:
  void loop() {
    std::vector<char> buf(kBufferSize);
    while (!done_) {
      ssize_t n = next_request(buf);
      if (n < 0) {
        if (errno == EINTR || errno == ENOENT) continue;
        done_ = true;  // ENODEV: unmounted
        return;
      }
      if (static_cast<std::size_t>(n) < sizeof(fuse_in_header)) continue;
      handle(buf.data(), static_cast<std::size_t>(n));
    }
  }

  // Reads the next request. Requests come in bursts (ls -l: one per file); one thread at a
  // time keeps polling for a short while after a request instead of sleeping, because waking
  // a sleeping thread (in a VM: an idle CPU) costs more than the request itself.
  ssize_t next_request(std::vector<char>& buf) {
    constexpr auto kSpin = std::chrono::microseconds(200);
    if (!spinner_.exchange(true)) {
      auto until = std::chrono::steady_clock::now() + kSpin;
      do {
        ssize_t n = ::read(fd_, buf.data(), buf.size());
        if (n >= 0 || errno != EAGAIN) {
          spinner_ = false;
          return n;
        }
      } while (std::chrono::steady_clock::now() < until && !done_);
      spinner_ = false;
    }
    for (;;) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, -1) < 0 && errno != EINTR) return -1;
      if (p.revents & (POLLERR | POLLHUP | POLLNVAL)) {
        errno = ENODEV;
        return -1;
      }
      ssize_t n = ::read(fd_, buf.data(), buf.size());
      if (n >= 0 || errno != EAGAIN) return n;
    }
  }

  // --- replies -------------------------------------------------------------------------
  void reply(const fuse_in_header& in, int error, const void* data = nullptr, std::size_t size = 0) {
    fuse_out_header out{};
    out.len = static_cast<std::uint32_t>(sizeof out + (error == 0 ? size : 0));
    out.error = -error;
    out.unique = in.unique;
    iovec iov[2] = {{&out, sizeof out}, {const_cast<void*>(data), error == 0 ? size : 0}};
    // ENOENT: the request was interrupted meanwhile; nothing to do.
    ssize_t rc;
    do rc = ::writev(fd_, iov, iov[1].iov_len > 0 ? 2 : 1);
    while (rc < 0 && errno == EINTR);
  }
  template <class T>
  void reply_struct(const fuse_in_header& in, const T& value) {
    reply(in, 0, &value, sizeof value);
  }

  // --- inode numbers: FUSE's root is 1; everything else is its nid -----------------------
  std::uint64_t to_nid(std::uint64_t ino) const { return ino == FUSE_ROOT_ID ? image_.root_nid() : ino; }
  std::uint64_t to_ino(std::uint64_t nid) const { return nid == image_.root_nid() ? FUSE_ROOT_ID : nid; }

  static bool hidden(const reader::Inode& in) {  // overlay whiteouts (the root's 00..ff)
    return format::is_whiteout(in.mode, in.rdev());
  }

  void fill_attr(fuse_attr& a, const reader::Inode& in) const {
    a = {};
    a.ino = to_ino(in.nid);
    a.size = in.type() == S_IFREG || in.type() == S_IFLNK || in.type() == S_IFDIR ? in.size : 0;
    a.blocks = (a.size + 511) / 512;
    a.atime = a.mtime = a.ctime = static_cast<std::uint64_t>(in.mtime_sec);
    a.atimensec = a.mtimensec = a.ctimensec = in.mtime_nsec;
    a.mode = in.mode;
    a.nlink = in.nlink;
    a.uid = in.uid;
    a.gid = in.gid;
    a.rdev = in.rdev();
    a.blksize = 4096;
  }

  void fill_entry(fuse_entry_out& e, const reader::Inode& in) const {
    e = {};
    e.nodeid = to_ino(in.nid);
    e.entry_valid = e.attr_valid = kTimeout;
    fill_attr(e.attr, in);
  }

  // Every inode the kernel holds, with the name it was found under (for log lines) and the
  // count of lookups it answered: FORGET gives them back, and the entry goes with the last.
  void remember(std::uint64_t nid, std::uint64_t parent, std::string_view name) {
    std::lock_guard lock(names_mutex_);
    auto [it, added] = names_.try_emplace(nid, Name{parent, std::string(name), 0});
    ++it->second.lookups;
  }

  void forget(std::uint64_t ino, std::uint64_t nlookup) {
    std::uint64_t nid = to_nid(ino);
    std::lock_guard lock(names_mutex_);
    auto it = names_.find(nid);
    if (it == names_.end()) return;
    if (it->second.lookups <= nlookup) {
      names_.erase(it);
    } else {
      it->second.lookups -= nlookup;
    }
  }

  std::string path_of(std::uint64_t nid) {
    std::lock_guard lock(names_mutex_);
    std::string path;
    for (int depth = 0; nid != image_.root_nid() && depth < 4096; ++depth) {
      auto it = names_.find(nid);
      if (it == names_.end()) return "<inode " + std::to_string(nid) + ">" + path;
      path = "/" + it->second.name + path;
      nid = it->second.parent;
    }
    return path.empty() ? "/" : path;
  }

  void log(const std::string& line) const {
    if (options_.syslog) {
      ::syslog(LOG_WARNING, "%s", line.c_str());
    } else {
      std::fprintf(stderr, "composefs-fuse: %s\n", line.c_str());
    }
  }

  // --- operations ------------------------------------------------------------------------
  void handle(const char* msg, std::size_t len) {
    ArgReader args(msg, len);
    fuse_in_header in;
    try {
      in = args.take<fuse_in_header>();
    } catch (const Error&) {
      log("a request shorter than its header: ignored");  // no unique to reply to
      return;
    }
    if (options_.debug) log("op " + std::to_string(in.opcode) + " node " + std::to_string(in.nodeid));
    int err;
    try {
      err = dispatch(in, args);
    } catch (const Error& e) {
      err = e.code() == EUCLEAN ? EIO : e.code();
      if (e.code() == EUCLEAN) log(e.what());
    } catch (const std::bad_alloc&) {
      err = ENOMEM;
    } catch (...) {
      err = EIO;
    }
    if (err > 0) reply(in, err);
  }

  // Returns 0 when it replied itself, -1 for no reply, else an errno to reply with.
  int dispatch(const fuse_in_header& in, ArgReader& args) {
    switch (in.opcode) {
      case FUSE_INIT: return op_init(in, args);
      case FUSE_DESTROY: release_all_backing_ids(); reply(in, 0); done_ = true; return 0;
      case FUSE_FORGET: forget(in.nodeid, args.take<fuse_forget_in>().nlookup); return -1;
      case FUSE_BATCH_FORGET: {
        auto batch = args.take<fuse_batch_forget_in>();
        for (std::uint32_t i = 0; i < batch.count; ++i) {
          auto one = args.take<fuse_forget_one>();
          forget(one.nodeid, one.nlookup);
        }
        return -1;
      }
      case FUSE_INTERRUPT: return -1;
      case FUSE_LOOKUP: return op_lookup(in, args.name());
      case FUSE_GETATTR: {
        fuse_attr_out out{};
        out.attr_valid = kTimeout;
        fill_attr(out.attr, image_.inode(to_nid(in.nodeid)));
        reply_struct(in, out);
        return 0;
      }
      case FUSE_READLINK: {
        std::string target = image_.read_symlink(image_.inode(to_nid(in.nodeid)));
        reply(in, 0, target.data(), target.size());
        return 0;
      }
      case FUSE_OPEN: return op_open(in, args);
      case FUSE_READ: return op_read(in, args);
      case FUSE_RELEASE: return op_release(in, args);
      case FUSE_FLUSH: case FUSE_FSYNC: case FUSE_FSYNCDIR: reply(in, 0); return 0;
      case FUSE_OPENDIR: return op_opendir(in);
      case FUSE_READDIR: return op_readdir(in, args, false);
      case FUSE_READDIRPLUS: return op_readdir(in, args, true);
      case FUSE_RELEASEDIR: {
        auto r = args.take<fuse_release_in>();
        delete reinterpret_cast<DirHandle*>(r.fh);
        reply(in, 0);
        return 0;
      }
      case FUSE_STATFS: {
        fuse_statfs_out out{};
        out.st.blocks = image_.bytes().size() / 4096;
        out.st.files = image_.inode_count();
        out.st.bsize = out.st.frsize = 4096;
        out.st.namelen = 255;
        reply_struct(in, out);
        return 0;
      }
      case FUSE_GETXATTR: return op_getxattr(in, args);
      case FUSE_LISTXATTR: return op_listxattr(in, args);
      case FUSE_ACCESS: reply(in, 0); return 0;
      case FUSE_SETATTR: case FUSE_WRITE: case FUSE_CREATE: case FUSE_MKNOD: case FUSE_MKDIR:
      case FUSE_UNLINK: case FUSE_RMDIR: case FUSE_RENAME: case FUSE_RENAME2: case FUSE_LINK:
      case FUSE_SYMLINK: case FUSE_SETXATTR: case FUSE_REMOVEXATTR: case FUSE_FALLOCATE:
        return EROFS;
      default: return ENOSYS;
    }
  }

  int op_init(const fuse_in_header& in, ArgReader& args) {
    auto init = args.take_prefix<fuse_init_in>();
    InitOut out{};
    out.major = FUSE_KERNEL_VERSION;
    if (init.major != FUSE_KERNEL_VERSION) {  // the kernel retries with our major
      reply_struct(in, out);
      return 0;
    }
    out.minor = std::min<std::uint32_t>(init.minor, kPassthroughMinor);
    out.max_readahead = init.max_readahead;
    std::uint64_t offered = init.flags | (init.flags & FUSE_INIT_EXT ? std::uint64_t{init.flags2} << 32 : 0);
    std::uint64_t want = FUSE_ASYNC_READ | FUSE_DO_READDIRPLUS | FUSE_READDIRPLUS_AUTO |
                         FUSE_PARALLEL_DIROPS | FUSE_CACHE_SYMLINKS | FUSE_MAX_PAGES |
                         FUSE_INIT_EXT;
    // POSIX_ACL, for images with ACLs: the kernel then caches them per inode and applies
    // them in its permission checks, as EROFS does. Without ACLs, getxattr answers
    // EOPNOTSUPP for them and ls stops asking.
    if (acl_) want |= FUSE_POSIX_ACL;
    if (options_.passthrough) want |= kInitPassthrough;
    std::uint64_t flags = offered & want;
    passthrough_ = flags & kInitPassthrough;
    out.flags = static_cast<std::uint32_t>(flags);
    out.flags2 = static_cast<std::uint32_t>(flags >> 32);
    out.max_background = 64;
    out.congestion_threshold = 48;
    out.max_write = kMaxWrite;
    out.time_gran = 1;
    out.max_pages = kMaxWrite / 4096;
    // Backing files must sit on a non-stacked filesystem; this mount can then itself be a
    // lower layer of an overlay.
    out.max_stack_depth = passthrough_ ? 1 : 0;
    reply_struct(in, out);
    return 0;
  }

  int op_lookup(const fuse_in_header& in, std::string_view name) {
    std::uint64_t parent = to_nid(in.nodeid);
    auto found = image_.lookup(image_.inode(parent), name);
    if (!found || name == "." || name == "..") return ENOENT;
    reader::Inode child = image_.inode(found->nid);
    if (hidden(child)) return ENOENT;
    remember(child.nid, parent, name);
    fuse_entry_out out;
    fill_entry(out, child);
    reply_struct(in, out);
    return 0;
  }

  // Opens and verifies the backing object of an external file; EIO (and one log line) when
  // the image's redirect is refused, the object is missing or is not what the image records.
  // Opens the backing object of `in` into `h` and sets `digest` to what it must match (none
  // with verity=off or where the image records none). Returns 0 or the errno to reply.
  int open_backing(const reader::Inode& in, FileHandle& h, std::optional<Digest>& digest) {
    std::optional<std::string> redirect, metacopy;
    image_.for_each_xattr(in, [&](std::string_view n, std::string_view v) {
      if (n == format::kXattrRedirect) redirect = v;
      if (n == format::kXattrMetacopy) metacopy = v;
      return true;
    });
    std::string shown = !redirect ? "(none)" : redirect->size() <= 200 ? *redirect : redirect->substr(0, 200) + "...";
    h.shown_object = shown;
    auto fail = [&](const std::string& why) { return refuse(in, shown, why); };
    if (!redirect) return fail("no backing object recorded");
    std::optional<std::string_view> object = format::redirect_object(*redirect);
    if (!object) return fail("refused: the redirect does not name a file beneath a basedir");
    try {
      if (metacopy) digest = format::metacopy_digest(*metacopy);
    } catch (const Error& e) {
      return fail(e.what());
    }
    if (!digest && options_.verity == VerityMode::kRequire) return fail("no digest recorded (verity=require)");
    try {
      h.backing = objects_.open(*object);
    } catch (const Error& e) {
      return fail(e.what());
    }
    struct stat st {};
    if (::fstat(h.backing.get(), &st) != 0) return fail(std::strerror(errno));
    if (static_cast<std::uint64_t>(st.st_size) != in.size) {
      return fail("size " + std::to_string(st.st_size) + " differs from " + std::to_string(in.size));
    }
    if (options_.verity == VerityMode::kOff) digest.reset();
    return 0;
  }

  int refuse(const reader::Inode& in, const std::string& shown, const std::string& why) {
    ++stats_.verify_failures;
    log(path_of(in.nid) + ": object " + shown + ": " + why);
    return EIO;
  }

  int verify(FileHandle& h, const Digest& digest) {
    try {
      if (verifier_.matches(h.backing.get(), digest)) return 0;
      return refuse(h.inode, h.shown_object, "fs-verity digest differs from the image's");
    } catch (const Error& e) {
      return refuse(h.inode, h.shown_object, e.what());
    }
  }

  // The kernel takes one backing file per inode: every open of an inode shares one backing id
  // (a second, different one would make that open fail with EIO), released with the last open.
  int acquire_backing_id(std::uint64_t nid, int fd) {
    std::lock_guard lock(backing_mutex_);
    if (auto it = backing_ids_.find(nid); it != backing_ids_.end()) {
      ++it->second.opens;
      return it->second.id;
    }
    BackingMap map{fd, 0, 0};
    int id = ::ioctl(fd_, kIocBackingOpen, &map);
    if (id > 0) backing_ids_.emplace(nid, SharedBacking{id, 1});
    return id;
  }

  void release_backing_id(std::uint64_t nid) {
    std::lock_guard lock(backing_mutex_);
    auto it = backing_ids_.find(nid);
    if (it == backing_ids_.end() || --it->second.opens > 0) return;
    std::uint32_t id = static_cast<std::uint32_t>(it->second.id);
    ::ioctl(fd_, kIocBackingClose, &id);
    backing_ids_.erase(it);
  }

  void release_all_backing_ids() {
    std::lock_guard lock(backing_mutex_);
    for (auto& [nid, b] : backing_ids_) {
      std::uint32_t id = static_cast<std::uint32_t>(b.id);
      ::ioctl(fd_, kIocBackingClose, &id);
    }
    backing_ids_.clear();
  }

  int op_open(const fuse_in_header& in, ArgReader& args) {
    auto open_in = args.take<fuse_open_in>();
    if ((open_in.flags & O_ACCMODE) != O_RDONLY || (open_in.flags & O_TRUNC)) return EROFS;
    reader::Inode inode = image_.inode(to_nid(in.nodeid));
    if (inode.type() != S_IFREG) return EINVAL;
    auto h = std::make_unique<FileHandle>();
    h->inode = inode;
    if (inode.layout == format::kLayoutChunkBased && inode.size > 0) {
      std::optional<Digest> digest;
      if (int err = open_backing(inode, *h, digest); err != 0) return err;
      if (digest) {
        std::optional<bool> known = verifier_.cached(h->backing.get(), *digest);
        if (!known) {  // the object must be read: answered later, by another thread
          slow_opens_.add({in, std::move(h), *digest});
          return 0;
        }
        if (!*known) return refuse(inode, h->shown_object, "fs-verity digest differs from the image's");
      }
    }
    finish_open(in, std::move(h));
    return 0;
  }

  // A verified (or inline) file's open: its backing shared with the kernel where it can be.
  void finish_open(const fuse_in_header& in, std::unique_ptr<FileHandle> h) {
    OpenOut out{};
    out.open_flags = FOPEN_KEEP_CACHE;
    out.backing_id = 0;
    if (h->backing) {
      const reader::Inode& inode = h->inode;
      if (passthrough_) {
        int id = acquire_backing_id(inode.nid, h->backing.get());
        if (id > 0) {
          h->passthrough = true;
          h->backing.reset();  // the kernel holds the file now
          out.backing_id = id;
          out.open_flags = kOpenPassthrough;
          ++stats_.passthrough_opens;
        }
      }
    }
    ++stats_.opens;
    out.fh = reinterpret_cast<std::uint64_t>(h.release());
    reply_struct(in, out);
  }

  // Opens waiting for their object to be read and verified (a multi-GiB object takes
  // seconds): a few threads of their own finish them and reply by the request's unique,
  // so that the workers go on answering stat, readdir and reads meanwhile.
  class SlowOpens {
   public:
    struct Job {
      fuse_in_header in;
      std::unique_ptr<FileHandle> handle;
      Digest digest;
    };
    explicit SlowOpens(Session& s) : session_(s) {}
    void start(unsigned threads) {
      for (unsigned i = 0; i < threads; ++i) threads_.emplace_back([this] { work(); });
    }
    void add(Job job) {
      {
        std::lock_guard lock(mutex_);
        jobs_.push_back(std::move(job));
      }
      ready_.notify_one();
    }
    void stop() {
      {
        std::lock_guard lock(mutex_);
        closed_ = true;
      }
      ready_.notify_all();
      for (auto& t : threads_) t.join();
      threads_.clear();
    }

   private:
    void work() {
      for (;;) {
        Job job;
        {
          std::unique_lock lock(mutex_);
          ready_.wait(lock, [this] { return closed_ || !jobs_.empty(); });
          if (jobs_.empty()) return;
          job = std::move(jobs_.front());
          jobs_.pop_front();
        }
        if (int err = session_.verify(*job.handle, job.digest); err != 0) {
          session_.reply(job.in, err);
        } else {
          session_.finish_open(job.in, std::move(job.handle));
        }
      }
    }
    Session& session_;
    std::mutex mutex_;
    std::condition_variable ready_;
    std::deque<Job> jobs_;
    bool closed_ = false;
    std::vector<std::thread> threads_;
  };

  int op_read(const fuse_in_header& in, ArgReader& args) {
    auto r = args.take<fuse_read_in>();
    auto* h = reinterpret_cast<FileHandle*>(r.fh);
    if (h->passthrough) return EIO;  // the kernel reads those itself
    std::vector<std::byte> data(std::min<std::uint32_t>(r.size, kMaxWrite));
    std::size_t got = 0;
    if (h->backing) {
      for (;;) {
        ssize_t n = ::pread(h->backing.get(), data.data() + got, data.size() - got, static_cast<off_t>(r.offset + got));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return errno;
        got += static_cast<std::size_t>(n);
        if (n == 0 || got == data.size()) break;
      }
    } else {
      got = image_.read_data(h->inode, r.offset, data);
    }
    reply(in, 0, data.data(), got);
    return 0;
  }

  int op_release(const fuse_in_header& in, ArgReader& args) {
    auto r = args.take<fuse_release_in>();
    auto* h = reinterpret_cast<FileHandle*>(r.fh);
    if (h->passthrough) release_backing_id(h->inode.nid);
    delete h;
    reply(in, 0);
    return 0;
  }

  int op_opendir(const fuse_in_header& in) {
    std::uint64_t nid = to_nid(in.nodeid);
    reader::Inode dir = image_.inode(nid);
    auto h = std::make_unique<DirHandle>();
    image_.for_each_dirent(dir, [&](const reader::DirEntryView& e) {
      if (e.file_type == format::kFtCharDevice && e.name != "." && e.name != ".." &&
          hidden(image_.inode(e.nid))) {
        return true;
      }
      h->entries.push_back({std::string(e.name), e.nid, e.file_type});
      return true;
    });
    OpenOut out{};
    out.open_flags = FOPEN_KEEP_CACHE | FOPEN_CACHE_DIR;
    out.fh = reinterpret_cast<std::uint64_t>(h.release());
    reply_struct(in, out);
    return 0;
  }

  int op_readdir(const fuse_in_header& in, ArgReader& args, bool plus) {
    auto r = args.take<fuse_read_in>();
    auto* h = reinterpret_cast<DirHandle*>(r.fh);
    std::uint64_t parent = to_nid(in.nodeid);
    std::vector<char> out;
    out.reserve(r.size);
    for (std::uint64_t i = r.offset; i < h->entries.size(); ++i) {
      const auto& e = h->entries[i];
      std::size_t name_len = e.name.size();
      std::size_t entry_size = FUSE_DIRENT_ALIGN((plus ? sizeof(fuse_direntplus) : sizeof(fuse_dirent)) + name_len);
      if (out.size() + entry_size > r.size) break;
      std::size_t at = out.size();
      out.resize(at + entry_size, 0);
      fuse_dirent* d;
      if (plus) {
        fuse_direntplus dp{};
        bool dots = e.name == "." || e.name == "..";
        if (!dots) {
          reader::Inode child = image_.inode(e.nid);
          fill_entry(dp.entry_out, child);
          remember(child.nid, parent, e.name);
        }
        std::memcpy(out.data() + at, &dp, sizeof dp);
        d = reinterpret_cast<fuse_dirent*>(out.data() + at + offsetof(fuse_direntplus, dirent));
      } else {
        d = reinterpret_cast<fuse_dirent*>(out.data() + at);
      }
      fuse_dirent dirent{};
      dirent.ino = to_ino(e.nid);
      dirent.off = i + 1;
      dirent.namelen = static_cast<std::uint32_t>(name_len);
      static constexpr std::uint8_t kDt[] = {0, 8, 4, 2, 6, 1, 12, 10};  // EROFS type -> DT_*
      dirent.type = e.type < 8 ? kDt[e.type] : 0;
      std::memcpy(d, &dirent, sizeof dirent);
      std::memcpy(reinterpret_cast<char*>(d) + offsetof(fuse_dirent, name), e.name.data(), name_len);
    }
    reply(in, 0, out.data(), out.size());
    return 0;
  }

  // FUSE cannot cache xattrs, and `ls -l` asks every file for security.selinux and
  // system.posix_acl_access. What the whole image lacks is answered so that the kernel or
  // ls stop asking: ENOSYS when no inode shows any xattr (the kernel then answers
  // EOPNOTSUPP itself); EOPNOTSUPP for security.selinux when no inode has a label and for
  // ACLs when the image has none (ls then stops asking on this filesystem).
  const XattrSummary& xattr_summary() {
    std::call_once(summary_once_, [this] { summary_ = summarize_xattrs(image_, acl_); });
    return summary_;
  }

  int op_getxattr(const fuse_in_header& in, ArgReader& args) {
    const XattrSummary& summary = xattr_summary();
    if (!summary.any) return ENOSYS;
    auto g = args.take<fuse_getxattr_in>();
    std::string_view want = args.name();
    if (want == "security.selinux" && !summary.selinux) return EOPNOTSUPP;
    if (want.starts_with("system.posix_acl_") && !acl_) return EOPNOTSUPP;
    reader::Inode inode = image_.inode(to_nid(in.nodeid));
    std::optional<std::string> value;
    image_.for_each_xattr(inode, [&](std::string_view n, std::string_view v) {
      auto visible = visible_xattr_name(n, acl_, true);
      if (visible && *visible == want) value = v;
      return true;
    });
    if (!value) return ENODATA;  // for ACLs too: the kernel caches "no ACL"
    return reply_sized(in, g.size, *value);
  }

  int op_listxattr(const fuse_in_header& in, ArgReader& args) {
    if (!xattr_summary().any) return ENOSYS;
    auto g = args.take<fuse_getxattr_in>();
    reader::Inode inode = image_.inode(to_nid(in.nodeid));
    std::string list;
    image_.for_each_xattr(inode, [&](std::string_view n, std::string_view) {
      if (auto visible = visible_xattr_name(n, acl_, in.uid == 0)) {
        list += *visible;
        list += '\0';
      }
      return true;
    });
    return reply_sized(in, g.size, list);
  }

  int reply_sized(const fuse_in_header& in, std::uint32_t size, const std::string& value) {
    if (size == 0) {
      fuse_getxattr_out out{};
      out.size = static_cast<std::uint32_t>(value.size());
      reply_struct(in, out);
      return 0;
    }
    if (value.size() > size) return ERANGE;
    reply(in, 0, value.data(), value.size());
    return 0;
  }

  int fd_;
  const reader::Image& image_;
  const store::ObjectSource& objects_;
  const ServerOptions& options_;
  ServerStats& stats_;
  bool acl_ = false;
  std::once_flag summary_once_;
  XattrSummary summary_;
  std::atomic<bool> passthrough_{false};  // set by INIT, read by every worker
  std::atomic<bool> done_{false};
  std::atomic<bool> spinner_{false};
  ObjectVerifier verifier_;
  SlowOpens slow_opens_{*this};
  struct SharedBacking {
    int id;
    unsigned opens;
  };
  std::mutex backing_mutex_;
  std::unordered_map<std::uint64_t, SharedBacking> backing_ids_;  // by nid
  std::mutex names_mutex_;
  struct Name {
    std::uint64_t parent;
    std::string name;
    std::uint64_t lookups;
  };
  std::unordered_map<std::uint64_t, Name> names_;
};

}  // namespace

void serve(int fuse_fd, const reader::Image& image, const store::ObjectSource& objects,
           const ServerOptions& options, ServerStats& stats) {
  Session(fuse_fd, image, objects, options, stats).run();
}

}  // namespace cfs::fuse
