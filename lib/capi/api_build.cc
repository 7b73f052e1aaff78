// lcfs-writer.h: nodes from the filesystem (libcomposefs(3) "Building from a directory"). A
// whole directory goes through fsbuild::build, the scanner mkcomposefs uses, so both give
// the same image.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "base/error.h"
#include "base/unique_fd.h"
#include "capi/boundary.h"
#include "capi/convert.h"
#include "fsbuild/build.h"
#include "fsbuild/scan.h"
#include "libcomposefs/lcfs-writer.h"
#include "tree/tree.h"
#include "verity/measure.h"

using cfs::Error;
using cfs::capi::int_call;
using cfs::capi::Node;
using cfs::capi::pointer_call;
using cfs::capi::require;

namespace {

constexpr int kAllBuildFlags = 0x7F;

cfs::fsbuild::ScanOptions scan_options(int flags) {
  if ((flags & ~kAllBuildFlags) != 0) throw Error(EINVAL, "unknown build flags");
  cfs::fsbuild::ScanOptions o;
  o.use_epoch = flags & LCFS_BUILD_USE_EPOCH;
  o.skip_devices = flags & LCFS_BUILD_SKIP_DEVICES;
  o.skip_xattrs = flags & LCFS_BUILD_SKIP_XATTRS;
  o.user_xattrs = flags & LCFS_BUILD_USER_XATTRS;
  if (o.skip_xattrs && o.user_xattrs) throw Error(EINVAL, "SKIP_XATTRS with USER_XATTRS");
  return o;
}

bool wants_digest(int flags) { return flags & (LCFS_BUILD_COMPUTE_DIGEST | LCFS_BUILD_BY_DIGEST); }
bool wants_inline(int flags, std::uint64_t size) {
  return !(flags & LCFS_BUILD_NO_INLINE) && size <= LCFS_RECOMMENDED_INLINE_CONTENT_MAX;
}

// What the flags keep of a file's digest, object path and inline content.
void keep_by_flags(Node& n, int flags) {
  if (!(flags & LCFS_BUILD_COMPUTE_DIGEST)) n.digest.reset();
  if (!(flags & LCFS_BUILD_BY_DIGEST)) n.payload.reset();
  if (!wants_inline(flags, n.size)) n.content.reset();
}

void set_from_content(Node& n, int dirfd, const char* fname, int flags) {
  if (n.size == 0 || (!wants_digest(flags) && !wants_inline(flags, n.size))) return;
  cfs::UniqueFd fd(::openat(dirfd, fname, O_RDONLY | O_CLOEXEC));
  if (!fd) cfs::throw_errno(errno);
  if (wants_digest(flags)) {
    try {
      n.digest = cfs::verity::compute_from_fd(fd.get());
    } catch (const Error&) {
      throw Error(ENODATA, "reading the file failed");
    }
    if (flags & LCFS_BUILD_BY_DIGEST) n.payload = cfs::object_path(*n.digest);
    if (!(flags & LCFS_BUILD_COMPUTE_DIGEST)) n.digest.reset();  // it only named the object
  }
  if (wants_inline(flags, n.size)) {
    std::string data(n.size, '\0');
    if (::pread(fd.get(), data.data(), data.size(), 0) != static_cast<ssize_t>(data.size())) {
      throw Error(ENODATA, "the file is shorter than its size");
    }
    n.content = std::move(data);
  }
}

Node* load_from_file(int dirfd, const char* fname, int flags) {
  cfs::fsbuild::ScanOptions options = scan_options(flags);
  struct stat st {};
  if (::fstatat(dirfd, fname, &st, AT_SYMLINK_NOFOLLOW) != 0) cfs::throw_errno(errno);
  cfs::tree::Tree tree;
  cfs::tree::Node* entry = tree.new_node();
  cfs::fsbuild::read_entry(tree, *entry, st, dirfd, fname, fname, options);
  Node* node = cfs::capi::from_tree(*entry, LCFS_INODE_EXTERNAL_XATTR_MAX);
  node->size = static_cast<std::uint64_t>(st.st_size);  // directories keep theirs, as upstream
  try {
    if (S_ISREG(st.st_mode)) set_from_content(*node, dirfd, fname, flags);
  } catch (...) {
    cfs::capi::unref(node);
    throw;
  }
  return node;
}

Node* build_dir(int dirfd, const char* fname, int flags) {
  cfs::fsbuild::BuildOptions options;
  options.scan = scan_options(flags);
  cfs::UniqueFd dir(::openat(dirfd, fname, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!dir) throw cfs::fsbuild::BuildError(cfs::fsbuild::BuildError::Step::kScan, errno, "", std::strerror(errno));
  cfs::tree::Tree tree;
  cfs::fsbuild::build(dir.get(), options, tree);
  Node* root = cfs::capi::from_tree(*tree.root(), LCFS_INODE_EXTERNAL_XATTR_MAX);
  std::vector<Node*> todo{root};
  while (!todo.empty()) {
    Node* n = todo.back();
    todo.pop_back();
    if ((n->mode & S_IFMT) == S_IFREG) keep_by_flags(*n, flags);
    todo.insert(todo.end(), n->children.begin(), n->children.end());
  }
  return root;
}

}  // namespace

extern "C" {

struct lcfs_node_s* lcfs_load_node_from_file(int dirfd, const char* fname, int buildflags) {
  return pointer_call<Node>([&] {
    require(fname != nullptr);
    return load_from_file(dirfd, fname, buildflags);
  });
}

int lcfs_node_set_from_content(struct lcfs_node_s* node, int dirfd, const char* fname, int buildflags) {
  return int_call([&] {
    require(node != nullptr && fname != nullptr);
    set_from_content(*node, dirfd, fname, buildflags);
  });
}

// Non-directories come back as one node. On failure *failed_path_out (if given) is a malloc'ed
// path of the entry that failed: fname, joined with its path below fname.
struct lcfs_node_s* lcfs_build(int dirfd, const char* fname, int buildflags, char** failed_path_out) {
  std::string failed;
  Node* root = pointer_call<Node>([&] {
    require(fname != nullptr);
    failed = fname;
    struct stat st {};
    scan_options(buildflags);
    if (::fstatat(dirfd, fname, &st, AT_SYMLINK_NOFOLLOW) != 0) cfs::throw_errno(errno);
    if (!S_ISDIR(st.st_mode)) return load_from_file(dirfd, fname, buildflags);
    try {
      return build_dir(dirfd, fname, buildflags);
    } catch (const cfs::fsbuild::BuildError& e) {
      failed += e.path();
      throw;
    }
  });
  if (root == nullptr && failed_path_out != nullptr) {
    int err = errno;
    *failed_path_out = failed.empty() ? nullptr : ::strdup(failed.c_str());
    errno = err;
  }
  return root;
}

}  // extern "C"
