// upgrade_repository on a repository as older composefs-rs left it: a config stream naming no
// EROFS image, config and manifest streams with the old header layout. The upgrade makes the
// image the pull would have made and rewrites the streams in the current layout; run again, it
// finds nothing to do.
#include "oci/upgrade.h"

#include <gtest/gtest.h>

#include "base/file_io.h"
#include "oci/pull.h"
#include "oci/stored.h"
#include "repo/splitstream.h"
#include "support/oci_image.h"
#include "support/support.h"

namespace cfs::oci {
namespace {

// The stream's bytes with the header in the layout composefs-rs wrote before repr(C).
Digest store_old_layout(repo::Repository& repo, const Digest& stream) {
  UniqueFd fd = repo.open_object(stream);
  std::vector<std::byte> file = read_all(fd.get()), old(file);
  std::copy_n(file.begin() + 16, 16, old.begin());
  std::copy_n(file.begin() + 12, 2, old.begin() + 16);
  std::copy_n(file.begin(), 12, old.begin() + 18);
  std::copy_n(file.begin() + 14, 2, old.begin() + 30);
  Digest d = repo.store_object(old);
  repo.objects().flush();
  return d;
}

TEST(Upgrade, OldImagesGetTheirEroFsAndCurrentStreams) {
  test::TempDir tmp;
  test::WrittenImage w = test::write_layout(
      tmp / "layout",
      {{test::make_tar({test::dir("usr/"), test::file("usr/f", std::string(200, 'f'))})}},
      "latest");
  repo::InitOptions io;
  io.insecure = true;
  repo::init((tmp / "repo").string(), io);
  auto repo = repo::Repository::open((tmp / "repo").string(), {});
  auto source = open_source("oci:" + (tmp / "layout").string(), {});
  PullResult pulled = pull(*repo, *source, "img", {});
  ASSERT_TRUE(pulled.image);

  // As bootc <= 1.15.x left it: the config names its layers only; both streams in the old layout.
  StoredImage img = open_stored_image(*repo, "img");
  std::map<std::string, Digest> layers{{w.diff_ids[0], img.config_refs.at(w.diff_ids[0])}};
  Digest config = store_old_layout(
      *repo, write_document_stream(*repo, config_content_type(), img.config, layers));
  repo->link_stream(config_stream_name(w.config_digest), config);
  std::map<std::string, Digest> manifest_refs = layers;
  manifest_refs["config:" + w.config_digest] = config;
  Digest manifest = store_old_layout(
      *repo, write_document_stream(*repo, manifest_content_type(), img.manifest, manifest_refs));
  repo->link_stream(manifest_stream_name(w.manifest_digest), manifest);
  img = open_stored_image(*repo, "img");  // old headers read as they are
  EXPECT_FALSE(img.image(1));

  UpgradeResult r = upgrade_repository(*repo);
  EXPECT_EQ(r.upgraded, 1U);
  EXPECT_EQ(r.already_current, 0U);
  img = open_stored_image(*repo, "img");
  ASSERT_TRUE(img.image(1));
  EXPECT_EQ(*img.image(1), *pulled.image);
  EXPECT_EQ(img.manifest_stream, pulled.manifest_stream)
      << "the streams are written as a pull writes them";
  UniqueFd fd = repo->open_object(img.config_stream);
  EXPECT_FALSE(repo::is_old_format_splitstream(read_all(fd.get())));

  r = upgrade_repository(*repo);
  EXPECT_EQ(r.upgraded, 0U);
  EXPECT_EQ(r.already_current, 1U);
}

}  // namespace
}  // namespace cfs::oci
