// The kernel reads our images as we do: mount with EROFS and compare every entry the kernel
// shows (lstat, readlink, xattrs, inline data) with what our reader says. Needs root + EROFS.
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/sysmacros.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <set>

#include "dump/parse.h"
#include "format/composefs.h"
#include "format/erofs.h"
#include "format/rules.h"
#include "reader/image.h"
#include "support/fs_compare.h"
#include "support/support.h"
#include "writer/writer.h"

namespace cfs {
namespace {

class Mount {
 public:
  Mount(const std::string& image, const std::string& dir) : dir_(dir) {
    ok_ = ::mount(image.c_str(), dir.c_str(), "erofs", MS_RDONLY, nullptr) == 0;
    if (!ok_) error_ = std::strerror(errno);
  }
  ~Mount() {
    if (ok_) ::umount2(dir_.c_str(), MNT_DETACH);
  }
  bool ok() const { return ok_; }
  const std::string& error() const { return error_; }

 private:
  std::string dir_;
  bool ok_;
  std::string error_;
};

std::set<std::pair<std::string, std::string>> kernel_xattrs(const std::string& path) {
  std::set<std::pair<std::string, std::string>> out;
  char names[65536];
  ssize_t n = ::llistxattr(path.c_str(), names, sizeof names);
  for (ssize_t i = 0; i < n; i += std::strlen(names + i) + 1) {
    std::string value(65536, '\0');
    ssize_t v = ::lgetxattr(path.c_str(), names + i, value.data(), value.size());
    // The VFS lists user.* on symlinks and devices but refuses to read them.
    value = v < 0 ? "<unreadable>" : value.substr(0, v);
    out.emplace(names + i, value);
  }
  return out;
}

int compare(const reader::Image& img, const reader::Inode& dir, const std::string& mnt,
            const std::string& rel) {
  int entries = 0;
  img.for_each_dirent(dir, [&](const reader::DirEntryView& e) {
    if (e.name == "." || e.name == "..") return true;
    std::string path = rel + "/" + std::string(e.name);
    std::string full = mnt + path;
    reader::Inode in = img.inode(e.nid);
    struct stat st {};
    EXPECT_EQ(::lstat(full.c_str(), &st), 0) << path;
    EXPECT_EQ(st.st_mode, in.mode) << path;
    EXPECT_EQ(st.st_nlink, in.nlink) << path;
    EXPECT_EQ(st.st_uid, in.uid) << path;
    EXPECT_EQ(st.st_gid, in.gid) << path;
    EXPECT_EQ(static_cast<std::uint64_t>(st.st_size), in.size) << path;
    EXPECT_EQ(st.st_mtim.tv_sec, in.mtime_sec) << path;
    EXPECT_EQ(static_cast<std::uint32_t>(st.st_mtim.tv_nsec), in.mtime_nsec) << path;
    if (S_ISCHR(in.mode) || S_ISBLK(in.mode)) {
      EXPECT_EQ(st.st_rdev, makedev((in.i_u >> 8) & 0xfff, (in.i_u & 0xff) | ((in.i_u >> 12) & 0xfff00)))
          << path;
    }
    if (S_ISLNK(in.mode)) {
      char buf[4096];
      ssize_t n = ::readlink(full.c_str(), buf, sizeof buf);
      EXPECT_EQ(std::string(buf, n < 0 ? 0 : n), img.read_symlink(in)) << path;
    }
    // V2 (as composefs-rs writes it) has no chunk index for an external file without a
    // digest: EROFS alone reads whatever follows the inode (overlayfs reads the redirect).
    bool unindexed = in.layout == format::kLayoutChunkBased &&
                     format::rules_for_image(img.composefs_version()).chunk_index_needs_digest &&
                     img.get_xattr(in, std::string(format::kXattrMetacopy)).value_or("").empty();
    if (S_ISREG(in.mode) && in.size > 0 && in.size < (1 << 20) && !unindexed) {
      std::string want(in.size, '\0');
      if (in.layout != 4) img.read_data(in, 0, std::as_writable_bytes(std::span(want)));
      EXPECT_EQ(test::read_file(full), want) << path;  // external stubs read as zeros
    }
    std::set<std::pair<std::string, std::string>> ours;
    img.for_each_xattr(in, [&](std::string_view n, std::string_view v) {
      // Names without a known prefix have no kernel handler and are invisible.
      if (!n.starts_with("user.") && !n.starts_with("trusted.") && !n.starts_with("security.") &&
          !n.starts_with("system.posix_acl")) {
        return true;
      }
      if (n.starts_with("system.posix_acl")) return true;  // ACLs come back re-encoded
      bool user_unreadable = n.starts_with("user.") && !S_ISREG(in.mode) && !S_ISDIR(in.mode);
      ours.emplace(n, user_unreadable ? "<unreadable>" : std::string(v));
      return true;
    });
    auto theirs = kernel_xattrs(full);
    std::erase_if(theirs, [](const auto& x) { return x.first.starts_with("system.posix_acl"); });
    EXPECT_EQ(theirs, ours) << path;
    ++entries;
    if (S_ISDIR(in.mode)) entries += compare(img, in, mnt, path);
    return true;
  });
  return entries;
}

// Mounts the image of `dump_text` with EROFS alone and compares every entry; `min_entries`:
// upstream's images have at least the root's 256 whiteouts.
void check_kernel_view(const std::string& dump_text, const writer::Options& opts = {}, int min_entries = 257) {
  test::TempDir tmp;
  auto image = writer::write_to_vector(dump::parse(dump_text), opts);
  auto image_path = (tmp / "img.cfs").string();
  test::write_file(image_path, std::string_view(reinterpret_cast<const char*>(image.data()), image.size()));
  auto fsck = test::run({"fsck.erofs", image_path});
  EXPECT_EQ(fsck.status, 0) << fsck.out << fsck.err;
  auto mnt = tmp / "mnt";
  test::fs::create_directory(mnt);
  Mount m(image_path, mnt.string());
  ASSERT_TRUE(m.ok()) << "mount -t erofs failed: " << m.error();
  auto img = reader::Image::open(image);
  int n = compare(img, img.inode(img.root_nid()), mnt.string(), "");
  EXPECT_GE(n, min_entries);
}

TEST(KernelMount, ErofsShowsWhatOurReaderReads) {
  CFS_REQUIRE(::geteuid() == 0, "kernel mounts need root");
  CFS_REQUIRE(test::kernel_has("erofs"), "the kernel has no EROFS");
  // The repository's own generated dumps always; upstream's assets too where present.
  if (auto dir = test::upstream_vectors_dir()) {
    for (const char* name : {"special.dump", "longlink.dump", "honggfuzz-long-symlink.dump", "config-with-hard-link.dump.gz"}) {
      SCOPED_TRACE(name);
      check_kernel_view(test::read_file(*dir / "upstream" / name));
    }
  }
  for (const char* seed : {"101", "103", "107", "110", "115", "120"}) {
    SCOPED_TRACE(std::string("generated seed ") + seed);
    check_kernel_view(test::generated_dump(seed));
  }
}

// Format V2 (composefs-rs's legacy layout): the kernel reads its DFS-ordered, all-extended
// inodes, absolute shared-xattr references and padded tails as our reader does.
TEST(KernelMount, ErofsShowsWhatOurReaderReadsV2) {
  CFS_REQUIRE(::geteuid() == 0, "kernel mounts need root");
  CFS_REQUIRE(test::kernel_has("erofs"), "the kernel has no EROFS");
  for (const char* seed : {"101", "103", "107", "110", "115", "120"}) {
    SCOPED_TRACE(std::string("generated seed ") + seed);
    check_kernel_view(test::generated_dump(seed), writer::Options::exactly(2), 1);
  }
}

}  // namespace
}  // namespace cfs
