#include "oci/artifact.h"

#include <map>

#include "base/error.h"
#include "oci/manifest.h"
#include "oci/stored.h"
#include "repo/splitstream.h"

namespace cfs::oci {
namespace {

std::uint64_t blob_content_type() { return repo::content_type_of("oci_blob"); }

// The stream of one blob: stored once, kept when there.
Digest store_blob(repo::Repository& repo, ImageSource& source, const Descriptor& blob) {
  std::string name = layer_stream_name(blob.digest);
  if (std::optional<Digest> have = repo.stream_object(name)) return *have;
  std::string bytes =
      with_context("blob " + blob.digest, [&] { return read_small_blob(source, blob); });
  Digest stream = write_document_stream(repo, blob_content_type(), bytes, {});
  repo.link_stream(name, stream);
  return stream;
}

}  // namespace

Digest store_artifact(repo::Repository& repo, ImageSource& source,
                      const std::string& manifest_digest, const std::string& manifest) {
  if (std::optional<Digest> have = repo.stream_object(manifest_stream_name(manifest_digest)))
    return *have;
  Manifest m = parse_manifest(manifest);
  if (is_image_config(m.config.media_type))
    throw Error(ENOTSUP, "a container image, not an artifact");
  for (const Descriptor& l : m.layers) {
    if (layer_compression(l.media_type))
      throw Error(ENOTSUP, "layer " + l.digest + " is a tar archive (" + l.media_type + ")");
  }
  std::map<std::string, Digest> blobs;  // composefs-rs names an artifact's blobs by their digests
  for (const Descriptor& l : m.layers) blobs[l.digest] = store_blob(repo, source, l);

  Digest config_stream;
  if (std::optional<Digest> have = repo.stream_object(config_stream_name(m.config.digest))) {
    config_stream = *have;
  } else {
    std::string config = with_context("config " + m.config.digest,
                                      [&] { return read_small_blob(source, m.config); });
    config_stream = write_document_stream(repo, config_content_type(), config, blobs);
    repo.link_stream(config_stream_name(m.config.digest), config_stream);
  }
  std::map<std::string, Digest> refs = blobs;
  refs["config:" + m.config.digest] = config_stream;
  Digest stream = write_document_stream(repo, manifest_content_type(), manifest, refs);
  repo.link_stream(manifest_stream_name(manifest_digest), stream);
  return stream;
}

}  // namespace cfs::oci
