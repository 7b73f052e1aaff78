#include "repo/repository.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cstring>
#include <random>

#include "base/error.h"
#include "base/file_io.h"
#include "repo/layout.h"
#include "verity/measure.h"

namespace cfs::repo {
namespace {

constexpr const char* kMeta = "meta.json";

// An error with its cause under it, as cfsctl prints them ("Caused by:").
[[noreturn]] void fail_caused(const std::string& context, int err, const std::string& cause) {
  throw Error(err, cause).wrap(context);
}
[[noreturn]] void fail_os(const std::string& context, int err) { throw os_error(err).wrap(context); }

UniqueFd open_dir(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) fail_os("opening repository " + path, errno);
  return fd;
}

std::optional<std::string> read_meta(int dir_fd) {
  UniqueFd fd = with_context("Reading meta.json", [&] { return open_repo_file(dir_fd, kMeta); });
  if (!fd) return std::nullopt;
  std::vector<std::byte> bytes = read_all(fd.get());
  return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

// The algorithm an old repository's objects are named with: the first object name of 62
// (SHA-256) or 126 (SHA-512) characters; whether that object has fs-verity.
std::optional<std::pair<HashAlgorithm, bool>> infer_from_objects(int dir_fd, std::string& why) {
  UniqueFd objects(::openat(dir_fd, "objects", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!objects) {
    why = "opening objects/: " + os_error(errno).cause();
    return std::nullopt;
  }
  for (int i = 0; i < 256; ++i) {
    char sub[3];
    std::snprintf(sub, sizeof sub, "%02x", i);
    int fd = ::openat(objects.get(), sub, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) continue;
    DIR* d = ::fdopendir(fd);
    if (d == nullptr) {
      ::close(fd);
      continue;
    }
    std::optional<std::pair<HashAlgorithm, bool>> found;
    for (dirent* e; !found && (e = ::readdir(d)) != nullptr;) {
      std::size_t len = std::strlen(e->d_name);
      if (len != 62 && len != 126) continue;
      HashAlgorithm a = len == 126 ? HashAlgorithm::kSha512 : HashAlgorithm::kSha256;
      bool verity = false;
      try {  // a FIFO or a symlink there has no fs-verity, and is not waited on
        UniqueFd object = open_repo_file(dir_fd, std::string("objects/") + sub + "/" + e->d_name);
        verity = object && verity::kernel_measure(object.get(), a).has_value();
      } catch (const Error&) {
      }
      found.emplace(a, verity);
    }
    ::closedir(d);
    if (found) return found;
  }
  why = "no objects found in repository — cannot infer metadata";
  return std::nullopt;
}

bool exists_at(int dir_fd, const char* name) {
  struct stat st {};
  return ::fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

void mkdirs_at(int dir_fd, const std::string& dir, mode_t mode) {
  for (std::size_t pos = 0; pos != std::string::npos;) {
    pos = dir.find('/', pos + 1);
    std::string part = dir.substr(0, pos);
    if (!part.empty() && ::mkdirat(dir_fd, part.c_str(), mode) != 0 && errno != EEXIST) throw_errno(errno, part);
  }
}

// Writes meta.json unless one is there: an unnamed file, fsynced, fs-verity enabled unless
// insecure, then linked. false when one existed already.
bool write_meta(int dir_fd, const Meta& meta, bool insecure) {
  UniqueFd tmp(::openat(dir_fd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0644));
  if (!tmp) throw_errno(errno, "writing meta.json");
  write_all(tmp.get(), meta.to_json());
  if (::fsync(tmp.get()) != 0) throw_errno(errno, "writing meta.json");
  std::string proc = "/proc/self/fd/" + std::to_string(tmp.get());
  UniqueFd ro(::open(proc.c_str(), O_RDONLY | O_CLOEXEC));
  if (!ro) throw_errno(errno, "writing meta.json");
  tmp.reset();  // fs-verity refuses a file open for writing
  if (!insecure) {
    int err = verity::try_enable_verity(ro.get(), meta.algorithm);
    if (err != 0 && err != EEXIST) fail_os("enabling verity on meta.json", err);
  }
  std::string ro_proc = "/proc/self/fd/" + std::to_string(ro.get());
  if (::linkat(AT_FDCWD, ro_proc.c_str(), dir_fd, kMeta, AT_SYMLINK_FOLLOW) != 0) {
    if (errno == EEXIST) return false;
    throw_errno(errno, "writing meta.json");
  }
  return true;
}

std::string init_message(const std::string& path, const Meta& meta, bool insecure) {
  return "Initialized composefs repository at " + path + "\n  algorithm: " + algorithm_name(meta.algorithm) +
         "\n  verity:    " + (insecure ? "not required (insecure)" : "required") + "\n";
}

void remove_tree_at(int dir_fd, const char* name) {
  UniqueFd fd(::openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOENT) return;
    if (errno == ENOTDIR) {
      if (::unlinkat(dir_fd, name, 0) != 0) throw_errno(errno, name);
      return;
    }
    throw_errno(errno, name);
  }
  for (const std::string& e : dir_entries(fd.get(), ".")) remove_tree_at(fd.get(), e.c_str());
  if (::unlinkat(dir_fd, name, AT_REMOVEDIR) != 0) throw_errno(errno, name);
}

std::string dirname_of(const std::string& p) {
  std::size_t slash = p.rfind('/');
  return slash == std::string::npos ? "" : p.substr(0, slash);
}

}  // namespace

HashAlgorithm detect_algorithm(const std::string& path, const OpenOptions& o) {
  UniqueFd dir = open_dir(path);
  HashAlgorithm found;
  std::string source = "from meta.json";
  if (std::optional<std::string> text = read_meta(dir.get())) {
    try {
      found = Meta::parse(*text).algorithm;
    } catch (const Error& e) {
      fail_caused("Reading repository algorithm", EINVAL, e.what());
    }
  } else if (o.no_upgrade) {
    throw Error(ENOENT, "meta.json not found in " + path + "; this repository must be initialized with `cfsctl init`");
  } else {
    std::string why;
    auto inferred = infer_from_objects(dir.get(), why);
    if (!inferred) fail_caused("no meta.json in " + path + "; tried to infer algorithm from objects", ENOENT, why);
    found = inferred->first;
    source = "inferred from objects";
  }
  if (o.hash && *o.hash != found) {
    throw Error(EINVAL, "repository is configured for " + algorithm_name(found) + " (" + source + ") but --hash " +
                            std::string(hash_name(*o.hash)) + " was specified");
  }
  return found;
}

std::string init(const std::string& path, const InitOptions& o) {
  Meta wanted = Meta::for_init(o.algorithm, o.erofs_version);
  std::size_t slash = path.find_last_of('/');
  if (slash != std::string::npos && slash > 0) mkdirs_at(AT_FDCWD, path.substr(0, slash), 0755);
  if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) throw_errno(errno, path);
  UniqueFd dir = open_dir(path);
  if (o.reset_metadata) {
    remove_tree_at(dir.get(), "streams");
    remove_tree_at(dir.get(), "images");
    if (::unlinkat(dir.get(), kMeta, 0) != 0 && errno != ENOENT) throw_errno(errno, kMeta);
  }
  std::optional<std::string> existing = read_meta(dir.get());
  if (o.ensure) {
    if (existing) {
      Meta have = Meta::parse(*existing);
      if (have.algorithm != o.algorithm) {
        throw Error(EINVAL, "repository algorithm " + algorithm_name(have.algorithm) + " does not match expected " +
                                algorithm_name(o.algorithm));
      }
      return "Repository already initialized at " + path + " (existing configuration preserved)\n";
    }
    std::string why;
    if (exists_at(dir.get(), "objects")) {
      auto inferred = infer_from_objects(dir.get(), why);
      if (inferred && inferred->first != o.algorithm) {
        throw Error(EINVAL, "repository algorithm " + algorithm_name(inferred->first) + " does not match expected " +
                                algorithm_name(o.algorithm));
      }
      write_meta(dir.get(), Meta::for_init(o.algorithm, 1), o.insecure || !(inferred && inferred->second));
      return "Upgraded legacy repository at " + path + "\n";
    }
  }
  if (!existing && write_meta(dir.get(), wanted, o.insecure)) return init_message(path, wanted, o.insecure);
  Meta have = Meta::parse(existing ? *existing : *read_meta(dir.get()));
  if (have == wanted) return "Repository already initialized at " + path + "\n";
  throw Error(EEXIST, "repository already initialized with different configuration (algorithm: " +
                          algorithm_name(have.algorithm) + ", erofs_version: V" + std::to_string(have.erofs_default) +
                          "); cannot re-initialize with (algorithm: " + algorithm_name(wanted.algorithm) +
                          ", erofs_version: V" + std::to_string(wanted.erofs_default) + ")");
}

std::unique_ptr<Repository> Repository::open(const std::string& path, const OpenOptions& o) {
  HashAlgorithm algorithm = detect_algorithm(path, o);
  std::unique_ptr<Repository> r(new Repository());
  r->path_ = path;
  r->fd_ = open_dir(path);
  r->lock(LOCK_SH);
  std::optional<std::string> text = read_meta(r->fd_.get());
  if (!text) {  // an old-format repository (objects, no meta.json): upgraded in place
    std::string why;
    auto inferred = infer_from_objects(r->fd_.get(), why);
    if (!inferred) throw Error(ENOENT, "meta.json not found; this repository must be initialized with `cfsctl init`");
    write_meta(r->fd_.get(), Meta::for_init(algorithm, 1), !inferred->second);
    text = read_meta(r->fd_.get());
  }
  r->meta_ = Meta::parse(*text);
  if (r->meta_.version > kMaxMetaVersion) {
    throw Error(ENOTSUP, "unsupported repository format version " + std::to_string(r->meta_.version) +
                             " (this tool supports up to " + std::to_string(kMaxMetaVersion) + ")");
  }
  if (!r->meta_.incompatible.empty()) {
    std::string list;
    for (const std::string& f : r->meta_.incompatible) list += (list.empty() ? "\"" : ", \"") + f + "\"";
    throw Error(ENOTSUP, "repository requires unknown incompatible features: [" + list + "]");
  }
  try {
    UniqueFd meta_fd = open_repo_file(r->fd_.get(), kMeta);
    r->secure_ = !o.insecure && meta_fd && verity::kernel_measure_any(meta_fd.get()).has_value();
  } catch (const Error&) {
    r->secure_ = false;
  }
  if (o.require_verity && !r->secure_) {
    throw Error(EPERM,
                "repository was not initialized with fs-verity (hint: re-create with `cfsctl init` on a "
                "verity-capable filesystem)");
  }
  if (o.erofs_version) {
    r->meta_.erofs_default = *o.erofs_version;
    r->meta_.erofs_extra.clear();
  }
  return r;
}

Repository::~Repository() {
  if (fd_) ::flock(fd_.get(), LOCK_UN);
}

std::vector<std::uint32_t> Repository::erofs_versions() const {
  std::vector<std::uint32_t> v{meta_.erofs_default};
  for (std::uint32_t x : meta_.erofs_extra) {
    if (x != meta_.erofs_default) v.push_back(x);
  }
  return v;
}

void Repository::check_writable() const {
  struct statvfs sv {};
  if (::fstatvfs(fd_.get(), &sv) == 0 && (sv.f_flag & ST_RDONLY)) {
    throw Error(EROFS, "Repository is not writable: read-only file system");
  }
  if (::faccessat(fd_.get(), ".", W_OK, AT_EACCESS) != 0) {
    fail_os("Repository is not writable", errno);
  }
}

void Repository::lock(int operation) const {
  while (::flock(fd_.get(), operation) != 0) {
    if (errno != EINTR) throw_errno(errno, "locking repository " + path_);
  }
}

store::ObjectStore& Repository::objects() {
  std::call_once(objects_once_, [&] {  // layers are imported on several threads
    objects_ = std::make_unique<store::ObjectStore>(path_ + "/objects", meta_.algorithm);
    objects_->set_verity_required(secure_);
  });
  return *objects_;
}

Digest Repository::store_object(std::span<const std::byte> bytes) {
  std::size_t at = 0;
  Digest d = objects()
                 .ingest_stream([&](std::span<std::byte> buf) {
                   std::size_t n = std::min(buf.size(), bytes.size() - at);
                   std::memcpy(buf.data(), bytes.data() + at, n);
                   at += n;
                   return n;
                 })
                 .digest;
  objects().flush();
  return d;
}

UniqueFd Repository::open_object(const Digest& object) const {
  UniqueFd fd = with_context("opening object " + to_hex(object), [&] { return open_repo_file(fd_.get(), "objects/" + object_path(object)); });
  if (!fd) throw Error(ENOENT, "object " + to_hex(object) + " not found");
  return fd;
}

void Repository::link_stream(const std::string& name, const Digest& object) {
  replace_symlink(fd_.get(), "streams/" + name, "objects/" + object_path(object));
}

std::optional<Digest> Repository::stream_object(const std::string& name) const {
  char buf[4096];
  ssize_t n = ::readlinkat(fd_.get(), ("streams/" + name).c_str(), buf, sizeof buf);
  if (n < 0) {
    if (errno == ENOENT) return std::nullopt;
    throw_errno(errno, "streams/" + name);
  }
  std::string target(buf, static_cast<std::size_t>(n));
  std::optional<Digest> d = linked_object(target, meta_.algorithm);
  if (!d) throw_corrupt("streams/" + name + " does not link to an object: " + target);
  if (!has_repo_file(fd_.get(), "objects/" + object_path(*d))) return std::nullopt;
  return d;
}

void Repository::link_image(const Digest& id) {
  replace_symlink(fd_.get(), "images/" + to_hex(id), "objects/" + object_path(id));
}

void Repository::link_image_ref(const std::string& name, const Digest& id) {
  check_ref_path(name);
  replace_symlink(fd_.get(), "images/refs/" + name, "images/" + to_hex(id));
}

std::optional<Digest> Repository::resolve_image(const std::string& name) const {
  if (std::optional<Digest> id = parse_hex_digest(name, meta_.algorithm)) return id;
  check_ref_path(name);
  bool has_slash = name.find('/') != std::string::npos;
  if (has_slash && !name.starts_with("refs/")) return std::nullopt;  // as cfsctl: images/NAME, which is none
  std::string ref = has_slash ? name.substr(5) : name;
  std::string link = "images/refs/" + ref;
  char buf[4096];
  ssize_t n = ::readlinkat(fd_.get(), link.c_str(), buf, sizeof buf);
  if (n < 0) {
    if (errno == ENOENT || errno == ENOTDIR) return std::nullopt;
    if (errno == EINVAL) throw Error(ErrorKind::kCorrupt, EUCLEAN, link + " is not a symlink (run fsck)");
    fail_os("Reading " + link, errno);
  }
  std::string_view text(buf, static_cast<std::size_t>(n));
  std::optional<std::string> entry = ref_entry(ref, text);
  std::optional<Digest> id = entry ? parse_hex_digest(*entry, meta_.algorithm) : std::nullopt;
  if (!id || to_hex(*id) != *entry) {
    throw Error(ErrorKind::kCorrupt, EUCLEAN, link + " does not link to an image ID: " + std::string(text) + " (run fsck)");
  }
  return id;
}

Repository::OpenedImage Repository::open_image(const std::string& name) const {
  std::optional<Digest> id = resolve_image(name);
  if (!id) throw Error(ENOENT, "image not found: " + name);
  std::string link = "images/" + to_hex(*id);
  char buf[4096];
  ssize_t n = ::readlinkat(fd_.get(), link.c_str(), buf, sizeof buf);
  if (n < 0 && (errno == ENOENT || errno == ENOTDIR)) throw Error(ENOENT, "image not found: " + name);
  if (n < 0 && errno != EINVAL) fail_os("Opening image '" + name + "'", errno);
  if (n < 0 || linked_object(std::string_view(buf, static_cast<std::size_t>(n)), meta_.algorithm) != id) {
    throw Error(ErrorKind::kCorrupt, EUCLEAN, "image " + name + ": " + link + " does not link to its object (run fsck)");
  }
  OpenedImage img;
  img.name = name;
  img.id = *id;
  img.fd = open_object(*id);
  std::optional<Digest> measured = verity::kernel_measure(img.fd.get(), meta_.algorithm);
  if (measured && *measured != *id) throw Error(EILSEQ, "fs-verity content mismatch");
  if (!measured && secure_) throw Error(ENOTTY, "image " + name + " has no fs-verity");
  // Without fs-verity (an insecure repository) the mount still checks the image against its
  // ID, from a sealed copy; the files then cannot be checked by the kernel.
  img.require_object_verity = measured.has_value();
  return img;
}

void replace_symlink(int dir_fd, const std::string& link, const std::string& target) {
  std::string dir = dirname_of(link);
  if (!dir.empty()) mkdirs_at(dir_fd, dir, 0755);
  std::string text = link_text_to(link, target);
  if (::symlinkat(text.c_str(), dir_fd, link.c_str()) == 0) return;
  if (errno != EEXIST) throw_errno(errno, link);
  char have[4096];
  ssize_t n = ::readlinkat(dir_fd, link.c_str(), have, sizeof have);
  if (n >= 0 && std::string_view(have, static_cast<std::size_t>(n)) == text) return;
  static thread_local std::mt19937_64 random{std::random_device{}()};
  std::string tmp = (dir.empty() ? "" : dir + "/") + ".symlink-" + std::to_string(random());
  if (::symlinkat(text.c_str(), dir_fd, tmp.c_str()) != 0) throw_errno(errno, tmp);
  if (::renameat(dir_fd, tmp.c_str(), dir_fd, link.c_str()) != 0) {
    int err = errno;
    ::unlinkat(dir_fd, tmp.c_str(), 0);
    throw_errno(err, link);
  }
}

}  // namespace cfs::repo
