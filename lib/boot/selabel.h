// SELinux relabelling of a tree from the image's own policy, as composefs-rs 0.9 does it
// (crates/composefs-boot/src/selabel.rs). Layer: boot. The rules are pure; the policy's files
// come through a PolicyReader (boot/policy_reader.h does the I/O).
#pragma once

#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "boot/file_contexts.h"
#include "tree/tree.h"

namespace cfs::boot {

inline constexpr std::string_view kXattrSelinux = "security.selinux";

// The files of an image's /etc/selinux, by path relative to it ("config",
// "targeted/contexts/files/file_contexts").
class PolicyReader {
 public:
  virtual ~PolicyReader() = default;
  // False: the image has no /etc/selinux (then it has no policy). Error(ENOTDIR) if it is not
  // a directory.
  virtual bool has_etc_selinux() = 0;
  // The file's bytes; nullopt when there is no such file. `dir` is a directory path relative
  // to /etc/selinux ("" for itself); Error(ENOENT) when `dir` is missing (composefs-rs's
  // policy directory lookup fails), EISDIR or EINVAL for what is not a regular file.
  virtual std::optional<std::string> read(const std::string& dir, const std::string& name) = 0;
};

struct Policy {
  std::string type;         // SELINUXTYPE
  std::vector<Spec> specs;  // file_contexts, .local, .homedirs, in that order
  std::unordered_map<std::string, std::string> aliases;  // .subs then .subs_dist (later wins)
};

// The policy /etc/selinux/config names: nullopt when there is no /etc/selinux, no config or no
// SELINUXTYPE line. Error when the policy lacks file_contexts or a file is malformed.
std::optional<Policy> load_policy(PolicyReader& reader);

// With a policy: every node gets the label of the last matching line for its path (a directory
// or file whose full path is an alias is looked up, and its children named, as the original),
// or loses its label (no match, or "<<none>>"). Walk order: depth first, names sorted; an inode
// with several names takes the label of the first, and each later name whose label differs
// becomes an inode of its own. Without a policy (nullptr): every security.selinux is removed.
// Compiling the policy's patterns may throw Error(EINVAL) "<file>:<line>: …".
void relabel(tree::Tree& tree, const Policy* policy);

}  // namespace cfs::boot
