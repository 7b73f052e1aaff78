#include "oci/copy.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <set>

#include "base/error.h"
#include "base/file_io.h"
#include "oci/layer.h"
#include "oci/stored.h"
#include "repo/splitstream.h"
#include "repo/stream_cat.h"

namespace cfs::oci {
namespace {

// The object `d` of `from` into `to`: a hard link with `zerocopy`, else a copy (reflinked
// where possible) measured again by the store.
void copy_object(repo::Repository& to, const repo::Repository& from, const Digest& d,
                 bool zerocopy) {
  if (to.objects().contains(d)) return;
  if (zerocopy) {
    std::string path = "objects/" + object_path(d);
    std::string dir = path.substr(0, path.rfind('/'));
    if (::mkdirat(to.fd(), dir.c_str(), 0755) != 0 && errno != EEXIST)
      throw os_error(errno).wrap(to.path() + "/" + dir);
    if (::linkat(from.fd(), path.c_str(), to.fd(), path.c_str(), 0) != 0 && errno != EEXIST) {
      int err = errno;
      throw Error(err, "--zerocopy: cannot hard-link " + from.path() + "/" + path + " into " +
                           to.path() + ": " + std::strerror(err));
    }
    return;
  }
  UniqueFd fd = from.open_object(d);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) throw os_error(errno).wrap("object " + to_hex(d));
  store::ObjectStore::Ingested in =
      to.objects().ingest(fd.get(), static_cast<std::uint64_t>(st.st_size));
  if (in.digest != d)
    throw_corrupt("object " + to_hex(d) + " of " + from.path() + " has the digest " +
                  to_hex(in.digest));
}

// A layer the destination lacks. Same algorithm: its objects and splitstream as they are.
// Otherwise its tar, reassembled into an unnamed file and imported (the diff_id checked).
void copy_layer(repo::Repository& to, const repo::Repository& from, const std::string& diff_id,
                bool zerocopy) {
  std::optional<Digest> stream = from.stream_object(layer_stream_name(diff_id));
  if (!stream) throw Error(ENOENT, "layer " + diff_id + " is not in " + from.path());
  if (to.algorithm() == from.algorithm()) {
    UniqueFd fd = from.open_object(*stream);
    MappedFile file = MappedFile::open(fd.get());
    for (const Digest& d :
         repo::read_splitstream_refs(file.bytes(), from.algorithm(), false).object_refs) {
      copy_object(to, from, d, zerocopy);
    }
    copy_object(to, from, *stream, zerocopy);
    to.objects().flush();  // the objects are durable before a stream names them
    to.link_stream(layer_stream_name(diff_id), *stream);
    return;
  }
  UniqueFd tar = to.objects().unnamed_file();
  repo::cat_stream(from, *stream, std::nullopt,
                   [&](std::span<const std::byte> b) { write_all(tar.get(), b); });
  if (::lseek(tar.get(), 0, SEEK_SET) != 0) throw os_error(errno);
  LayerBlob blob{.compression = Compression::kNone, .diff_id = diff_id};
  import_layer(
      to, blob, [&](std::span<std::byte> b) { return read_some(tar.get(), b); }, nullptr);
}

}  // namespace

CopyResult copy_image(repo::Repository& to, const repo::Repository& from, const std::string& image,
                      const CopyOptions& o) {
  if (o.zerocopy && to.algorithm() != from.algorithm()) {
    throw Error(EINVAL, "--zerocopy requires matching hash algorithms; source uses " +
                            std::string(hash_name(from.algorithm())) + " but destination uses " +
                            std::string(hash_name(to.algorithm())));
  }
  StoredImage img = open_stored_image(from, image);
  if (!img.container)
    throw Error(ENOTSUP, "image " + image + " is an artifact; only container images are copied");
  std::set<std::string> done;
  for (const std::string& diff_id : parse_config(img.config).diff_ids) {
    if (!done.insert(diff_id).second || to.stream_object(layer_stream_name(diff_id))) continue;
    with_context("copying layer " + diff_id, [&] { copy_layer(to, from, diff_id, o.zerocopy); });
  }
  CopyResult r;
  r.manifest_digest = img.manifest_digest;
  r.config_digest = img.config_digest;
  r.committed =
      commit_image(to, img.manifest_digest, img.manifest, img.config_digest, img.config, o.tag);
  return r;
}

}  // namespace cfs::oci
