#include "oci/commit.h"

#include "base/error.h"
#include "oci/boot.h"
#include "oci/layer.h"
#include "oci/pull.h"
#include "oci/stored.h"

namespace cfs::oci {

CommittedImage commit_image(repo::Repository& repo, const std::string& manifest_digest,
                            const std::string& manifest, const std::string& config_digest,
                            const std::string& config, const std::optional<std::string>& tag) {
  std::map<std::string, Digest> layer_refs;
  for (const std::string& diff_id : parse_config(config).diff_ids) {
    std::optional<Digest> s = repo.stream_object(layer_stream_name(diff_id));
    if (!s) throw Error(ENOENT, "layer " + diff_id + " is not in the repository");
    layer_refs[diff_id] = *s;
  }
  StoredImage stored;
  stored.manifest_digest = manifest_digest;
  stored.config = config;
  stored.container = true;
  stored.config_refs = layer_refs;
  tree::Tree tree = image_tree(repo, stored, TransformOptions{});
  CommittedImage out;
  std::map<std::string, Digest> config_refs = layer_refs;
  bool first = true;
  for (std::uint32_t v : repo.erofs_versions()) {
    Digest id =
        with_context("storing the EROFS image", [&] { return store_erofs_image(repo, tree, v); });
    repo.link_image(id);
    config_refs[std::string(image_ref_name(v))] = id;
    if (first) out.image = id, first = false;
  }
  // Boot images made before stay named (every composefs.image.boot* ref, as composefs-rs).
  if (std::optional<Digest> old = repo.stream_object(config_stream_name(config_digest))) {
    for (const auto& [name, id] :
         read_document_stream(repo, *old, config_content_type()).named_refs) {
      if (name.starts_with(kBootImageRefV2)) config_refs.emplace(name, id);
    }
  }
  out.config_stream = with_context("storing config " + config_digest, [&] {
    return write_document_stream(repo, config_content_type(), config, config_refs);
  });
  repo.link_stream(config_stream_name(config_digest), out.config_stream);
  std::map<std::string, Digest> manifest_refs = layer_refs;
  manifest_refs["config:" + config_digest] = out.config_stream;
  out.manifest_stream = with_context("storing manifest " + manifest_digest, [&] {
    return write_document_stream(repo, manifest_content_type(), manifest, manifest_refs);
  });
  repo.link_stream(manifest_stream_name(manifest_digest), out.manifest_stream);
  if (tag) tag_image(repo, *tag, manifest_digest);
  return out;
}

}  // namespace cfs::oci
