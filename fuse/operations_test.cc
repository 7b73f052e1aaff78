// The FUSE operations driven in process: requests as bytes in, replies recorded by a channel
// of the test's own. No /dev/fuse, no root.
#include "fuse/operations.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/fuse.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <map>
#include <mutex>
#include <new>
#include <stdexcept>
#include <thread>

#include "base/error.h"
#include "dump/parse.h"
#include "fuse/protocol.h"
#include "reader/image.h"
#include "store/store.h"
#include "support/support.h"
#include "writer/writer.h"

namespace cfs::fuse {
namespace {

struct Reply {
  int error;
  std::string data;
};

class RecordingChannel final : public Channel {
 public:
  void reply(std::uint64_t unique, int error, const void* data, std::size_t size) override {
    std::lock_guard lock(mutex_);
    replies_[unique].push_back({error, error == 0 ? std::string(static_cast<const char*>(data), size) : ""});
    changed_.notify_all();
  }
  int open_backing(int) override {
    std::lock_guard lock(mutex_);
    ++backing_opens;
    return backing_id;
  }
  void close_backing(int id) override {
    std::lock_guard lock(mutex_);
    closed.push_back(id);
  }
  // Every reply to `unique` so far.
  std::vector<Reply> replies(std::uint64_t unique) {
    std::lock_guard lock(mutex_);
    return replies_[unique];
  }
  // The one reply to `unique`, waiting up to 10 s for it.
  Reply wait(std::uint64_t unique) {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, std::chrono::seconds(10), [&] { return !replies_[unique].empty(); });
    EXPECT_EQ(replies_[unique].size(), 1u) << "request " << unique;
    return replies_[unique].empty() ? Reply{-1, ""} : replies_[unique][0];
  }

  int backing_id = -ENOSYS;  // what open_backing answers (-errno: passthrough refused)
  int backing_opens = 0;
  std::vector<int> closed;

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::map<std::uint64_t, std::vector<Reply>> replies_;
};

template <class T>
std::string bytes_of(const T& v) {
  return std::string(reinterpret_cast<const char*>(&v), sizeof v);
}
template <class T>
T struct_of(const std::string& s) {
  T v{};
  EXPECT_GE(s.size(), sizeof v);
  std::memcpy(&v, s.data(), std::min(s.size(), sizeof v));
  return v;
}

constexpr char kContent[] = "the content of an external file, kept in the store\n";

class OperationsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store::ObjectStore store((tmp_ / "objects").string());
    std::string content = kContent;
    std::size_t at = 0;
    auto ingested = store.ingest_stream([&](std::span<std::byte> buf) {
      std::size_t n = std::min(buf.size(), content.size() - at);
      std::memcpy(buf.data(), content.data() + at, n);
      at += n;
      return n;
    });
    store.flush();
    object_ = object_path(ingested.digest);
    std::string size = std::to_string(content.size());
    dump_ =
        "/ 4096 40755 3 0 0 0 1700000000.0 - - - user.top=1\n"
        "/dir 4096 40755 2 0 0 0 1700000000.0 - - -\n"
        "/dir/inline 6 100644 1 1000 1000 0 1700000000.0 - hello\\n - user.a=value\n"
        "/dir/gone 0 20000 1 0 0 0 1700000000.0 - - -\n"
        "/ext " + size + " 100644 1 0 0 0 1700000000.0 " + object_ + " - " + to_hex(ingested.digest) + "\n"
        "/link 3 120777 1 0 0 0 1700000000.0 dir - -\n";
    image_bytes_ = writer::write_to_vector(dump::parse(dump_));
    image_.emplace(reader::Image::open(image_bytes_));
    objects_.emplace(std::vector<std::string>{(tmp_ / "objects").string()});
  }

  // The same tree as a format V2 image (composefs-rs's legacy layout).
  void use_format_v2() {
    image_bytes_ = writer::write_to_vector(dump::parse(dump_), writer::Options::exactly(2));
    image_.emplace(reader::Image::open(image_bytes_));
  }

  void start(const store::ObjectSource* source = nullptr) {
    ops_.emplace(*image_, source ? *source : *objects_, options_, stats_, channel_);
  }

  // Sends one request; returns its unique.
  std::uint64_t send(std::uint32_t opcode, std::uint64_t node, const std::string& args = {}) {
    fuse_in_header in{};
    in.len = static_cast<std::uint32_t>(sizeof in + args.size());
    in.opcode = opcode;
    in.unique = ++unique_;
    in.nodeid = node;
    in.uid = uid_;
    std::string msg = bytes_of(in) + args;
    ops_->handle(msg.data(), msg.size());
    return in.unique;
  }
  Reply call(std::uint32_t opcode, std::uint64_t node, const std::string& args = {}) {
    return channel_.wait(send(opcode, node, args));
  }
  std::uint64_t init(std::uint64_t offered) {
    fuse_init_in init{};
    init.major = FUSE_KERNEL_VERSION;
    init.minor = kPassthroughMinor;
    init.flags = static_cast<std::uint32_t>(offered) | FUSE_INIT_EXT;
    init.flags2 = static_cast<std::uint32_t>(offered >> 32);
    InitOut out = struct_of<InitOut>(call(FUSE_INIT, 0, bytes_of(init)).data);
    return out.flags | std::uint64_t{out.flags2} << 32;
  }
  fuse_entry_out lookup(std::uint64_t parent, const std::string& name) {
    Reply r = call(FUSE_LOOKUP, parent, name + '\0');
    EXPECT_EQ(r.error, 0) << name;
    return struct_of<fuse_entry_out>(r.data);
  }
  Reply open(std::uint64_t node) {
    fuse_open_in o{};
    o.flags = O_RDONLY;
    return call(FUSE_OPEN, node, bytes_of(o));
  }
  Reply read(std::uint64_t node, std::uint64_t fh, std::uint32_t size = 4096) {
    fuse_read_in r{};
    r.fh = fh;
    r.size = size;
    return call(FUSE_READ, node, bytes_of(r));
  }
  Reply release(std::uint32_t opcode, std::uint64_t node, std::uint64_t fh) {
    fuse_release_in r{};
    r.fh = fh;
    return call(opcode, node, bytes_of(r));
  }
  void corrupt_object() {
    std::string path = (tmp_ / "objects" / object_).string();
    ::chmod(path.c_str(), 0644);
    std::string changed = kContent;
    changed[0] = 'T';
    test::write_file(path, changed);
  }

  test::TempDir tmp_;
  std::string dump_;
  std::string object_;
  std::vector<std::byte> image_bytes_;
  std::optional<reader::Image> image_;
  std::optional<store::DirectorySource> objects_;
  ServerOptions options_;
  ServerStats stats_;
  RecordingChannel channel_;
  std::optional<Operations> ops_;
  std::uint64_t unique_ = 0;
  std::uint32_t uid_ = 0;  // who the requests come from
};

TEST_F(OperationsTest, InitTakesPassthroughOnlyWhenOffered) {
  start();
  EXPECT_FALSE(init(FUSE_ASYNC_READ) & kInitPassthrough);
  EXPECT_TRUE(init(FUSE_ASYNC_READ | kInitPassthrough) & kInitPassthrough);
  options_.passthrough = false;
  start();
  EXPECT_FALSE(init(kInitPassthrough) & kInitPassthrough) << "-o nopassthrough";
}

TEST_F(OperationsTest, AllowRootTurnsAwayEveryoneButTheOwnerAndRoot) {
  options_.owner_and_root_only = 1000;
  start();
  uid_ = 1000;
  fuse_entry_out dir = lookup(FUSE_ROOT_ID, "dir");
  fuse_entry_out file = lookup(dir.nodeid, "inline");
  auto fh = struct_of<OpenOut>(open(file.nodeid).data).fh;
  uid_ = 0;
  EXPECT_EQ(call(FUSE_LOOKUP, FUSE_ROOT_ID, std::string("dir\0", 4)).error, 0) << "root";
  uid_ = 2000;
  EXPECT_EQ(call(FUSE_LOOKUP, FUSE_ROOT_ID, std::string("dir\0", 4)).error, EACCES);
  EXPECT_EQ(call(FUSE_GETATTR, file.nodeid, std::string(16, '\0')).error, EACCES);
  EXPECT_EQ(open(file.nodeid).error, EACCES);
  EXPECT_EQ(call(FUSE_OPENDIR, dir.nodeid, std::string(8, '\0')).error, EACCES);
  // A handle the owner opened is read and released whoever the kernel says is asking.
  EXPECT_EQ(read(file.nodeid, fh).data, "hello\n");
  EXPECT_EQ(release(FUSE_RELEASE, file.nodeid, fh).error, 0);
  options_.owner_and_root_only.reset();
  start();
  EXPECT_EQ(call(FUSE_LOOKUP, FUSE_ROOT_ID, std::string("dir\0", 4)).error, 0) << "without allow_root";
}

TEST_F(OperationsTest, LookupGetattrReadlink) {
  start();
  fuse_entry_out dir = lookup(FUSE_ROOT_ID, "dir");
  EXPECT_TRUE(S_ISDIR(dir.attr.mode));
  fuse_entry_out file = lookup(dir.nodeid, "inline");
  EXPECT_EQ(file.attr.size, 6u);
  EXPECT_EQ(file.attr.uid, 1000u);
  EXPECT_EQ(call(FUSE_LOOKUP, dir.nodeid, std::string("missing\0", 8)).error, ENOENT);
  EXPECT_EQ(call(FUSE_LOOKUP, FUSE_ROOT_ID, std::string("00\0", 3)).error, ENOENT) << "the root's whiteouts";
  fuse_entry_out gone = lookup(dir.nodeid, "gone");  // a tree's whiteout: an xwhiteout, as in the kernel mount
  EXPECT_EQ(gone.attr.mode, 0100000u);
  EXPECT_EQ(call(FUSE_LOOKUP, file.nodeid, std::string("x\0", 2)).error, ENOTDIR);
  auto attr = struct_of<fuse_attr_out>(call(FUSE_GETATTR, file.nodeid, std::string(16, '\0')).data);
  EXPECT_EQ(attr.attr.mode, 0100644u);
  fuse_entry_out link = lookup(FUSE_ROOT_ID, "link");
  EXPECT_EQ(call(FUSE_READLINK, link.nodeid).data, "dir");
  EXPECT_EQ(call(FUSE_READLINK, file.nodeid).error, EINVAL);
  EXPECT_EQ(call(FUSE_MKDIR, dir.nodeid, std::string(16, '\0')).error, EROFS);
  EXPECT_EQ(call(12345, dir.nodeid).error, ENOSYS);
}

TEST_F(OperationsTest, InlineFileOpenReadRelease) {
  start();
  fuse_entry_out file = lookup(lookup(FUSE_ROOT_ID, "dir").nodeid, "inline");
  Reply opened = open(file.nodeid);
  ASSERT_EQ(opened.error, 0);
  auto out = struct_of<OpenOut>(opened.data);
  EXPECT_EQ(read(file.nodeid, out.fh).data, "hello\n");
  EXPECT_EQ(ops_->open_files(), 1u);
  EXPECT_EQ(release(FUSE_RELEASE, file.nodeid, out.fh).error, 0);
  EXPECT_EQ(ops_->open_files(), 0u);
  EXPECT_EQ(read(file.nodeid, out.fh).error, EBADF) << "a released handle";
  EXPECT_EQ(read(file.nodeid, 0xdeadbeef).error, EBADF) << "a handle never given";
  EXPECT_EQ(release(FUSE_RELEASE, file.nodeid, out.fh).error, EBADF);
  fuse_open_in w{};
  w.flags = O_WRONLY;
  EXPECT_EQ(call(FUSE_OPEN, file.nodeid, bytes_of(w)).error, EROFS);
}

TEST_F(OperationsTest, ExternalFileIsVerifiedOnOpen) {
  start();
  fuse_entry_out ext = lookup(FUSE_ROOT_ID, "ext");
  Reply opened = open(ext.nodeid);
  ASSERT_EQ(opened.error, 0);
  auto fh = struct_of<OpenOut>(opened.data).fh;
  EXPECT_EQ(read(ext.nodeid, fh).data, kContent);
  EXPECT_EQ(stats_.verify_failures, 0u);

  corrupt_object();  // a changed object (new ctime) is measured again
  EXPECT_EQ(open(ext.nodeid).error, EIO);
  EXPECT_EQ(stats_.verify_failures, 1u);
  options_.verity = VerityMode::kOff;
  start();
  EXPECT_EQ(open(ext.nodeid).error, 0) << "verity=off";
}

// A V2 image serves the same tree, except that its whiteout is the char device 0/0 it stores,
// which overlayfs (and so this server) takes for a whiteout: hidden.
TEST_F(OperationsTest, FormatV2ImageServesTheSameTree) {
  use_format_v2();
  ASSERT_EQ(image_->composefs_version(), 2u);
  start();
  fuse_entry_out dir = lookup(FUSE_ROOT_ID, "dir");
  EXPECT_TRUE(S_ISDIR(dir.attr.mode));
  fuse_entry_out file = lookup(dir.nodeid, "inline");
  EXPECT_EQ(file.attr.uid, 1000u);
  EXPECT_EQ(file.attr.ino, image_->inode(file.nodeid).ino) << "V2's ino is the nid";
  Reply opened = open(file.nodeid);
  ASSERT_EQ(opened.error, 0);
  EXPECT_EQ(read(file.nodeid, struct_of<OpenOut>(opened.data).fh).data, "hello\n");
  EXPECT_EQ(call(FUSE_LOOKUP, dir.nodeid, std::string("gone\0", 5)).error, ENOENT);
  fuse_entry_out ext = lookup(FUSE_ROOT_ID, "ext");
  opened = open(ext.nodeid);
  ASSERT_EQ(opened.error, 0);
  EXPECT_EQ(read(ext.nodeid, struct_of<OpenOut>(opened.data).fh).data, kContent);
  EXPECT_EQ(call(FUSE_READLINK, lookup(FUSE_ROOT_ID, "link").nodeid).data, "dir");
  fuse_getxattr_in g{};
  g.size = 100;
  EXPECT_EQ(call(FUSE_GETXATTR, file.nodeid, bytes_of(g) + "user.a" + '\0').data, "value");
  EXPECT_EQ(call(FUSE_LISTXATTR, FUSE_ROOT_ID, bytes_of(g)).data, std::string("user.top\0", 9));
}

// -o noopen: OPEN is answered ENOSYS (the kernel then opens without asking), READ comes with
// fh 0 and is served by inode, the object verified before its first byte; passthrough is
// not negotiated.
TEST_F(OperationsTest, NoOpenServesReadsByInodeAfterVerifying) {
  options_.no_open = true;
  start();
  std::uint64_t flags = init(FUSE_NO_OPEN_SUPPORT | kInitPassthrough | FUSE_ASYNC_READ);
  EXPECT_TRUE(flags & FUSE_NO_OPEN_SUPPORT);
  EXPECT_FALSE(flags & kInitPassthrough);
  fuse_entry_out ext = lookup(FUSE_ROOT_ID, "ext");
  fuse_entry_out dir = lookup(FUSE_ROOT_ID, "dir");
  fuse_entry_out inl = lookup(dir.nodeid, "inline");
  EXPECT_EQ(open(ext.nodeid).error, ENOSYS);
  EXPECT_EQ(read(ext.nodeid, 0).data, kContent);
  EXPECT_EQ(read(inl.nodeid, 0).data, "hello\n");
  EXPECT_EQ(stats_.verify_failures, 0u);
  // Forgotten, then read again after the object changed: measured again, refused.
  fuse_forget_in f{};
  f.nlookup = 1;
  send(FUSE_FORGET, ext.nodeid, bytes_of(f));
  corrupt_object();
  ext = lookup(FUSE_ROOT_ID, "ext");
  EXPECT_EQ(read(ext.nodeid, 0).error, EIO);
  EXPECT_EQ(stats_.verify_failures, 1u);
}

TEST_F(OperationsTest, PassthroughSharesOneBackingIdPerInode) {
  channel_.backing_id = 7;
  start();
  init(kInitPassthrough);
  fuse_entry_out ext = lookup(FUSE_ROOT_ID, "ext");
  auto a = struct_of<OpenOut>(open(ext.nodeid).data);
  auto b = struct_of<OpenOut>(open(ext.nodeid).data);
  EXPECT_EQ(a.backing_id, 7);
  EXPECT_EQ(b.backing_id, 7);
  EXPECT_EQ(a.open_flags & kOpenPassthrough, kOpenPassthrough);
  EXPECT_EQ(channel_.backing_opens, 1);
  EXPECT_EQ(read(ext.nodeid, a.fh).error, EIO) << "the kernel reads passthrough files itself";
  release(FUSE_RELEASE, ext.nodeid, a.fh);
  EXPECT_TRUE(channel_.closed.empty()) << "still open once";
  release(FUSE_RELEASE, ext.nodeid, b.fh);
  EXPECT_TRUE(channel_.closed.empty()) << "kept for the next open";
  EXPECT_EQ(stats_.passthrough_opens, 2u);

  auto c = struct_of<OpenOut>(open(ext.nodeid).data);
  EXPECT_EQ(c.backing_id, 7);
  EXPECT_EQ(channel_.backing_opens, 1) << "a reopen shares the kept id";
  release(FUSE_RELEASE, ext.nodeid, c.fh);

  corrupt_object();  // the kept id's object changed: given back, and the object measured again
  EXPECT_EQ(open(ext.nodeid).error, EIO);
  EXPECT_EQ(channel_.closed, std::vector<int>{7});
}

TEST_F(OperationsTest, BackingIdsAreGivenBackAtDestroy) {
  channel_.backing_id = 9;
  start();
  init(kInitPassthrough);
  fuse_entry_out ext = lookup(FUSE_ROOT_ID, "ext");
  ASSERT_EQ(open(ext.nodeid).error, 0);
  EXPECT_EQ(call(FUSE_DESTROY, 0).error, 0);
  EXPECT_TRUE(ops_->destroyed());
  EXPECT_EQ(channel_.closed, std::vector<int>{9});
}

TEST_F(OperationsTest, ReaddirListsEntriesAndForgetGivesLookupsBack) {
  start();
  fuse_entry_out dir = lookup(FUSE_ROOT_ID, "dir");
  EXPECT_EQ(call(FUSE_OPENDIR, dir.nodeid, std::string(sizeof(fuse_open_in), '\0')).error, ENOSYS)
      << "directories need no handle";
  fuse_read_in r{};
  r.size = 4096;
  // Names and the offset after each entry.
  auto list = [&](std::uint32_t opcode, std::uint64_t node) {
    std::string listing = call(opcode, node, bytes_of(r)).data;
    std::vector<std::pair<std::string, std::uint64_t>> entries;
    std::size_t header = opcode == FUSE_READDIRPLUS ? sizeof(fuse_direntplus) : sizeof(fuse_dirent);
    std::size_t skip = opcode == FUSE_READDIRPLUS ? offsetof(fuse_direntplus, dirent) : 0;
    for (std::size_t at = 0; at < listing.size();) {
      auto d = struct_of<fuse_dirent>(listing.substr(at + skip));
      entries.emplace_back(listing.substr(at + header, d.namelen), d.off);
      at += FUSE_DIRENT_ALIGN(header + d.namelen);
    }
    return entries;
  };
  auto names = [](const std::vector<std::pair<std::string, std::uint64_t>>& entries) {
    std::vector<std::string> out;
    for (const auto& e : entries) out.push_back(e.first);
    return out;
  };
  auto all = list(FUSE_READDIRPLUS, dir.nodeid);
  EXPECT_EQ(names(all), (std::vector<std::string>{".", "..", "gone", "inline"}));
  ASSERT_EQ(all.size(), 4u);
  r.offset = all[1].second;  // go on after ".."
  EXPECT_EQ(names(list(FUSE_READDIR, dir.nodeid)), (std::vector<std::string>{"gone", "inline"}));
  r.offset = all[3].second;
  EXPECT_TRUE(list(FUSE_READDIR, dir.nodeid).empty()) << "the end";
  r.offset = ~0ull;
  EXPECT_TRUE(list(FUSE_READDIR, dir.nodeid).empty()) << "an offset past every block";
  r.offset = 0;
  EXPECT_EQ(names(list(FUSE_READDIR, FUSE_ROOT_ID)), (std::vector<std::string>{".", "..", "dir", "ext", "link"}))
      << "the root's whiteouts are hidden";
  r.size = 10;  // too small for any entry
  EXPECT_EQ(call(FUSE_READDIR, dir.nodeid, bytes_of(r)).data, "");
  std::uint64_t file = lookup(dir.nodeid, "inline").nodeid;
  EXPECT_EQ(call(FUSE_READDIR, file, bytes_of(r)).error, ENOTDIR);
  send(FUSE_FORGET, file, bytes_of(fuse_forget_in{1}));

  // dir (one lookup), gone and inline (one readdirplus entry each): FORGET gives them back.
  EXPECT_EQ(ops_->known_inodes(), 3u);
  fuse_forget_in f{1};
  send(FUSE_FORGET, dir.nodeid, bytes_of(f));
  EXPECT_EQ(ops_->known_inodes(), 2u);
  fuse_batch_forget_in batch{2, 0};
  fuse_forget_one inline_once{lookup(dir.nodeid, "inline").nodeid, 1};  // of its two
  fuse_forget_one gone{lookup(dir.nodeid, "gone").nodeid, 2};
  send(FUSE_BATCH_FORGET, 0, bytes_of(batch) + bytes_of(inline_once) + bytes_of(gone));
  EXPECT_EQ(ops_->known_inodes(), 1u);
  send(FUSE_FORGET, inline_once.nodeid, bytes_of(f));
  EXPECT_EQ(ops_->known_inodes(), 0u);
}

TEST_F(OperationsTest, Xattrs) {
  start();
  fuse_entry_out file = lookup(lookup(FUSE_ROOT_ID, "dir").nodeid, "inline");
  fuse_getxattr_in g{};
  EXPECT_EQ(struct_of<fuse_getxattr_out>(call(FUSE_GETXATTR, file.nodeid, bytes_of(g) + "user.a" + '\0').data).size, 5u);
  g.size = 100;
  EXPECT_EQ(call(FUSE_GETXATTR, file.nodeid, bytes_of(g) + "user.a" + '\0').data, "value");
  EXPECT_EQ(call(FUSE_GETXATTR, file.nodeid, bytes_of(g) + "user.b" + '\0').error, ENODATA);
  EXPECT_EQ(call(FUSE_GETXATTR, file.nodeid, bytes_of(g) + "security.selinux" + '\0').error, EOPNOTSUPP);
  g.size = 2;
  EXPECT_EQ(call(FUSE_GETXATTR, file.nodeid, bytes_of(g) + "user.a" + '\0').error, ERANGE);
  g.size = 100;
  EXPECT_EQ(call(FUSE_LISTXATTR, file.nodeid, bytes_of(g)).data, std::string("user.a\0", 7));
}

// Every request cut short anywhere is answered EINVAL (or, shorter than its header, ignored),
// and the session goes on.
TEST_F(OperationsTest, TruncatedRequestsAreRefused) {
  start();
  const std::uint32_t opcodes[] = {FUSE_INIT, FUSE_LOOKUP, FUSE_OPEN, FUSE_READ, FUSE_RELEASE,
                                   FUSE_READDIR, FUSE_READDIRPLUS, FUSE_RELEASEDIR, FUSE_GETXATTR,
                                   FUSE_LISTXATTR, FUSE_FORGET, FUSE_BATCH_FORGET, FUSE_INTERRUPT};
  for (std::uint32_t op : opcodes) {
    if (op == FUSE_INIT) continue;  // a short INIT is zero-filled by design
    std::uint64_t u = send(op, FUSE_ROOT_ID, std::string(3, 'x'));
    std::vector<Reply> got = channel_.replies(u);
    if (op == FUSE_FORGET || op == FUSE_BATCH_FORGET || op == FUSE_INTERRUPT) {
      EXPECT_TRUE(got.empty() || got[0].error == EINVAL) << op;
    } else {
      ASSERT_EQ(got.size(), 1u) << op;
      EXPECT_EQ(got[0].error, EINVAL) << op;
    }
  }
  std::string half_header(sizeof(fuse_in_header) / 2, '\0');
  ops_->handle(half_header.data(), half_header.size());
  EXPECT_EQ(call(FUSE_LOOKUP, FUSE_ROOT_ID, std::string("dir\0", 4)).error, 0) << "still serving";
}

TEST_F(OperationsTest, NodesThatAreNotInodesAreRefused) {
  start();
  for (std::uint64_t node : {std::uint64_t{0}, std::uint64_t{3}, std::uint64_t{1} << 40}) {
    Reply r = call(FUSE_GETATTR, node, std::string(16, '\0'));
    EXPECT_NE(r.error, 0) << node;
  }
}

// An open whose object is being verified waits for its reply while other requests are
// answered; an interrupt ends the wait with EINTR and the late answer is dropped.
TEST_F(OperationsTest, SlowOpenIsAnsweredLaterAndCanBeInterrupted) {
  options_.verify_delay_for_test_ms = 1500;
  start();
  fuse_entry_out ext = lookup(FUSE_ROOT_ID, "ext");
  fuse_open_in o{};
  std::uint64_t slow = send(FUSE_OPEN, ext.nodeid, bytes_of(o));
  EXPECT_TRUE(channel_.replies(slow).empty()) << "answered later";
  EXPECT_EQ(call(FUSE_GETATTR, ext.nodeid, std::string(16, '\0')).error, 0) << "others meanwhile";
  fuse_interrupt_in intr{slow};
  send(FUSE_INTERRUPT, 0, bytes_of(intr));
  EXPECT_EQ(channel_.wait(slow).error, EINTR);
  for (int i = 0; i < 100 && ops_->waiting_replies() > 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(ops_->waiting_replies(), 0u);
  EXPECT_EQ(channel_.replies(slow).size(), 1u) << "the late answer is dropped";
  EXPECT_EQ(ops_->open_files(), 0u) << "and its handle with it";

  // Measured now: the next open is answered at once, and fine.
  Reply again = open(ext.nodeid);
  EXPECT_EQ(again.error, 0);
}

TEST_F(OperationsTest, InterruptArrivingBeforeItsOpenStillWins) {
  options_.verify_delay_for_test_ms = 1500;
  start();
  fuse_entry_out ext = lookup(FUSE_ROOT_ID, "ext");
  fuse_interrupt_in intr{unique_ + 2};  // the open's unique, sent next but one
  send(FUSE_INTERRUPT, 0, bytes_of(intr));
  fuse_open_in o{};
  std::uint64_t slow = send(FUSE_OPEN, ext.nodeid, bytes_of(o));
  ASSERT_EQ(slow, intr.unique);
  EXPECT_EQ(channel_.wait(slow).error, EINTR);
}

// A mirror-like source: objects are "not local" and each open waits until the test lets the
// download finish (or fail).
class GatedSource final : public store::ObjectSource {
 public:
  explicit GatedSource(const store::ObjectSource& inner) : inner_(inner) {}
  store::OpenedObject open(const store::ObjectRef& ref) const override {
    std::unique_lock lock(mutex_);
    ++opens_;
    changed_.wait(lock, [&] { return released_; });
    if (fail_) throw Error(EIO, "no mirror has a valid copy (test)");
    store::OpenedObject o = inner_.open(ref);
    o.verified = true;
    return o;
  }
  store::ResolvedObject resolve(const store::ObjectRef&) const override { return store::ResolvedObject(); }  // remote
  void release(bool fail) {
    std::lock_guard lock(mutex_);
    released_ = true;
    fail_ = fail;
    changed_.notify_all();
  }
  int opens() const {
    std::lock_guard lock(mutex_);
    return opens_;
  }

 private:
  const store::ObjectSource& inner_;
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  mutable int opens_ = 0;
  bool released_ = false, fail_ = false;
};

TEST_F(OperationsTest, OpensWaitingForAMirrorHoldUpNothingElse) {
  GatedSource gated(*objects_);
  start(&gated);
  fuse_entry_out ext = lookup(FUSE_ROOT_ID, "ext");
  fuse_entry_out dir = lookup(FUSE_ROOT_ID, "dir");
  fuse_open_in o{};
  std::uint64_t first = send(FUSE_OPEN, ext.nodeid, bytes_of(o));
  std::uint64_t second = send(FUSE_OPEN, ext.nodeid, bytes_of(o));
  std::uint64_t interrupted = send(FUSE_OPEN, ext.nodeid, bytes_of(o));
  for (int i = 0; i < 100 && gated.opens() < 3; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(gated.opens(), 3) << "each waits on a fetch thread of its own";
  // Everything else is answered meanwhile, an interrupted open at once.
  EXPECT_EQ(call(FUSE_GETATTR, ext.nodeid, std::string(16, '\0')).error, 0);
  fuse_entry_out inl = lookup(dir.nodeid, "inline");
  Reply opened = open(inl.nodeid);
  EXPECT_EQ(opened.error, 0);
  EXPECT_EQ(read(inl.nodeid, struct_of<OpenOut>(opened.data).fh).data, "hello\n");
  fuse_interrupt_in intr{interrupted};
  send(FUSE_INTERRUPT, 0, bytes_of(intr));
  EXPECT_EQ(channel_.wait(interrupted).error, EINTR);
  EXPECT_TRUE(channel_.replies(first).empty());
  gated.release(false);
  Reply a = channel_.wait(first), b = channel_.wait(second);
  EXPECT_EQ(a.error, 0);
  EXPECT_EQ(b.error, 0);
  EXPECT_EQ(read(ext.nodeid, struct_of<OpenOut>(a.data).fh, 100).data, std::string(kContent).substr(0, 100));
  for (int i = 0; i < 100 && ops_->waiting_replies() > 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(channel_.replies(interrupted).size(), 1u) << "the interrupted open's late answer is dropped";
}

// Counts how it is asked.
class CountingSource final : public store::ObjectSource {
 public:
  explicit CountingSource(const store::ObjectSource& inner) : inner_(inner) {}
  store::OpenedObject open(const store::ObjectRef& ref) const override {
    ++opens;
    return inner_.open(ref);
  }
  store::ResolvedObject resolve(const store::ObjectRef& ref) const override {
    ++resolves;
    return inner_.resolve(ref);
  }
  std::shared_ptr<store::PartialObject> open_partial(const store::ObjectRef&) const override {
    ++partials;
    return nullptr;
  }
  mutable std::atomic<int> opens{0}, resolves{0}, partials{0};

 private:
  const store::ObjectSource& inner_;
};

TEST_F(OperationsTest, AnOpenOfALocalObjectLooksItUpOnce) {
  CountingSource counting(*objects_);
  start(&counting);
  fuse_entry_out ext = lookup(FUSE_ROOT_ID, "ext");
  Reply opened = open(ext.nodeid);
  ASSERT_EQ(opened.error, 0);
  EXPECT_EQ(counting.resolves, 1) << "one lookup says local, and opens it";
  EXPECT_EQ(counting.opens, 0);
  EXPECT_EQ(counting.partials, 0);
}

TEST_F(OperationsTest, AnOpenNoMirrorCanServeFailsWithEio) {
  GatedSource gated(*objects_);
  gated.release(true);
  start(&gated);
  fuse_entry_out ext = lookup(FUSE_ROOT_ID, "ext");
  EXPECT_EQ(open(ext.nodeid).error, EIO);
  EXPECT_EQ(stats_.verify_failures, 1u);
}

// A mirror-like source that fails in a way no mirror error is meant to: it runs out of memory
// (an image naming a huge size once made a block-hash list of that size).
class ThrowingSource final : public store::ObjectSource {
 public:
  store::OpenedObject open(const store::ObjectRef&) const override { throw std::runtime_error("not an Error"); }
  store::ResolvedObject resolve(const store::ObjectRef&) const override { return store::ResolvedObject(); }  // remote
  std::shared_ptr<store::PartialObject> open_partial(const store::ObjectRef&) const override {
    if (++calls_ % 2 == 1) throw std::bad_alloc();
    return nullptr;  // then open() throws something else
  }

 private:
  mutable std::atomic<int> calls_{0};
};

TEST_F(OperationsTest, AThrowOnAFetchThreadIsAnsweredAndTheMountGoesOn) {
  ThrowingSource throwing;
  options_.fetch_threads = 1;  // the same thread answers every open below
  start(&throwing);
  fuse_entry_out ext = lookup(FUSE_ROOT_ID, "ext");
  EXPECT_EQ(open(ext.nodeid).error, ENOMEM);
  EXPECT_EQ(open(ext.nodeid).error, EIO);
  EXPECT_EQ(open(ext.nodeid).error, ENOMEM) << "the fetch thread is still there";
  EXPECT_EQ(call(FUSE_GETATTR, ext.nodeid, std::string(16, '\0')).error, 0);
  EXPECT_EQ(ops_->waiting_replies(), 0u);
}

}  // namespace
}  // namespace cfs::fuse
