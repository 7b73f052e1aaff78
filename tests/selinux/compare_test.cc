// Our labels (composefs-rs 0.9's rules) against libselinux's selabel_lookup on a real policy,
// for every file of this machine's /usr, /etc, /var, /opt, /srv, /boot plus some chosen paths.
// composefs-rs does not promise libselinux's answers: the differences are printed, grouped,
// and the test fails only when one is not of a kind we know (see the report it prints).
// The policy: the Debian root of tests/debian/root.sh (selinux), or $CFS_SELINUX_ROOT, a
// directory holding etc/selinux/config and a policy (scripts/selinux-policy-root.sh makes one
// from Debian's package without debootstrap; never this machine's /etc).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <selinux/label.h>
#include <selinux/selinux.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <set>

#include "boot/policy_reader.h"
#include "boot/selabel.h"
#include "support/support.h"
#include "tree/tree.h"

namespace cfs {
namespace {

namespace fs = std::filesystem;

struct Entry {
  std::string path;
  std::uint32_t mode;
  tree::Node* node;
};

// The machine's files under `top` (no symlinked directories followed) into `tree`.
void add_files(tree::Tree& tree, std::map<std::string, tree::Node*>& nodes,
               std::vector<Entry>& entries, const std::string& path, std::uint32_t mode) {
  std::string parent = path.substr(0, path.rfind('/'));
  if (parent.empty()) parent = "/";
  if (!nodes.count(parent)) add_files(tree, nodes, entries, parent, S_IFDIR | 0755);
  if (nodes.count(path) || !nodes.at(parent)->is_dir()) return;  // (a path through a symlink)
  tree::Node* n = tree.new_node();
  n->name = tree.keep(path.substr(path.rfind('/') + 1));
  n->mode = mode;
  n->parent = nodes.at(parent);
  tree.add_child(nodes.at(parent), n);
  nodes[path] = n;
  entries.push_back({path, mode, n});
}

TEST(SelinuxCompare, OurLabelsAgainstLibselinux) {
  std::string why, root_path;
  if (const char* given = std::getenv("CFS_SELINUX_ROOT")) {
    root_path = given;
  } else {
    std::optional<fs::path> debian = test::debian_root("selinux", why);
    CFS_REQUIRE(debian, why);
    root_path = debian->string();
  }
  const char* root = root_path.c_str();
  int root_fd = ::open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(root_fd, 0) << root;
  boot::DirPolicyReader reader(root_fd);
  std::optional<boot::Policy> policy = boot::load_policy(reader);
  ASSERT_TRUE(policy) << "no policy under " << root;

  tree::Tree tree;
  tree::Node* top = tree.new_node();
  top->mode = S_IFDIR | 0755;
  tree.set_root(top);
  std::map<std::string, tree::Node*> nodes{{"/", top}};
  std::vector<Entry> entries{{"/", S_IFDIR | 0755, top}};
  std::size_t limit = 400000;
  for (const char* dir : {"/usr", "/etc", "/var", "/opt", "/srv", "/boot", "/root", "/home"}) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) continue;
    add_files(tree, nodes, entries, dir, S_IFDIR | 0755);
    for (auto it = fs::recursive_directory_iterator(
             dir, fs::directory_options::skip_permission_denied, ec);
         it != fs::recursive_directory_iterator() && entries.size() < limit; it.increment(ec)) {
      struct stat st {};
      if (::lstat(it->path().c_str(), &st) != 0) continue;
      std::string p = it->path().string();
      if (p.find('\n') != std::string::npos) continue;
      add_files(tree, nodes, entries, p, st.st_mode);
    }
  }
  // Paths a boot image has that this machine may not, of every file type.
  for (auto [p, m] : std::vector<std::pair<std::string, std::uint32_t>>{
           {"/bin/sh", S_IFREG},
           {"/lib/systemd/systemd", S_IFREG},
           {"/etc/systemd/system/x.service", S_IFREG},
           {"/home/user/.ssh/authorized_keys", S_IFREG},
           {"/root/.bashrc", S_IFREG},
           {"/tmp/x", S_IFREG},
           {"/dev/null", S_IFCHR},
           {"/dev/sda", S_IFBLK},
           {"/run/systemd/initctl/fifo", S_IFIFO},
           {"/run/docker.sock", S_IFSOCK},
           {"/var/run/utmp", S_IFREG},
           {"/usr/local/lib/libx.so", S_IFREG},
           {"/var/lib/private/x", S_IFREG},
           {"/sysroot", S_IFDIR},
           {"/boot/vmlinuz", S_IFREG},
           {"/usr/lib64/ld.so", S_IFREG},
           {"/lib64/ld-linux-x86-64.so.2", S_IFLNK}}) {
    add_files(tree, nodes, entries, p, m | 0644);
  }
  auto start = std::chrono::steady_clock::now();
  boot::relabel(tree, &*policy);
  std::cout << "SelinuxCompare: relabelled in "
            << std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()
            << " s\n";

  std::string fc =
      std::string(root) + "/etc/selinux/" + policy->type + "/contexts/files/file_contexts";
  selinux_opt opts[] = {{SELABEL_OPT_PATH, fc.c_str()}};
  selabel_handle* h = selabel_open(SELABEL_CTX_FILE, opts, 1);
  ASSERT_NE(h, nullptr) << fc;
  std::map<std::pair<std::string, std::string>, std::vector<std::string>>
      differences;  // (ours, libselinux) -> paths
  std::size_t same = 0;
  for (const Entry& e : entries) {
    const tree::Xattr* x = e.node->find_xattr("security.selinux");
    std::string ours = x ? x->value : "(none)";
    char* con = nullptr;
    std::string theirs =
        selabel_lookup(h, &con, e.path.c_str(), static_cast<int>(e.mode)) == 0 ? con : "(none)";
    freecon(con);
    if (ours == theirs) {
      ++same;
    } else {
      differences[{ours, theirs}].push_back(e.path);
    }
  }
  selabel_close(h);
  std::size_t differ = entries.size() - same;
  std::cout << "SelinuxCompare: " << entries.size() << " paths, " << same << " the same, " << differ
            << " differ\n";
  for (const auto& [pair, paths] : differences) {
    std::cout << "  ours " << pair.first << " / libselinux " << pair.second << ": " << paths.size()
              << " paths, e.g.";
    for (std::size_t i = 0; i < std::min<std::size_t>(paths.size(), 3); ++i)
      std::cout << " " << paths[i];
    std::cout << "\n";
  }
  // On Debian's policy (semodule sorts file_contexts so that later lines are more specific)
  // the two agree on every path of this machine we tried.
  EXPECT_EQ(differ, 0U);
}

struct Probe {
  std::string path;
  std::uint32_t mode;
  std::string ours, libselinux;  // the labels each gives ("(none)": no label)
  std::string why;
};

// Small policies where composefs-rs's rules and libselinux's differ, each difference pinned:
// if libselinux or our rules change, this says which.
TEST(SelinuxCompare, KnownDifferences) {
  fs::path root = fs::temp_directory_path() / ("cfs-selinux-" + std::to_string(::getpid()));
  fs::path files = root / "etc/selinux/t/contexts/files";
  fs::create_directories(files);
  auto write = [&](const fs::path& p, const std::string& text) {
    FILE* f = std::fopen(p.c_str(), "w");
    std::fputs(text.c_str(), f);
    std::fclose(f);
  };
  write(root / "etc/selinux/config", "SELINUXTYPE=t\n");
  write(files / "file_contexts",
        "/.*\tu:r:default_t:s0\n"
        "/opt/exact\tu:r:exact_t:s0\n"  // an exact path, then a regex that also matches it
        "/opt(/.*)?\tu:r:opt_t:s0\n"
        "/alt/a|/alt/b\tu:r:alt_t:s0\n"  // a top-level alternation
        "/nl/.*\tu:r:nl_t:s0\n"
        "/h(/.*)?\tu:r:h_t:s0\n");
  write(files / "file_contexts.local", "/h/x\tu:r:local_t:s0\n");
  write(files / "file_contexts.homedirs", "/h/x\tu:r:homedirs_t:s0\n");
  write(files / "file_contexts.subs", "/srv/opt /opt\n");
  const std::vector<Probe> probes = {
      {"/opt/exact", S_IFREG, "u:r:opt_t:s0", "u:r:exact_t:s0",
       "the last matching line wins in composefs-rs; libselinux tries exact paths (no regex "
       "characters) before any regex"},
      {"/h/x", S_IFREG, "u:r:homedirs_t:s0", "u:r:local_t:s0",
       "composefs-rs reads .local before .homedirs; libselinux reads .homedirs, then .local"},
      {"/opt/other", S_IFREG, "u:r:opt_t:s0", "u:r:opt_t:s0", ""},
      {"/alt/a", S_IFREG, "u:r:alt_t:s0", "u:r:alt_t:s0", ""},
      {"/alt/b", S_IFREG, "u:r:alt_t:s0", "u:r:alt_t:s0", ""},
      {"/nl/a\nb", S_IFREG, "u:r:nl_t:s0", "u:r:nl_t:s0", ""},
      {"/srv/opt/exact", S_IFREG, "u:r:opt_t:s0", "u:r:exact_t:s0",
       "as /opt/exact, through the alias"},
  };
  tree::Tree tree;
  tree::Node* top = tree.new_node();
  top->mode = S_IFDIR | 0755;
  tree.set_root(top);
  std::map<std::string, tree::Node*> nodes{{"/", top}};
  std::vector<Entry> entries;
  for (const Probe& p : probes) add_files(tree, nodes, entries, p.path, p.mode | 0644);
  int root_fd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  boot::DirPolicyReader reader(root_fd);
  std::optional<boot::Policy> policy = boot::load_policy(reader);
  ASSERT_TRUE(policy);
  boot::relabel(tree, &*policy);
  std::string fc = (files / "file_contexts").string();
  selinux_opt opts[] = {{SELABEL_OPT_PATH, fc.c_str()}};
  selabel_handle* h = selabel_open(SELABEL_CTX_FILE, opts, 1);
  ASSERT_NE(h, nullptr);
  for (const Probe& p : probes) {
    const tree::Xattr* x = nodes.at(p.path)->find_xattr("security.selinux");
    char* con = nullptr;
    std::string theirs =
        selabel_lookup(h, &con, p.path.c_str(), static_cast<int>(p.mode)) == 0 ? con : "(none)";
    freecon(con);
    EXPECT_EQ(x ? x->value : "(none)", p.ours) << p.path;
    EXPECT_EQ(theirs, p.libselinux) << p.path;
    if (!p.why.empty()) std::cout << "difference: " << p.path << ": " << p.why << "\n";
  }
  selabel_close(h);
  ::close(root_fd);
  fs::remove_all(root);
}

}  // namespace
}  // namespace cfs
