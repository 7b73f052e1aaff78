#include "fuse/operations.h"

#include <fcntl.h>
#include <linux/fuse.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/error.h"
#include "format/composefs.h"
#include "format/erofs.h"
#include "fuse/backing_ids.h"
#include "fuse/handles.h"
#include "fuse/later_replies.h"
#include "fuse/protocol.h"
#include "fuse/reply_errno.h"
#include "fuse/request.h"
#include "fuse/xattr_view.h"
#include "store/verifier.h"

namespace cfs::fuse {
namespace {

constexpr std::uint64_t kTimeout = 86400;  // images are immutable: cache entries for a day
constexpr unsigned kLaterReplyThreads = 2;

struct FileHandle {
  reader::Inode inode;
  UniqueFd backing;          // an external file's object, verified, when not passed through
  std::optional<Digest> verified_against;  // the image's digest of it, where checked
  bool passthrough = false;  // shares the inode's backing id with the kernel
  std::shared_ptr<store::PartialObject> partial;  // a large object served while it arrives
  std::string shown_object;  // the redirect, as log lines show it
};

// Object fds kept for reopening (BackingIds): a quarter of the descriptors we may hold, at
// most 4096.
std::size_t backing_fds_to_keep() {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0 || lim.rlim_cur == RLIM_INFINITY) return 4096;
  return std::min<std::size_t>(4096, lim.rlim_cur / 4);
}

// What answering a request came to: replied already, nothing to send (FORGET), or an errno.
constexpr int kReplied = 0;
constexpr int kNoReply = -1;

}  // namespace

class Operations::Impl {
 public:
  Impl(const reader::Image& image, const store::ObjectSource& objects, const ServerOptions& options,
       ServerStats& stats, Channel& channel)
      : image_(image), objects_(objects), options_(options), stats_(stats), channel_(channel),
        backing_ids_(channel, backing_fds_to_keep()), later_(reply_error()), fetches_(reply_error()) {
    acl_ = options.acl && (image.header_flags() & format::kComposefsFlagHasAcl);
    verifier_.set_slow_for_test(options.verify_delay_for_test_ms);
    later_.start(kLaterReplyThreads);
    fetches_.start(options.fetch_threads);
  }

  ~Impl() {
    fetches_.stop();
    later_.stop();
    backing_ids_.close_all();
  }

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
    if (!admitted(in)) {
      reply(in.unique, EACCES);
      return;
    }
    int err;
    try {
      err = dispatch(in, args);
    } catch (const Error& e) {
      if (e.code() == EUCLEAN) log(e.what());
      err = reply_errno_of_current_exception();
    } catch (...) {
      err = reply_errno_of_current_exception();
    }
    if (err > 0) reply(in.unique, err);
  }

  bool destroyed() const { return destroyed_; }
  bool over_uring() const { return over_uring_; }
  void server_log(const std::string& line) const { log(line); }
  std::size_t open_files() const { return files_.size(); }
  std::size_t known_inodes() const {
    std::lock_guard lock(names_mutex_);
    return names_.size();
  }
  std::size_t waiting_replies() const { return later_.waiting() + fetches_.waiting(); }

 private:
  // --- replies -------------------------------------------------------------------------
  void reply(std::uint64_t unique, int error, const void* data = nullptr, std::size_t size = 0) {
    channel_.reply(unique, error, data, size);
  }
  LaterReplies::Fail reply_error() {
    return [this](std::uint64_t unique, int error) { reply(unique, error); };
  }
  template <class T>
  int reply_struct(const fuse_in_header& in, const T& value) {
    reply(in.unique, 0, &value, sizeof value);
    return kReplied;
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
      std::lock_guard files_lock(inode_files_mutex_);
      inode_files_.erase(nid);  // the kernel holds no more opens of it
    } else {
      it->second.lookups -= nlookup;
    }
  }

  std::string path_of(std::uint64_t nid) const {
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

  // allow_root: only the owner and root get in. What the kernel sends on its own account or
  // on a handle already granted (reads, releases, forgets, interrupts) is not turned away;
  // directories have no handle, so their listings are checked like lookups.
  bool admitted(const fuse_in_header& in) const {
    const auto& owner = options_.owner_and_root_only;
    if (!owner || in.uid == 0 || in.uid == *owner) return true;
    switch (in.opcode) {
      case FUSE_INIT: case FUSE_DESTROY: case FUSE_FORGET: case FUSE_BATCH_FORGET:
      case FUSE_INTERRUPT: case FUSE_READ: case FUSE_RELEASE: case FUSE_FLUSH: case FUSE_FSYNC:
      case FUSE_RELEASEDIR: case FUSE_FSYNCDIR:
        return true;
      default:
        return false;
    }
  }

  // --- dispatch --------------------------------------------------------------------------
  // Returns kReplied, kNoReply or an errno to reply with.
  int dispatch(const fuse_in_header& in, ArgReader& args) {
    switch (in.opcode) {
      case FUSE_INIT: return op_init(in, args);
      case FUSE_DESTROY:
        backing_ids_.close_all();
        destroyed_ = true;
        reply(in.unique, 0);
        return kReplied;
      case FUSE_FORGET: forget(in.nodeid, args.take<fuse_forget_in>().nlookup); return kNoReply;
      case FUSE_BATCH_FORGET: {
        auto batch = args.take<fuse_batch_forget_in>();
        for (std::uint32_t i = 0; i < batch.count; ++i) {
          auto one = args.take<fuse_forget_one>();
          forget(one.nodeid, one.nlookup);
        }
        return kNoReply;
      }
      case FUSE_INTERRUPT: return op_interrupt(in, args);
      case FUSE_LOOKUP: return op_lookup(in, args.name());
      case FUSE_GETATTR: {
        fuse_attr_out out{};
        out.attr_valid = kTimeout;
        fill_attr(out.attr, image_.inode(to_nid(in.nodeid)));
        return reply_struct(in, out);
      }
      case FUSE_READLINK: {
        reader::Inode link = image_.inode(to_nid(in.nodeid));
        if (link.type() != S_IFLNK) return EINVAL;
        std::string target = image_.read_symlink(link);
        reply(in.unique, 0, target.data(), target.size());
        return kReplied;
      }
      case FUSE_OPEN: return op_open(in, args);
      case FUSE_READ: return op_read(in, args);
      case FUSE_RELEASE: return op_release(in, args);
      // ENOSYS: the kernel stops sending FLUSH, a round trip on every close().
      case FUSE_FLUSH: return ENOSYS;
      case FUSE_FSYNC: case FUSE_FSYNCDIR: reply(in.unique, 0); return kReplied;
      // Directories need no handle (a readdir offset says where to go on): ENOSYS tells the
      // kernel to stop sending OPENDIR and RELEASEDIR, two round trips per directory, and to
      // cache listings.
      case FUSE_OPENDIR: return ENOSYS;
      case FUSE_READDIR: return op_readdir(in, args, false);
      case FUSE_READDIRPLUS: return op_readdir(in, args, true);
      case FUSE_RELEASEDIR:  // only sent where OPENDIR succeeded: never
        args.take<fuse_release_in>();
        reply(in.unique, 0);
        return kReplied;
      case FUSE_STATFS: {
        fuse_statfs_out out{};
        out.st.blocks = image_.bytes().size() / 4096;
        out.st.files = image_.inode_count();
        out.st.bsize = out.st.frsize = 4096;
        out.st.namelen = format::kMaxNameLen;
        return reply_struct(in, out);
      }
      case FUSE_GETXATTR: return op_getxattr(in, args);
      case FUSE_LISTXATTR: return op_listxattr(in, args);
      case FUSE_ACCESS: reply(in.unique, 0); return kReplied;
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
    if (init.major != FUSE_KERNEL_VERSION) return reply_struct(in, out);  // the kernel retries
    bool ask_uring = options_.uring != UringMode::kOff;
    out.minor = std::min<std::uint32_t>(init.minor, ask_uring ? kUringMinor : kPassthroughMinor);
    out.max_readahead = init.max_readahead;
    std::uint64_t offered = init.flags | (init.flags & FUSE_INIT_EXT ? std::uint64_t{init.flags2} << 32 : 0);
    std::uint64_t want = FUSE_ASYNC_READ | FUSE_DO_READDIRPLUS | FUSE_READDIRPLUS_AUTO |
                         FUSE_PARALLEL_DIROPS | FUSE_CACHE_SYMLINKS | FUSE_MAX_PAGES |
                         FUSE_INIT_EXT;
    // POSIX_ACL, for images with ACLs: the kernel then caches them per inode and applies
    // them in its permission checks, as EROFS does. Without ACLs, getxattr answers
    // EOPNOTSUPP for them and ls stops asking.
    if (acl_) want |= FUSE_POSIX_ACL;
    if (options_.passthrough && !options_.no_open) want |= kInitPassthrough;
    if (options_.no_open) want |= FUSE_NO_OPEN_SUPPORT;
    if (ask_uring) want |= kInitOverIoUring;
    std::uint64_t flags = offered & want;
    passthrough_ = flags & kInitPassthrough;
    over_uring_ = flags & kInitOverIoUring;
    if ((want & kInitPassthrough) && !passthrough_) {
      log("the kernel has no FUSE passthrough (Linux 6.9 has it): file data is served from user space");
    }
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
    return reply_struct(in, out);
  }

  // An interrupted request that waits for a late reply is answered EINTR now. Others are
  // answered soon anyway; the kernel needs no reply to the interrupt itself (and ENOSYS
  // would turn interrupts off for good).
  int op_interrupt(const fuse_in_header&, ArgReader& args) {
    std::uint64_t unique = args.take<fuse_interrupt_in>().unique;
    if (later_.interrupt(unique) || fetches_.interrupt(unique)) reply(unique, EINTR);
    return kNoReply;
  }

  int op_lookup(const fuse_in_header& in, std::string_view name) {
    std::uint64_t parent = to_nid(in.nodeid);
    reader::Inode dir = image_.inode(parent);
    if (dir.type() != S_IFDIR) return ENOTDIR;
    if (name == "." || name == "..") return ENOENT;
    auto found = image_.lookup(dir, name);
    if (!found) return ENOENT;
    reader::Inode child = image_.inode(found->nid);
    if (hidden(child)) return ENOENT;
    remember(child.nid, parent, name);
    fuse_entry_out out;
    fill_entry(out, child);
    return reply_struct(in, out);
  }

  // --- files -----------------------------------------------------------------------------
  // The backing object an external file names: its store path and the digest the image
  // records. 0, or EIO with one log line when the redirect or the digest is refused.
  int locate_backing(FileHandle& h, std::string& object_path, std::optional<Digest>& digest) {
    const reader::Inode& in = h.inode;
    std::optional<std::string> redirect, metacopy;
    image_.for_each_xattr(in, [&](std::string_view n, std::string_view v) {
      if (n == format::kXattrRedirect) redirect = v;
      if (n == format::kXattrMetacopy) metacopy = v;
      return true;
    });
    h.shown_object = !redirect ? "(none)" : redirect->size() <= 200 ? *redirect : redirect->substr(0, 200) + "...";
    if (!redirect) return refuse(h, "no backing object recorded");
    std::optional<std::string_view> object = format::redirect_object(*redirect);
    if (!object) return refuse(h, "refused: the redirect does not name a file beneath a basedir");
    try {
      if (metacopy) digest = format::metacopy_digest(*metacopy);
    } catch (const Error& e) {
      return refuse(h, e.what());
    }
    if (!digest && options_.verity == VerityMode::kRequire) return refuse(h, "no digest recorded (verity=require)");
    object_path = *object;
    return 0;
  }

  // Opens the backing object of an external file into `h`; `digest` is set to what it must
  // still be checked against (none with verity=off, where the image records none, or where
  // the source verified it). 0, or EIO with one log line when the redirect is refused, the
  // object is missing (no mirror has it) or has the wrong size.
  int open_backing(FileHandle& h, std::optional<Digest>& digest) {
    std::string object;
    if (int err = locate_backing(h, object, digest); err != 0) return err;
    return open_located(h, object, digest);
  }

  // open_backing() of an object located already.
  int open_located(FileHandle& h, const std::string& object, std::optional<Digest>& digest) {
    store::OpenedObject opened;
    try {
      opened = objects_.open({object, digest, h.inode.size});
    } catch (const Error& e) {
      return refuse(h, e.what());
    }
    take_opened(h, std::move(opened), digest);
    return 0;
  }

  // `opened` becomes `h`'s backing; `digest` is what it must still be checked against.
  void take_opened(FileHandle& h, store::OpenedObject opened, std::optional<Digest>& digest) {
    h.backing = std::move(opened.fd);
    if (options_.verity == VerityMode::kOff || opened.verified) digest.reset();
  }

  int refuse(const FileHandle& h, const std::string& why) {
    ++stats_.verify_failures;
    log(path_of(h.inode.nid) + ": object " + h.shown_object + ": " + why);
    return EIO;
  }

  int verify(const FileHandle& h, const Digest& digest) {
    try {
      if (verifier_.matches(h.backing.get(), digest)) return 0;
      return refuse(h, "fs-verity digest differs from the image's");
    } catch (const Error& e) {
      return refuse(h, e.what());
    }
  }

  int op_open(const fuse_in_header& in, ArgReader& args) {
    // ENOSYS makes the kernel open every file without asking again (reads then come with
    // fh 0, and read_by_inode serves them).
    if (options_.no_open) return ENOSYS;
    auto open_in = args.take<fuse_open_in>();
    if ((open_in.flags & O_ACCMODE) != O_RDONLY || (open_in.flags & O_TRUNC)) return EROFS;
    auto h = std::make_shared<FileHandle>();
    h->inode = image_.inode(to_nid(in.nodeid));
    if (h->inode.type() != S_IFREG) return h->inode.type() == S_IFDIR ? EISDIR : EINVAL;
    if (h->inode.layout == format::kLayoutChunkBased && h->inode.size > 0) {
      if (passthrough_) {
        int id = backing_ids_.share(h->inode.nid, [this](int fd, const std::optional<Digest>& d) {
          return !d || verifier_.cached(fd, *d) == true;
        });
        if (id > 0) {
          reply_passthrough_open(in.unique, std::move(h), id);
          return kReplied;
        }
      }
      std::string object;
      std::optional<Digest> digest;
      if (int err = locate_backing(*h, object, digest); err != 0) return err;
      // One lookup says where the object is; only a local one is opened here.
      store::ResolvedObject found;
      try {
        found = objects_.resolve({object, digest, h->inode.size});
      } catch (const Error& e) {
        return refuse(*h, e.what());
      }
      if (found.where == store::ResolvedObject::Where::kRemote) return open_remote(in.unique, h, object, digest);
      if (found.where == store::ResolvedObject::Where::kStreaming) {
        h->partial = std::move(found.streaming);
        finish_open(in.unique, std::move(h));
        return kReplied;
      }
      take_opened(*h, std::move(found.local), digest);
      h->verified_against = digest;
      if (digest) {
        std::optional<bool> known = verifier_.cached(h->backing.get(), *digest);
        if (!known) return open_later(in.unique, std::move(h), *digest);
        if (!*known) return refuse(*h, "fs-verity digest differs from the image's");
      }
    }
    finish_open(in.unique, std::move(h));
    return kReplied;
  }

  // An object that is not local yet: the fetch threads get it from a mirror (which checks
  // it), or start streaming it, and answer.
  int open_remote(std::uint64_t unique, const std::shared_ptr<FileHandle>& h, const std::string& object,
                  const std::optional<Digest>& recorded) {
    bool queued = fetches_.add(unique, [this, unique, h, object, recorded]() -> std::function<void()> {
      std::optional<Digest> digest = recorded;
      try {
        h->partial = objects_.open_partial({object, recorded, h->inode.size});
      } catch (const Error& e) {
        int err = refuse(*h, e.what());
        return [this, unique, err] { reply(unique, err); };
      }
      if (h->partial) return [this, unique, h] { finish_open(unique, h); };
      int err = open_located(*h, object, digest);
      if (err == 0 && digest) err = verify(*h, *digest);
      if (err != 0) return [this, unique, err] { reply(unique, err); };
      h->verified_against = digest;
      return [this, unique, h] { finish_open(unique, h); };
    });
    return queued ? kReplied : EINTR;
  }

  // The object must be read to be verified: other threads do it and answer.
  int open_later(std::uint64_t unique, std::shared_ptr<FileHandle> h, const Digest& digest) {
    bool queued = later_.add(unique, [this, unique, h, digest]() -> std::function<void()> {
      if (int err = verify(*h, digest); err != 0) return [this, unique, err] { reply(unique, err); };
      return [this, unique, h] { finish_open(unique, h); };
    });
    return queued ? kReplied : EINTR;
  }

  // A verified (or inline) file's open: its backing shared with the kernel where it can be.
  void finish_open(std::uint64_t unique, std::shared_ptr<FileHandle> h) {
    if (h->backing && passthrough_) {
      int id = backing_ids_.acquire(h->inode.nid, h->backing, h->verified_against);
      if (id > 0) {
        h->backing.reset();  // the kernel holds the file (another open's, where it shared)
        reply_passthrough_open(unique, std::move(h), id);
        return;
      }
    }
    OpenOut out{};
    out.open_flags = FOPEN_KEEP_CACHE;
    ++stats_.opens;
    out.fh = files_.add(std::move(h));
    reply(unique, 0, &out, sizeof out);
  }

  void reply_passthrough_open(std::uint64_t unique, std::shared_ptr<FileHandle> h, int backing_id) {
    h->passthrough = true;
    OpenOut out{};
    out.backing_id = backing_id;
    out.open_flags = kOpenPassthrough;
    ++stats_.passthrough_opens;
    ++stats_.opens;
    out.fh = files_.add(std::move(h));
    reply(unique, 0, &out, sizeof out);
  }

  // With opens that send nothing: the inode's backing object, opened and verified by the
  // first READ that needs it, kept for the next ones (forgotten with the inode).
  std::shared_ptr<FileHandle> handle_of_inode(std::uint64_t nodeid, int& err) {
    std::uint64_t nid = to_nid(nodeid);
    {
      std::lock_guard lock(inode_files_mutex_);
      if (auto it = inode_files_.find(nid); it != inode_files_.end()) return it->second;
    }
    auto h = std::make_shared<FileHandle>();
    h->inode = image_.inode(nid);
    if (h->inode.type() != S_IFREG) {
      err = EINVAL;
      return nullptr;
    }
    if (h->inode.layout == format::kLayoutChunkBased && h->inode.size > 0) {
      std::optional<Digest> digest;
      if ((err = open_backing(*h, digest)) != 0) return nullptr;
      if (digest && (err = verify(*h, *digest)) != 0) return nullptr;
    }
    std::lock_guard lock(inode_files_mutex_);
    // Within the fd budget: one kept is dropped (reopened, and found verified, when needed).
    if (inode_files_.size() >= fd_budget_) inode_files_.erase(inode_files_.begin());
    return inode_files_.try_emplace(nid, std::move(h)).first->second;
  }

  int op_read(const fuse_in_header& in, ArgReader& args) {
    auto r = args.take<fuse_read_in>();
    std::shared_ptr<FileHandle> h;
    int err = EBADF;
    if (r.fh == 0 && options_.no_open) {
      h = handle_of_inode(in.nodeid, err);
    } else {
      h = files_.find(r.fh);
    }
    if (!h) return err;
    if (h->passthrough) return EIO;  // the kernel reads those itself
    if (h->partial) return read_partial(in.unique, h, r);
    std::vector<std::byte> data(std::min<std::uint32_t>(r.size, kMaxWrite));
    std::size_t got = 0;
    if (h->backing) {
      while (got < data.size()) {
        ssize_t n = ::pread(h->backing.get(), data.data() + got, data.size() - got, static_cast<off_t>(r.offset + got));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return errno;
        if (n == 0) break;
        got += static_cast<std::size_t>(n);
      }
    } else {
      got = image_.read_data(h->inode, r.offset, data);
    }
    reply(in.unique, 0, data.data(), got);
    return kReplied;
  }

  // A read of an object still arriving: at once when its blocks are here, else on a fetch
  // thread once they arrived and were checked.
  int read_partial(std::uint64_t unique, const std::shared_ptr<FileHandle>& h, const fuse_read_in& r) {
    auto answer = [this, unique, h, offset = r.offset, size = std::min<std::uint32_t>(r.size, kMaxWrite)]() -> std::function<void()> {
      auto data = std::make_shared<std::vector<std::byte>>(size);
      try {
        data->resize(h->partial->read(offset, *data));
      } catch (const Error& e) {
        int err = refuse(*h, e.what());
        return [this, unique, err] { reply(unique, err); };
      }
      return [this, unique, data] { reply(unique, 0, data->data(), data->size()); };
    };
    if (h->partial->ready(r.offset, std::min<std::uint32_t>(r.size, kMaxWrite))) {
      answer()();
      return kReplied;
    }
    return fetches_.add(unique, answer) ? kReplied : EINTR;
  }

  int op_release(const fuse_in_header& in, ArgReader& args) {
    std::shared_ptr<FileHandle> h = files_.remove(args.take<fuse_release_in>().fh);
    if (!h) return EBADF;
    if (h->passthrough) backing_ids_.release(h->inode.nid);
    reply(in.unique, 0);
    return kReplied;
  }

  // --- directories -----------------------------------------------------------------------
  // The entries from the offset on, as many as fit; each entry's offset is the position
  // after it (DirPosition::cookie), so no state is kept between calls.
  int op_readdir(const fuse_in_header& in, ArgReader& args, bool plus) {
    auto r = args.take<fuse_read_in>();
    reader::Inode dir = image_.inode(to_nid(in.nodeid));
    std::vector<char> out;
    out.reserve(std::min<std::uint32_t>(r.size, kMaxWrite));
    auto from = reader::DirPosition::of_cookie(r.offset);
    image_.for_each_dirent_from(dir, from, [&](const reader::DirEntryView& e, reader::DirPosition next) {
      bool dot = e.name == "." || e.name == "..";
      if (e.file_type == format::kFtCharDevice && !dot && hidden(image_.inode(e.nid))) return true;
      std::size_t name_len = e.name.size();
      std::size_t entry_size = FUSE_DIRENT_ALIGN((plus ? sizeof(fuse_direntplus) : sizeof(fuse_dirent)) + name_len);
      if (out.size() + entry_size > r.size) return false;
      std::size_t at = out.size();
      out.resize(at + entry_size, 0);
      std::size_t dirent_at = at;
      if (plus) {
        fuse_direntplus dp{};
        if (!dot) {
          reader::Inode child = image_.inode(e.nid);
          fill_entry(dp.entry_out, child);
          remember(child.nid, dir.nid, e.name);
        }
        std::memcpy(out.data() + at, &dp, sizeof dp);
        dirent_at += offsetof(fuse_direntplus, dirent);
      }
      fuse_dirent dirent{};
      dirent.ino = to_ino(e.nid);
      dirent.off = next.cookie();
      dirent.namelen = static_cast<std::uint32_t>(name_len);
      static constexpr std::uint8_t kDt[] = {0, 8, 4, 2, 6, 1, 12, 10};  // EROFS type -> DT_*
      dirent.type = e.file_type < 8 ? kDt[e.file_type] : 0;
      std::memcpy(out.data() + dirent_at, &dirent, sizeof dirent);
      std::memcpy(out.data() + dirent_at + offsetof(fuse_dirent, name), e.name.data(), name_len);
      return true;
    });
    reply(in.unique, 0, out.data(), out.size());
    return kReplied;
  }

  // --- xattrs ----------------------------------------------------------------------------
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
      return reply_struct(in, out);
    }
    if (value.size() > size) return ERANGE;
    reply(in.unique, 0, value.data(), value.size());
    return kReplied;
  }

  const reader::Image& image_;
  const store::ObjectSource& objects_;
  const ServerOptions& options_;
  ServerStats& stats_;
  Channel& channel_;
  bool acl_ = false;
  std::once_flag summary_once_;
  XattrSummary summary_;
  std::atomic<bool> passthrough_{false};  // set by INIT, read by every worker
  std::atomic<bool> over_uring_{false};   // INIT agreed on FUSE over io_uring
  std::mutex inode_files_mutex_;
  std::unordered_map<std::uint64_t, std::shared_ptr<FileHandle>> inode_files_;  // no_open only
  const std::size_t fd_budget_ = backing_fds_to_keep();  // for inode_files_
  std::atomic<bool> destroyed_{false};
  store::ObjectVerifier verifier_;
  HandleTable<FileHandle> files_;
  BackingIds backing_ids_;
  mutable std::mutex names_mutex_;
  struct Name {
    std::uint64_t parent;
    std::string name;
    std::uint64_t lookups;
  };
  std::unordered_map<std::uint64_t, Name> names_;
  LaterReplies later_;    // last: their threads use the members above until they stop
  LaterReplies fetches_;  // opens waiting for a mirror
};

Operations::Operations(const reader::Image& image, const store::ObjectSource& objects,
                       const ServerOptions& options, ServerStats& stats, Channel& channel)
    : impl_(std::make_unique<Impl>(image, objects, options, stats, channel)) {}
Operations::~Operations() = default;
void Operations::handle(const char* request, std::size_t size) { impl_->handle(request, size); }
bool Operations::destroyed() const { return impl_->destroyed(); }
bool Operations::over_uring() const { return impl_->over_uring(); }
void Operations::log(const std::string& line) const { impl_->server_log(line); }
std::size_t Operations::open_files() const { return impl_->open_files(); }
std::size_t Operations::known_inodes() const { return impl_->known_inodes(); }
std::size_t Operations::waiting_replies() const { return impl_->waiting_replies(); }

}  // namespace cfs::fuse
