#include "oci/upgrade.h"

#include "base/error.h"
#include "oci/commit.h"
#include "oci/stored.h"

namespace cfs::oci {

UpgradeResult upgrade_repository(repo::Repository& repo) {
  UpgradeResult r;
  std::uint32_t version = repo.erofs_versions().front();
  for (const auto& tagged : list_tags(repo)) {
    const auto& [tag, digest] = tagged;  // (clang 14 cannot capture structured bindings)
    StoredImage img =
        with_context("opening image " + tag, [&] { return open_stored_image(repo, tagged.second); });
    if (!img.container) {
      ++r.skipped_non_container;
    } else if (img.image(version)) {
      ++r.already_current;
    } else {
      with_context("generating EROFS for image " + tag, [&] {
        commit_image(repo, img.manifest_digest, img.manifest, img.config_digest, img.config,
                     std::nullopt);
      });
      ++r.upgraded;
    }
  }
  return r;
}

}  // namespace cfs::oci
