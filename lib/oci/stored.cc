#include "oci/stored.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "base/error.h"
#include "base/file_io.h"
#include "repo/layout.h"
#include "repo/splitstream.h"
#include "verity/sha256.h"

namespace cfs::oci {
namespace {

constexpr const char* kTagDir = "streams/refs/oci";

}  // namespace

std::uint64_t manifest_content_type() { return repo::content_type_of("ocimanif"); }
std::uint64_t config_content_type() { return repo::content_type_of("ociconfg"); }

std::string manifest_stream_name(const std::string& digest) { return "oci-manifest-" + digest; }
std::string config_stream_name(const std::string& digest) { return "oci-config-" + digest; }

std::string encode_tag(std::string_view name) {
  std::string out;
  for (char c : name) {
    if (c == '%') out += "%25";
    else if (c == '/') out += "%2F";
    else out += c;
  }
  return out;
}

std::string decode_tag(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s.substr(i, 3) == "%25") out += '%', i += 2;
    else if (s.substr(i, 3) == "%2F") out += '/', i += 2;
    else out += s[i];
  }
  return out;
}

void tag_image(repo::Repository& repo, const std::string& name, const std::string& manifest_digest) {
  if (name.empty()) throw Error(EINVAL, "an empty tag name");
  repo::replace_symlink(repo.fd(), std::string(kTagDir) + "/" + encode_tag(name), "streams/" + manifest_stream_name(manifest_digest));
}

void untag_image(repo::Repository& repo, const std::string& name) {
  if (::unlinkat(repo.fd(), (std::string(kTagDir) + "/" + encode_tag(name)).c_str(), 0) != 0) {
    int err = errno;
    throw os_error(err).wrap("Failed to remove tag " + name);
  }
}

std::vector<std::pair<std::string, std::string>> list_tags(const repo::Repository& repo) {
  std::vector<std::pair<std::string, std::string>> out;
  std::vector<std::string> todo{""};
  while (!todo.empty()) {
    std::string dir = todo.back();
    todo.pop_back();
    for (const std::string& name : repo::dir_entries(repo.fd(), std::string(kTagDir) + dir)) {
      std::string path = std::string(kTagDir) + dir + "/" + name;
      struct stat st {};
      if (::fstatat(repo.fd(), path.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
      if (S_ISDIR(st.st_mode)) {
        todo.push_back(dir + "/" + name);
        continue;
      }
      if (!S_ISLNK(st.st_mode)) continue;
      std::string target = repo::link_text(repo.fd(), path);
      std::string last = target.substr(target.rfind('/') + 1);
      if (!last.starts_with("oci-manifest-") || !verity::is_sha256_digest(last.substr(13))) continue;
      out.emplace_back(decode_tag((dir.empty() ? "" : dir.substr(1) + "/") + name), last.substr(13));
    }
  }
  return out;
}

Digest write_document_stream(repo::Repository& repo, std::uint64_t content_type, const std::string& bytes,
                             const std::map<std::string, Digest>& named_refs) {
  Digest object = repo.store_object(std::as_bytes(std::span(bytes)));
  repo::SplitStreamWriter w(repo.algorithm(), content_type);
  w.write_external(object, bytes.size());
  for (const auto& [name, stream] : named_refs) w.add_named_ref(name, stream);
  return repo.store_object(w.finish());
}

DocumentStream read_document_stream(const repo::Repository& repo, const Digest& stream, std::uint64_t content_type) {
  UniqueFd fd = repo.open_object(stream);
  MappedFile file = MappedFile::open(fd.get());
  repo::SplitStreamReader r(file.bytes(), repo.algorithm());
  if (r.refs().content_type != content_type) throw_corrupt("stream " + to_hex(stream) + " has another content type");
  if (r.refs().object_refs.size() != 1) {
    throw_corrupt("Expected exactly 1 external object in splitstream, got " + std::to_string(r.refs().object_refs.size()));
  }
  DocumentStream d;
  UniqueFd object = repo.open_object(r.refs().object_refs[0]);
  std::vector<std::byte> bytes = read_all(object.get());
  d.bytes.assign(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  for (const auto& [index, name] : r.refs().named_refs) d.named_refs[name] = r.refs().stream_refs[index];
  return d;
}

std::optional<Digest> StoredImage::image(std::uint32_t version) const {
  auto it = config_refs.find(std::string(image_ref_name(version)));
  if (it == config_refs.end()) return std::nullopt;
  return it->second;
}

StoredImage open_stored_image(const repo::Repository& repo, const std::string& name_or_digest) {
  StoredImage img;
  bool by_digest = verity::is_sha256_digest(name_or_digest);
  std::string digest = name_or_digest;
  if (!by_digest) {
    std::string path = std::string(kTagDir) + "/" + encode_tag(name_or_digest);
    struct stat st {};
    if (::fstatat(repo.fd(), path.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISLNK(st.st_mode)) {
      throw Error(ENOENT, "image not found: " + name_or_digest);
    }
    std::string target = repo::link_text(repo.fd(), path);
    std::string last = target.substr(target.rfind('/') + 1);
    if (!last.starts_with("oci-manifest-")) throw_corrupt("tag " + name_or_digest + " does not name a manifest");
    digest = last.substr(13);
  }
  std::optional<Digest> m = repo.stream_object(manifest_stream_name(digest));
  if (!m) throw Error(ENOENT, "manifest " + digest + " not found in the repository");
  img.manifest_stream = *m;
  DocumentStream ms = read_document_stream(repo, *m, manifest_content_type());
  img.manifest_digest = digest;
  img.manifest = std::move(ms.bytes);
  if (by_digest && verity::sha256_digest(img.manifest) != digest) {
    throw_corrupt("manifest " + digest + " does not have that digest: " + verity::sha256_digest(img.manifest));
  }
  img.parsed = parse_manifest(img.manifest);
  img.config_digest = img.parsed.config.digest;
  img.container = is_image_config(img.parsed.config.media_type);
  auto c = ms.named_refs.find("config:" + img.config_digest);
  if (c == ms.named_refs.end()) throw_corrupt("manifest " + digest + " has no reference to its config");
  img.config_stream = c->second;
  DocumentStream cs = read_document_stream(repo, c->second, config_content_type());
  img.config = std::move(cs.bytes);
  img.config_refs = std::move(cs.named_refs);
  return img;
}

}  // namespace cfs::oci
