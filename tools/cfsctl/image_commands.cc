// cfsctl create-image, compute-id, images, image-objects, import-image, mount: images in the
// repository.
#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>

#include "base/error.h"
#include "base/file_io.h"
#include "base/unique_fd.h"
#include "cfsctl/cfsctl.h"
#include "cfsctl/table.h"
#include "common/cli.h"
#include "common/progress_line.h"
#include "dump/print.h"
#include "format/composefs.h"
#include "fsbuild/build.h"
#include "reader/image.h"
#include "reader/to_tree.h"
#include "cfsctl/remote_commands.h"
#include "mount/mount.h"
#include "boot/cmdline.h"
#include "boot/policy_reader.h"
#include "boot/transform.h"
#include "oci/boot.h"
#include "oci/transform.h"
#include "repo/image_objects.h"
#include "repo/layout.h"
#include "verity/fsverity.h"
#include "verity/measure.h"
#include "writer/writer.h"

extern char** environ;

namespace cfs::cfsctl {
namespace {


// --no-propagate-usr-to-root, --xattrs: how a directory becomes the image's tree (--bootable is
// read by the commands).
oci::TransformOptions transform_options(Args& a) {
  oci::TransformOptions t;
  t.propagate_usr_to_root = !a.flag("no-propagate-usr-to-root");
  if (auto x = a.value("xattrs")) {
    one_of(*x, "--xattrs <XATTRS>", {"allowlist-only", "keep-user-xattrs"});
    t.xattrs = *x == "keep-user-xattrs" ? oci::XattrMode::kKeepUserXattrs : oci::XattrMode::kAllowlistOnly;
  }
  return t;
}

// The tree of directory `path` by composefs-rs's rules: hard links kept, files over 64 bytes
// external (copied into `store` when given), then the OCI transform.
tree::Tree scan(const std::string& path, HashAlgorithm algorithm, store::ObjectStore* store,
                const oci::TransformOptions& t) {
  // The transform needs /usr: refused before any object is stored, not after.
  struct stat usr {};
  if (t.propagate_usr_to_root && (::fstatat(AT_FDCWD, (path + "/usr").c_str(), &usr, AT_SYMLINK_NOFOLLOW) != 0 ||
                                  !S_ISDIR(usr.st_mode))) {
    throw Error(ENOENT, path + " has no usr directory to take the root's metadata from "
                              "(--no-propagate-usr-to-root builds it as it is)");
  }
  Progress progress;
  cli::ProgressLine line(progress);
  UniqueFd dir(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir) throw Error(errno, std::strerror(errno)).wrap("opening directory " + path);
  fsbuild::BuildOptions o;
  o.scan.hardlinks = true;
  o.store = store;
  o.algorithm = algorithm;
  o.progress = &progress;
  tree::Tree tree;
  try {
    fsbuild::build(dir.get(), o, tree);
  } catch (const fsbuild::BuildError& e) {
    throw Error(e.code(), path + e.path() + ": " + e.reason());
  }
  oci::transform_for_oci(tree, t);
  return tree;
}

std::vector<std::byte> image_of(const tree::Tree& tree, std::uint32_t version) {
  return writer::write_to_vector(tree, writer::Options::exactly(version));
}

// Names under images/refs/ (recursively, in directory order) and the image each names.
void list_refs(int repo_fd, const std::string& dir, const std::string& prefix,
               std::vector<std::pair<std::string, std::string>>& out) {
  int fd = ::openat(repo_fd, dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return;
  DIR* d = ::fdopendir(fd);
  if (d == nullptr) {
    ::close(fd);
    return;
  }
  for (dirent* e; (e = ::readdir(d)) != nullptr;) {
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    std::string path = dir + "/" + name;
    struct stat st {};
    if (::fstatat(repo_fd, path.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    if (S_ISDIR(st.st_mode)) {
      list_refs(repo_fd, path, prefix + name + "/", out);
    } else if (S_ISLNK(st.st_mode)) {
      char buf[PATH_MAX];
      ssize_t n = ::readlinkat(repo_fd, path.c_str(), buf, sizeof buf);
      if (n < 0) continue;
      std::string target(buf, static_cast<std::size_t>(n));
      out.emplace_back(prefix + name, target.substr(target.rfind('/') + 1));
    }
  }
  ::closedir(d);
}

// composefs-fuse beside this program, else on PATH.
std::string composefs_fuse() {
  char self[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
  if (n > 0) {
    std::string dir(self, static_cast<std::size_t>(n));
    dir = dir.substr(0, dir.rfind('/'));
    if (::access((dir + "/composefs-fuse").c_str(), X_OK) == 0) return dir + "/composefs-fuse";
  }
  return "composefs-fuse";
}

bool in_initial_user_namespace() {
  struct stat st {};
  return ::stat("/proc/self/ns/user", &st) == 0 && st.st_ino == 0xEFFFFFFD;
}

}  // namespace

std::string id_form(const Digest& d) { return std::string(hash_name(d.algorithm())) + ":" + to_hex(d); }

// The entry and, for a directory, everything below it (sorted, depth first); a leaf's later
// names in this subtree are links to the first.
std::string composefs_rs_dump(const tree::Node& node, const std::string& path) {
  std::string out;
  std::map<const tree::Node*, std::string> first_name;
  std::vector<std::pair<const tree::Node*, std::string>> todo{{&node, path}};
  while (!todo.empty()) {
    auto [n, p] = todo.back();
    todo.pop_back();
    const tree::Node* inode = n->resolve();
    if (!inode->is_dir()) {
      auto [it, first] = first_name.emplace(inode, p);
      if (!first) {
        dump::append_composefs_rs_link_line(out, p, it->second);
        continue;
      }
    }
    dump::append_line(out, p, *inode, nullptr);
    if (!inode->is_dir()) continue;
    for (auto c = inode->children.rbegin(); c != inode->children.rend(); ++c) {
      todo.emplace_back(*c, p + (p.ends_with('/') ? "" : "/") + std::string((*c)->name));
    }
  }
  return out;
}

namespace {

// The tree of directory `path` as compute-id, compute-karg and create-dumpfile read it: nothing
// is stored and no repository is opened; the algorithm is the repository's where there is one
// (read without a lock), else --hash, else SHA-512. With `bootable` the policy is read from the
// directory, as composefs-rs does without a repository.
tree::Tree scan_without_repo(const Global& g, const std::string& path, const oci::TransformOptions& t,
                             bool bootable, HashAlgorithm& algorithm) {
  algorithm = g.open.hash.value_or(HashAlgorithm::kSha512);
  if (!g.no_repo) {
    try {
      algorithm = repo::detect_algorithm(repo_path(g), g.open);
    } catch (const Error&) {
    }
  }
  tree::Tree tree = scan(path, algorithm, nullptr, t);
  if (bootable) {
    UniqueFd root(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!root) throw Error(errno, std::strerror(errno)).wrap("opening directory " + path);
    boot::DirPolicyReader policy(root.get());
    boot::transform_for_boot(tree, policy);
  }
  return tree;
}

// A directory's tree as composefs-rs holds it when it prints a dumpfile: small files (up to the
// inline limit) inline only, with no object path or digest; a directory's nlink 2 + its
// subdirectories and a leaf's the number of its names in the tree; xattrs sorted by name.
void as_composefs_rs_tree(tree::Tree& tree) {
  std::map<const tree::Node*, std::uint32_t> names;
  std::vector<tree::Node*> todo{tree.root()};
  std::vector<tree::Node*> leaves;
  while (!todo.empty()) {
    tree::Node* n = todo.back();
    todo.pop_back();
    if (!n->is_alias()) {
      std::sort(n->xattrs.begin(), n->xattrs.end(), [](const auto& x, const auto& y) { return x.name < y.name; });
    }
    if (!n->is_dir()) {
      ++names[n->resolve()];
      if (!n->is_alias()) leaves.push_back(n);
      continue;
    }
    n->nlink = 2;
    for (tree::Node* c : n->children) {
      if (c->is_dir()) ++n->nlink;
      todo.push_back(c);
    }
  }
  for (tree::Node* n : leaves) {
    n->nlink = names[n];
    if (n->type() == S_IFREG && n->size <= format::kRecommendedInline) {
      n->payload = {};
      n->digest = {};
    }
  }
}

}  // namespace

int cmd_compute_id(const Global& g, Args& a) {
  bool bootable = a.flag("bootable");
  oci::TransformOptions t = transform_options(a);
  std::string path = a.positionals(1, 1, "<PATH>")[0];
  HashAlgorithm algorithm;
  tree::Tree tree = scan_without_repo(g, path, t, bootable, algorithm);
  std::cout << to_hex(verity::digest_of(image_of(tree, g.open.erofs_version.value_or(1)), algorithm)) << "\n";
  return 0;
}

// Always bootable, always allowlist-only; the EROFS version is --erofs-version or 1 (never the
// repository's) and insecure is --insecure alone, as composefs-rs decides.
int cmd_compute_karg(const Global& g, Args& a) {
  oci::TransformOptions t;
  t.propagate_usr_to_root = !a.flag("no-propagate-usr-to-root");
  std::string path = a.positionals(1, 1, "<PATH>")[0];
  HashAlgorithm algorithm;
  tree::Tree tree = scan_without_repo(g, path, t, true, algorithm);
  std::uint32_t version = g.open.erofs_version.value_or(1);
  Digest id = verity::digest_of(image_of(tree, version), algorithm);
  std::cout << boot::format(boot::karg_for(version, id, g.open.insecure)) << "\n";
  return 0;
}

int cmd_create_dumpfile(const Global& g, Args& a) {
  bool bootable = a.flag("bootable");
  oci::TransformOptions t = transform_options(a);
  std::string path = a.positionals(1, 1, "<PATH>")[0];
  HashAlgorithm algorithm;
  tree::Tree tree = scan_without_repo(g, path, t, bootable, algorithm);
  as_composefs_rs_tree(tree);
  std::cout << composefs_rs_dump(*tree.root(), "/") << std::flush;
  return 0;
}

int cmd_create_image(const Global& g, Args& a) {
  bool bootable = a.flag("bootable");
  oci::TransformOptions t = transform_options(a);
  std::vector<std::string> pos = a.positionals(1, 2, "<PATH>");
  if (pos.size() == 2) repo::check_ref_path(pos[1]);  // before anything is stored
  auto repo = repo::Repository::open(repo_path(g), g.open);
  repo->check_writable();
  tree::Tree tree = scan(pos[0], repo->algorithm(), &repo->objects(), t);
  if (bootable) oci::make_bootable(*repo, tree);  // the policy read from the tree and its objects
  std::optional<Digest> first;
  for (std::uint32_t version : repo->erofs_versions()) {
    std::vector<std::byte> image = image_of(tree, version);
    Digest id = repo->store_object(image);
    repo->link_image(id);
    if (!first) first = id;
  }
  if (pos.size() == 2) repo->link_image_ref(pos[1], *first);
  std::cout << id_form(*first) << "\n";
  return 0;
}

int cmd_import_image(const Global& g, Args& a) {
  std::string name = a.positionals(1, 1, "<NAME>")[0];
  repo::check_ref_path(name);  // before anything is stored
  auto repo = repo::Repository::open(repo_path(g), g.open);
  repo->check_writable();
  std::vector<std::byte> image = read_all(STDIN_FILENO);  // stored as it is, not checked (as cfsctl)
  Digest id = repo->store_object(image);
  repo->link_image(id);
  repo->link_image_ref(name, id);
  std::cout << id_form(id) << "\n";
  return 0;
}

std::vector<std::pair<std::string, std::string>> image_refs(const repo::Repository& repo) {
  std::vector<std::pair<std::string, std::string>> refs;
  list_refs(repo.fd(), "images/refs", "", refs);
  return refs;
}

int cmd_images(const Global& g, Args& a) {
  bool json = a.flag("json");
  bool no_trunc = a.flag("no-trunc");
  a.positionals(0, 0, "");
  auto repo = repo::Repository::open(repo_path(g), g.open);
  std::vector<std::pair<std::string, std::string>> refs = image_refs(*repo);
  if (json) {
    nlohmann::ordered_json j;
    j["images"] = nlohmann::ordered_json::array();
    for (const auto& [name, digest] : refs) j["images"].push_back({{"name", name}, {"digest", digest}});
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  if (refs.empty()) {
    std::cout << "No images found\n";
    return 0;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& [name, digest] : refs) rows.push_back({name, no_trunc ? digest : digest.substr(0, 12)});
  std::cout << table({"NAME", "DIGEST"}, rows);
  return 0;
}

int cmd_image_objects(const Global& g, Args& a) {
  std::string name = a.positionals(1, 1, "<NAME>")[0];
  auto repo = repo::Repository::open(repo_path(g), g.open);
  repo::Repository::OpenedImage img = repo->open_image(name);
  for (std::string path : repo::image_object_paths(img.fd.get())) {
    path.erase(std::remove(path.begin(), path.end(), '/'), path.end());
    std::cout << hash_name(repo->algorithm()) << ":" << path << "\n";
  }
  return 0;
}

int cmd_dump_files(const Global& g, Args& a) {
  bool backing_only = a.flag("backing-path-only");
  std::vector<std::string> pos = a.positionals(1, SIZE_MAX, "<IMAGE>");
  auto repo = repo::Repository::open(repo_path(g), g.open);
  repo::Repository::OpenedImage img = repo->open_image(pos[0]);
  MappedFile file = MappedFile::open(img.fd.get());
  tree::Tree tree = reader::to_tree(reader::Image::open(file.bytes()));
  std::string out;  // written at the end: a later failure prints nothing
  for (std::size_t i = 1; i < pos.size(); ++i) {
    const std::string& path = pos[i];
    const tree::Node* node = tree.root();
    std::string_view rest = path;
    while (rest.starts_with('/')) rest.remove_prefix(1);
    if (rest.empty()) throw Error(EINVAL, "invalid filename: " + path);
    while (!rest.empty()) {
      std::size_t slash = std::min(rest.find('/'), rest.size());
      std::string_view part = rest.substr(0, slash);
      rest.remove_prefix(std::min(slash + 1, rest.size()));
      if (part == "." || part == "..") throw Error(EINVAL, "invalid path component in " + path);
      if (part.empty()) continue;
      if (!node->is_dir()) throw Error(ENOTDIR, path + ": a parent is not a directory");
      node = node->find_child(part);
      if (node == nullptr) throw Error(ENOENT, path + " not found");
    }
    if (backing_only) {
      const tree::Node& n = *node->resolve();
      if (n.is_dir()) throw Error(EISDIR, path + " is a directory");
      bool external = n.type() == S_IFREG && n.content.empty() && !n.payload.empty();
      out += path + " " + (external ? std::string(n.payload) : "inline") + "\n";
      continue;
    }
    out += composefs_rs_dump(*node, path);
  }
  std::cout << out << std::flush;
  return 0;
}

int cmd_mount(const Global& g, Args& a) { return mount_command(g, a, nullptr); }

int mount_command(const Global& g, Args& a, const ImageResolver& resolve) {
  std::string fuse = one_of(a.value("fuse").value_or("auto"), "--fuse <FUSE>", {"auto", "yes", "no"});
  bool foreground = a.flag("foreground");
  std::optional<std::string> upper = a.value("upperdir"), work = a.value("workdir");
  bool read_write = a.flag("read-write");
  if (upper.has_value() != work.has_value()) {
    throw UsageError(std::string("the following required arguments were not provided: ") +
                     (upper ? "--workdir <WORKDIR>" : "--upperdir <UPPERDIR>"));
  }
  if (read_write && !upper) throw UsageError("the following required arguments were not provided: --upperdir <UPPERDIR>");
  // A container image's set-uid files and devices are not trusted unless asked for (a root
  // filesystem needs them).
  bool suid = a.flag("suid"), dev = a.flag("dev");
  std::vector<std::string> remotes = a.values("remote");
  if (!remotes.empty() && fuse == "no") throw UsageError("--remote needs a FUSE mount (--fuse no was given)");
  bool kernel = remotes.empty() && (fuse == "no" || (fuse == "auto" && ::getuid() == 0 && in_initial_user_namespace()));
  if (!kernel && upper) {
    throw UsageError("--upperdir needs a kernel mount (root, no --fuse yes, no --remote): composefs-fuse mounts are read-only");
  }
  if (!kernel && (suid || dev)) {
    throw UsageError(std::string(suid ? "--suid" : "--dev") + " needs a kernel mount (root, no --fuse yes, no --remote): composefs-fuse mounts are always nosuid,nodev");
  }
  std::vector<std::string> pos = a.positionals(2, 2, "<NAME> <MOUNTPOINT>");
  char real[PATH_MAX];
  if (::realpath(pos[1].c_str(), real) == nullptr) {
    throw Error(errno, std::strerror(errno)).wrap("Canonicalizing mountpoint path");
  }
  auto repo = repo::Repository::open(repo_path(g), g.open);
  std::string name = resolve ? resolve(*repo, pos[0]) : pos[0];
  std::optional<mirror::Mirrors> mirrors;
  if (!remotes.empty()) {
    // Objects come on first open, through composefs-fuse; the image first, checked here.
    mirrors.emplace(remotes, mirror_options());
    repo->link_image(fetch_image(*repo, name, *mirrors, false));
  }
  repo::Repository::OpenedImage img = repo->open_image(name);
  if (kernel) {
    mount::Options o;
    o.basedirs = {repo->path() + "/objects"};
    o.require_verity = img.require_object_verity && repo->secure();
    o.digest = to_hex(img.id);
    if (upper) {
      o.upperdir = *upper;
      o.workdir = *work;
    }
    o.read_only = !read_write;
    o.nosuid = !suid;
    o.nodev = !dev;
    mount::mount_image(img.fd.get(), real, o);
    return 0;
  }
  // FUSE: composefs-fuse serves the image it inherits, verifying every object it opens.
  if (verity::compute_from_fd(img.fd.get(), img.id.algorithm()) != img.id) {
    throw Error(EILSEQ, "fs-verity content mismatch");
  }
  // Image and objects are inherited as fds: no path (with its commas or colons) goes into an
  // option list, and a URL is escaped, so neither can add options of its own.
  UniqueFd image(::dup(img.fd.get()));  // inherited: no O_CLOEXEC
  UniqueFd objects(::open((repo->path() + "/objects").c_str(), O_RDONLY | O_DIRECTORY));
  if (!image || !objects) throw_errno(errno, repo->path() + "/objects");
  std::vector<std::string> args = {composefs_fuse()};
  if (foreground) args.push_back("-f");
  args.insert(args.end(), {"-o", "source=/proc/self/fd/" + std::to_string(image.get()) +
                                     ",basedir=/proc/self/fd/" + std::to_string(objects.get())});
  for (const std::string& url : remotes) args.insert(args.end(), {"-o", "remote=" + cli::escape_mount_option(url)});
  args.push_back(real);
  std::vector<char*> argv;
  for (std::string& s : args) argv.push_back(s.data());
  argv.push_back(nullptr);
  pid_t pid;
  if (::posix_spawn(&pid, argv[0], nullptr, nullptr, argv.data(), environ) != 0) throw_errno(errno, args[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) throw Error(EIO, "composefs-fuse could not mount " + pos[0]);
  return 0;
}

}  // namespace cfs::cfsctl
