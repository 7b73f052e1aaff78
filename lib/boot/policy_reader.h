// Where the policy's files come from (boot/selabel.h PolicyReader): the image's tree, as
// composefs-rs's selabel() reads them, or the directory the tree was built from, as its
// selabel_from_dir() does (cfsctl compute-id --bootable without a repository). Layer: boot
// (the I/O of the boot layer lives here).
#pragma once

#include <functional>
#include <string>

#include "base/digest.h"
#include "base/unique_fd.h"
#include "boot/selabel.h"
#include "tree/tree.h"

namespace cfs::boot {

// The tree's /etc/selinux: inline files from the tree, external ones through `read_object`
// (an object of the repository, by its fs-verity digest). Symlinks are not followed: a
// policy file that is not a regular file is an error, as in composefs-rs.
class TreePolicyReader : public PolicyReader {
 public:
  using ReadObject = std::function<std::string(const Digest&)>;
  TreePolicyReader(const tree::Tree& tree, ReadObject read_object)
      : tree_(tree), read_object_(std::move(read_object)) {}
  bool has_etc_selinux() override;
  std::optional<std::string> read(const std::string& dir, const std::string& name) override;

 private:
  const tree::Tree& tree_;
  ReadObject read_object_;
};

// The files under `root_fd` (a directory), looked up with the directory as "/" (openat2
// RESOLVE_IN_ROOT: an absolute symlink stays inside the image, where composefs-rs's openat
// would follow it on the host).
class DirPolicyReader : public PolicyReader {
 public:
  explicit DirPolicyReader(int root_fd) : root_fd_(root_fd) {}
  bool has_etc_selinux() override;
  std::optional<std::string> read(const std::string& dir, const std::string& name) override;

 private:
  int root_fd_;
};

}  // namespace cfs::boot
