#include "fsbuild/scan.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <cstring>
#include <vector>

#include "base/error.h"
#include "base/unique_fd.h"
#include "format/composefs.h"
#include "fsbuild/entry_xattrs.h"
#include "tree/xattr_budget.h"

namespace cfs::fsbuild {
namespace {

using format::kMaxPathLen;

[[noreturn]] void fail(int err, const std::string& path) {
  throw BuildError(BuildError::Step::kScan, err, path, std::strerror(err));
}

void read_xattrs(tree::Node& n, int fd, const char* name, const std::string& path, bool user_only) {
  EntryXattrs entry(fd, name);
  std::uint64_t budget = 0;
  try {
    for (std::string& key : entry.names()) {
      if (user_only && !key.starts_with("user.")) continue;
      std::optional<std::string> value = entry.value(key);
      if (!value) continue;
      if (key.size() > format::kMaxNameLen ||
          !tree::set_xattr_budgeted(n.xattrs, budget, tree::Xattr{std::move(key), std::move(*value)})) {
        fail(ERANGE, path);
      }
    }
  } catch (const BuildError&) {
    throw;
  } catch (const Error& e) {
    fail(e.code(), path);
  }
}

class Scanner {
 public:
  Scanner(const ScanOptions& options, tree::Tree& tree, const FileSink& on_file)
      : options_(options), on_file_(on_file), tree_(tree) {}

  void run(int dir_fd) {
    struct stat st {};
    if (::fstat(dir_fd, &st) != 0) fail(errno, "");
    if (!S_ISDIR(st.st_mode)) fail(ENOTDIR, "");
    tree::Node* root = tree_.new_node();
    tree_.set_root(root);
    fill(*root, st, dir_fd, nullptr, "");
    scan_dir(*root, dir_fd, "");
  }

 private:
  void scan_dir(tree::Node& dir, int dir_fd, const std::string& path) {
    int dup_fd = ::dup(dir_fd);
    if (dup_fd < 0) fail(errno, path);
    DIR* d = ::fdopendir(dup_fd);
    if (d == nullptr) {
      ::close(dup_fd);
      fail(errno, path);
    }
    std::vector<std::string> names;
    errno = 0;
    while (dirent* e = ::readdir(d)) {
      std::string_view n = e->d_name;
      if (n != "." && n != "..") names.emplace_back(n);
    }
    int err = errno;
    ::closedir(d);
    if (err != 0) fail(err, path);
    std::sort(names.begin(), names.end());  // children sorted: appends are O(1)
    for (const std::string& name : names) {
      std::string child_path = path + "/" + name;
      struct stat st {};
      if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) fail(errno, child_path);
      if (options_.skip_devices && (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))) continue;
      tree::Node* node = tree_.new_node();
      node->name = tree_.keep(name);
      if (S_ISDIR(st.st_mode)) {
        UniqueFd fd(::openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW));
        if (!fd) fail(errno, child_path);
        fill(*node, st, fd.get(), nullptr, child_path);
        tree_.add_child(&dir, node);
        scan_dir(*node, fd.get(), child_path);
      } else if (tree::Node* first = first_link(st, node)) {
        node->link = first;
        node->mode = first->mode;
        ++first->nlink;
        tree_.add_child(&dir, node);
      } else {
        fill(*node, st, dir_fd, name.c_str(), child_path);
        tree_.add_child(&dir, node);
        if (S_ISREG(st.st_mode) && on_file_) on_file_(*node);
      }
    }
  }

  // With --hardlinks: the node already made for this inode, if any (else `node` becomes it).
  tree::Node* first_link(const struct stat& st, tree::Node* node) {
    if (!options_.hardlinks || st.st_nlink < 2) return nullptr;
    auto [it, inserted] = inodes_.try_emplace({st.st_dev, st.st_ino}, node);
    return inserted ? nullptr : it->second;
  }

  void fill(tree::Node& n, const struct stat& st, int fd, const char* name, const std::string& path) {
    read_entry(tree_, n, st, fd, name, path, options_);
  }

  ScanOptions options_;
  const FileSink& on_file_;
  tree::Tree& tree_;
  std::map<std::pair<dev_t, ino_t>, tree::Node*> inodes_;
};

}  // namespace

void read_entry(tree::Tree& tree, tree::Node& n, const struct stat& st, int fd, const char* name,
                const std::string& path, const ScanOptions& options) {
  n.mode = st.st_mode;
  n.uid = st.st_uid;
  n.gid = st.st_gid;
  n.nlink = 1;
  if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) n.rdev = st.st_rdev;
  if (!options.use_epoch) {
    n.mtime_sec = st.st_mtim.tv_sec;
    n.mtime_nsec = static_cast<std::uint32_t>(st.st_mtim.tv_nsec);
  }
  if (S_ISREG(st.st_mode)) n.size = static_cast<std::uint64_t>(st.st_size);
  if (S_ISLNK(st.st_mode)) {
    char buf[kMaxPathLen + 2];
    ssize_t len = ::readlinkat(fd, name, buf, sizeof buf);
    if (len < 0) fail(errno, path);
    if (len == 0 || static_cast<std::size_t>(len) > kMaxPathLen) fail(ENAMETOOLONG, path);
    n.payload = tree.keep({buf, static_cast<std::size_t>(len)});
    n.size = n.payload.size();
  }
  if (!options.skip_xattrs) read_xattrs(n, fd, name, path, options.user_xattrs);
}

void scan(int dir_fd, const ScanOptions& options, tree::Tree& tree, const FileSink& on_file) {
  if (options.skip_xattrs && options.user_xattrs) {  // they exclude each other
    throw BuildError(BuildError::Step::kScan, EINVAL, "", std::strerror(EINVAL));
  }
  Scanner(options, tree, on_file).run(dir_fd);
}

}  // namespace cfs::fsbuild
