#include "oci/copy.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <set>

#include "base/error.h"
#include "base/file_io.h"
#include "oci/layer.h"
#include "oci/stored.h"
#include "repo/splitstream.h"
#include "repo/stream_cat.h"

namespace cfs::oci {
namespace {

// The object `d` of `from` into `to`, measured again by the store: with `zerocopy` a reflink,
// else a hard link of the source's file (ObjectStore::take_file), else Error; without, a copy
// (reflinked where possible).
void copy_object(repo::Repository& to, const repo::Repository& from, const Digest& d,
                 bool zerocopy) {
  if (to.objects().contains(d)) return;
  UniqueFd fd = from.open_object(d);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) throw os_error(errno).wrap("object " + to_hex(d));
  auto size = static_cast<std::uint64_t>(st.st_size);
  Digest got;
  if (zerocopy) {
    with_context("--zerocopy: object " + to_hex(d) + " of " + from.path(), [&] {
      to.objects().take_file(
          fd.get(), size, true, [](std::span<const std::byte>) {}, &got);
    });
  } else {
    got = to.objects().ingest(fd.get(), size).digest;
  }
  if (got != d)
    throw_corrupt("object " + to_hex(d) + " of " + from.path() + " has the digest " + to_hex(got));
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
