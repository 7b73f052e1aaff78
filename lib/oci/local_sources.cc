#include "oci/local_sources.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>

#include "base/error.h"
#include "base/file_io.h"
#include "oci/tar.h"
#include "verity/sha256.h"

namespace cfs::oci {
namespace {

using json = nlohmann::json;

constexpr std::uint64_t kMaxDocument = 16 << 20;  // manifests, indexes, configs
constexpr int kMaxSymlinkHops = 40;                // as the kernel's MAXSYMLINKS: more is a loop

class FileRange final : public BlobReader {
 public:
  FileRange(UniqueFd fd, std::uint64_t offset, std::uint64_t size) : fd_(std::move(fd)), at_(offset), left_(size) {}
  std::size_t read_some(std::span<std::byte> buf) override {
    if (left_ == 0) return 0;
    std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(left_, buf.size()));
    ssize_t n;
    do n = ::pread(fd_.get(), buf.data(), want, static_cast<off_t>(at_));
    while (n < 0 && errno == EINTR);
    if (n < 0) throw_errno(errno, "reading a blob");
    if (n == 0) throw_corrupt("a blob is shorter than its descriptor says");
    at_ += static_cast<std::uint64_t>(n);
    left_ -= static_cast<std::uint64_t>(n);
    return static_cast<std::size_t>(n);
  }

 private:
  UniqueFd fd_;
  std::uint64_t at_, left_;
};

std::string read_text(int fd, std::uint64_t offset, std::uint64_t size, const std::string& what) {
  if (size > kMaxDocument) throw_corrupt(what + " is larger than 16 MiB");
  std::string s(size, '\0');
  FileRange r(UniqueFd(::dup(fd)), offset, size);
  for (std::size_t got = 0; got < size;) got += r.read_some(std::as_writable_bytes(std::span(s)).subspan(got));
  return s;
}

UniqueFd open_regular(int dir_fd, const std::string& path, const std::string& what) {
  UniqueFd fd(::openat(dir_fd, path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
  if (!fd) throw Error(errno, what + ": " + path + ": " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) throw Error(EINVAL, what + ": " + path + " is not a regular file");
  return fd;
}

std::uint64_t file_size(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) throw_errno(errno);
  return static_cast<std::uint64_t>(st.st_size);
}

json parse_json(const std::string& text, const std::string& what) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded()) throw_corrupt(what + ": invalid JSON");
  return j;
}

// --- oci: image layouts ---

// A file of a layout: where its bytes are (a file of its own, or a member of an archive).
struct Extent {
  UniqueFd fd;
  std::uint64_t offset = 0, size = 0;
};
using OpenFile = std::function<Extent(const std::string& path)>;

class Layout final : public ImageSource {
 public:
  // `what` names the layout in messages ("OCI layout DIR").
  Layout(std::string what, OpenFile open, std::string tag) : what_(std::move(what)), open_(std::move(open)), tag_(std::move(tag)) {}
  std::string reference() const override { return tag_; }

  std::pair<std::string, std::string> fetch_manifest(const std::string& reference) override {
    if (verity::is_sha256_digest(reference)) return {blob_text(reference), ""};
    Extent index = open_("index.json");
    json j = parse_json(read_text(index.fd.get(), index.offset, index.size, "index.json"), what_ + ": index.json");
    if (!j.is_object() || !j.contains("manifests") || !j["manifests"].is_array()) {
      throw_corrupt(what_ + ": index.json: no \"manifests\" array");
    }
    const json* chosen = nullptr;
    for (const json& m : j["manifests"]) {
      if (!m.is_object()) continue;
      std::string name;
      if (auto a = m.find("annotations"); a != m.end() && a->is_object()) {
        if (auto n = a->find("org.opencontainers.image.ref.name"); n != a->end() && n->is_string()) name = *n;
      }
      if (reference.empty() ? j["manifests"].size() == 1 : name == reference) {
        chosen = &m;
        break;
      }
    }
    if (chosen == nullptr) {
      throw Error(ENOENT, reference.empty() ? what_ + " holds more than one image: name one with :TAG"
                                            : "no image tagged " + reference + " in " + what_);
    }
    if (!chosen->contains("digest") || !(*chosen)["digest"].is_string()) throw_corrupt(what_ + ": index.json: an entry without a digest");
    std::string digest = (*chosen)["digest"];
    if (!verity::is_sha256_digest(digest)) throw_corrupt(what_ + ": index.json: unsupported digest " + digest);
    std::string type = chosen->contains("mediaType") && (*chosen)["mediaType"].is_string() ? (*chosen)["mediaType"].get<std::string>() : "";
    return {blob_text(digest), type};
  }

  std::unique_ptr<BlobReader> open_blob(const Descriptor& blob) override {
    Extent e = open_(blob_path(blob.digest));
    return std::make_unique<FileRange>(std::move(e.fd), e.offset, e.size);
  }

 private:
  static std::string blob_path(const std::string& digest) { return "blobs/sha256/" + digest.substr(7); }
  std::string blob_text(const std::string& digest) {
    Extent e = open_(blob_path(digest));
    std::string text = read_text(e.fd.get(), e.offset, e.size, digest);
    if (verity::sha256_digest(text) != digest) throw_corrupt(what_ + ": blob " + digest + " does not have that digest");
    return text;
  }

  std::string what_;
  OpenFile open_;
  std::string tag_;
};

// --- docker-archive: ---

// The member a symlink member at `link` (a path in the archive, "a/b") names: `target`
// relative to the link's directory; nullopt when it leaves the archive.
std::optional<std::string> symlink_target(std::string_view link, std::string_view target) {
  if (target.starts_with('/')) return std::nullopt;
  std::size_t slash = link.rfind('/');
  std::string_view dir = slash == std::string_view::npos ? std::string_view() : link.substr(0, slash);
  std::vector<std::string_view> parts;
  for (std::string_view path : {dir, target}) {
    while (!path.empty()) {
      std::size_t slash = std::min(path.find('/'), path.size());
      std::string_view part = path.substr(0, slash);
      path.remove_prefix(std::min(slash + 1, path.size()));
      if (part == "..") {
        if (parts.empty()) return std::nullopt;
        parts.pop_back();
      } else if (!part.empty() && part != ".") {
        parts.push_back(part);
      }
    }
  }
  std::string out;
  for (std::string_view part : parts) out += (out.empty() ? "" : "/") + std::string(part);
  return out;
}

// Where each member of a tar file is, found by reading its headers only (at its own offset:
// the fd's is left alone).
class MemberIndex final : public TarInput {
 public:
  explicit MemberIndex(int fd) : fd_(fd) {}
  std::size_t read_some(std::span<std::byte> buf) override {
    ssize_t n;
    do n = ::pread(fd_, buf.data(), buf.size(), static_cast<off_t>(at_));
    while (n < 0 && errno == EINTR);
    if (n < 0) throw_errno(errno, "docker archive");
    at_ += static_cast<std::uint64_t>(n);
    return static_cast<std::size_t>(n);
  }
  FileBody body(const std::string&, std::uint64_t size) override {
    last_ = {at_, size};
    at_ += size;
    return {};
  }
  std::pair<std::uint64_t, std::uint64_t> last_ = {0, 0};

 private:
  int fd_;
  std::uint64_t at_ = 0;
};

class DockerArchive final : public ImageSource {
 public:
  DockerArchive(const std::string& file, std::string tag) : file_(file), tag_(std::move(tag)) {
    fd_.reset(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd_) throw Error(errno, "opening docker archive " + file + ": " + std::strerror(errno));
    MemberIndex index(fd_.get());
    TarReader reader(index);
    try {
      while (std::optional<TarEntry> e = reader.next()) {
        if (e->type == EntryType::kRegular) members_[e->path.substr(1)] = index.last_;
        if (e->type == EntryType::kSymlink) symlinks_[e->path.substr(1)] = e->link;
      }
    } catch (const Error& e) {
      throw e.wrap("docker archive " + file);
    }
    build_manifest();
  }
  std::string reference() const override { return tag_; }

  std::pair<std::string, std::string> fetch_manifest(const std::string& reference) override {
    if (!reference.empty() && reference != tag_ && reference != manifest_digest_) throw Error(ENOENT, "no manifest " + reference);
    return {manifest_, std::string(kOciManifest)};
  }

  std::unique_ptr<BlobReader> open_blob(const Descriptor& blob) override {
    auto it = blobs_.find(blob.digest);
    if (it == blobs_.end()) throw Error(ENOENT, "docker archive " + file_ + ": no blob " + blob.digest);
    return file_range_reader(UniqueFd(::dup(fd_.get())), it->second.first, it->second.second);
  }

 private:
  // Where member `name` is. Older `docker save` writes a repeated layer's <id>/layer.tar as a
  // symlink to another member (skopeo reads such archives): followed inside the archive.
  std::pair<std::uint64_t, std::uint64_t> member(const std::string& name) {
    std::string path = normalize_tar_path(name).substr(1);
    for (int hops = 0;; ++hops) {
      if (auto it = members_.find(path); it != members_.end()) return it->second;
      auto link = symlinks_.find(path);
      if (link == symlinks_.end()) {
        throw_corrupt("docker archive " + file_ + ": no member " + path + (hops == 0 ? "" : " (a symlink from " + name + ")"));
      }
      if (hops == kMaxSymlinkHops) throw_corrupt("docker archive " + file_ + ": " + name + ": a symlink loop");
      std::optional<std::string> target = symlink_target(path, link->second);
      if (!target) throw_corrupt("docker archive " + file_ + ": " + path + ": a symlink that leaves the archive (" + link->second + ")");
      path = *target;
    }
  }

  Descriptor describe(const std::string& name, std::string media_type) {
    auto [offset, size] = member(name);
    verity::Sha256 sha;
    FileRange r(UniqueFd(::dup(fd_.get())), offset, size);
    std::vector<std::byte> buf(1 << 20);
    std::byte head[4]{};
    std::size_t seen = 0;
    for (std::size_t n; (n = r.read_some(buf)) != 0;) {
      for (std::size_t i = 0; i < n && seen < 4; ++i) head[seen++] = buf[i];
      sha.update(std::span(buf).first(n));
    }
    Descriptor d{std::move(media_type), sha.finish(), size};
    if (d.media_type.empty()) {  // a layer: what its first bytes say
      auto b = [&](int i) { return std::to_integer<unsigned>(head[i]); };
      d.media_type = b(0) == 0x1f && b(1) == 0x8b ? "application/vnd.oci.image.layer.v1.tar+gzip"
                     : b(0) == 0x28 && b(1) == 0xb5 && b(2) == 0x2f && b(3) == 0xfd ? "application/vnd.oci.image.layer.v1.tar+zstd"
                                                                                  : "application/vnd.oci.image.layer.v1.tar";
    }
    blobs_[d.digest] = {offset, size};
    return d;
  }

  void build_manifest() {
    auto [offset, size] = member("manifest.json");
    json list = parse_json(read_text(fd_.get(), offset, size, "manifest.json"), file_ + ": manifest.json");
    if (!list.is_array() || list.empty()) throw_corrupt(file_ + ": manifest.json is not a list of images");
    const json* chosen = nullptr;
    for (const json& img : list) {
      if (!img.is_object()) throw_corrupt(file_ + ": manifest.json: an entry is not an object");
      bool match = tag_.empty() ? list.size() == 1 : false;
      if (auto tags = img.find("RepoTags"); !match && tags != img.end() && tags->is_array()) {
        for (const json& t : *tags) {
          if (t.is_string() && (t == tag_ || t.get<std::string>().ends_with("/" + tag_))) match = true;
        }
      }
      if (match) {
        chosen = &img;
        break;
      }
    }
    if (chosen == nullptr) {
      throw Error(ENOENT, tag_.empty() ? "docker archive " + file_ + " holds more than one image: name one as docker-archive:" + file_ + ":TAG"
                                       : "no image tagged " + tag_ + " in docker archive " + file_);
    }
    if (!chosen->contains("Config") || !(*chosen)["Config"].is_string() || !chosen->contains("Layers") ||
        !(*chosen)["Layers"].is_array()) {
      throw_corrupt(file_ + ": manifest.json: an entry without Config or Layers");
    }
    json m;
    m["schemaVersion"] = 2;
    m["mediaType"] = kOciManifest;
    Descriptor config = describe((*chosen)["Config"].get<std::string>(), std::string(kOciConfig));
    m["config"] = {{"mediaType", config.media_type}, {"digest", config.digest}, {"size", config.size}};
    m["layers"] = json::array();
    for (const json& l : (*chosen)["Layers"]) {
      if (!l.is_string()) throw_corrupt(file_ + ": manifest.json: a layer path is not a string");
      Descriptor d = describe(l.get<std::string>(), "");
      m["layers"].push_back({{"mediaType", d.media_type}, {"digest", d.digest}, {"size", d.size}});
    }
    manifest_ = m.dump();
    manifest_digest_ = verity::sha256_digest(manifest_);
  }

  std::string file_, tag_;
  UniqueFd fd_;
  std::map<std::string, std::pair<std::uint64_t, std::uint64_t>> members_;  // path -> offset, size
  std::map<std::string, std::string> symlinks_;                              // path -> target as stored
  std::map<std::string, std::pair<std::uint64_t, std::uint64_t>> blobs_;    // digest -> offset, size
  std::string manifest_, manifest_digest_;
};

}  // namespace

std::unique_ptr<BlobReader> file_range_reader(UniqueFd fd, std::uint64_t offset, std::uint64_t size) {
  return std::make_unique<FileRange>(std::move(fd), offset, size);
}

std::unique_ptr<ImageSource> open_layout(const std::string& dir, const std::string& tag) {
  auto fd = std::make_shared<UniqueFd>(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!*fd) throw Error(errno, "opening OCI layout " + dir + ": " + std::strerror(errno));
  std::string what = "OCI layout " + dir;
  return std::make_unique<Layout>(what, [fd, what](const std::string& path) {
    Extent e{open_regular(fd->get(), path, what), 0, 0};
    e.size = file_size(e.fd.get());
    return e;
  }, tag);
}

std::unique_ptr<ImageSource> open_oci_archive(const std::string& file, const std::string& tag) {
  auto fd = std::make_shared<UniqueFd>(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
  if (!*fd) throw Error(errno, "opening OCI archive " + file + ": " + std::strerror(errno));
  auto members = std::make_shared<std::map<std::string, std::pair<std::uint64_t, std::uint64_t>>>();
  MemberIndex index(fd->get());
  TarReader reader(index);
  with_context("OCI archive " + file, [&] {
    while (std::optional<TarEntry> e = reader.next()) {
      if (e->type == EntryType::kRegular) (*members)[e->path.substr(1)] = index.last_;
    }
  });
  std::string what = "OCI archive " + file;
  return std::make_unique<Layout>(what, [fd, members, what](const std::string& path) {
    auto it = members->find(path);
    if (it == members->end()) throw Error(ENOENT, what + ": no member " + path);
    return Extent{UniqueFd(::dup(fd->get())), it->second.first, it->second.second};
  }, tag);
}

std::unique_ptr<ImageSource> open_docker_archive(const std::string& file, const std::string& tag) {
  return std::make_unique<DockerArchive>(file, tag);
}

}  // namespace cfs::oci
