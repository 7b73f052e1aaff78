// containers-storage as podman lays it out, made by hand: finding images by name and ID, the
// layer chain, metadata file names, files from lower layers, and the refusals.
#include "oci/cstor/storage.h"

#include <gtest/gtest.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "base/error.h"
#include "support/support.h"

namespace cfs::oci::cstor {
namespace {

namespace fs = std::filesystem;

const std::string kId1 = std::string(64, 'a'), kId2 = "ab" + std::string(62, 'c');

// Two images: kId1 ("localhost/one:latest", layers L1 <- L2) and kId2
// ("docker.io/library/two:1", layer L1).
fs::path make_store(const fs::path& root, const std::string& l2_extra = "") {
  fs::create_directories(root / "overlay-images" / kId1);
  fs::create_directories(root / "overlay-layers");
  test::write_file(root / "overlay-images" / "images.json",
                   R"([{"id":")" + kId1 +
                       R"(","names":["localhost/one:latest"],"layer":"L2"},)"
                       R"({"id":")" +
                       kId2 + R"(","names":["docker.io/library/two:1"],"layer":"L1"}])");
  test::write_file(root / "overlay-layers" / "layers.json",
                   R"([{"id":"L1","diff-digest":"sha256:11","diff-size":10},)"
                   R"({"id":"L2","parent":"L1","diff-digest":"sha256:22","diff-size":20)" +
                       l2_extra + "}]");
  test::write_file(root / "overlay-images" / kId1 / "manifest", "M");
  test::write_file(root / "overlay-images" / kId1 / "=c2hhMjU2OmFiYw==", "C");  // "sha256:abc"
  for (const char* l : {"L1", "L2"}) fs::create_directories(root / "overlay" / l / "diff");
  fs::create_directories(root / "overlay" / "l");
  fs::create_symlink("../L1/diff", root / "overlay" / "l" / "LINK1");
  test::write_file(root / "overlay" / "L2" / "lower", "l/LINK1");
  return root;
}

TEST(CstorStorage, FindsImagesAsPodmanNamesThem) {
  test::TempDir tmp;
  std::vector<std::string> stores = {make_store(tmp / "s").string()};
  struct Case {
    std::string ref, id;
  } cases[] = {{"one", kId1},           {"one:latest", kId1},    {"localhost/one", kId1},
               {"two:1", kId2},         {"library/two:1", kId2}, {"docker.io/library/two:1", kId2},
               {"@" + kId1, kId1},      {"@ab", kId2},           {kId1.substr(0, 12), kId1},
               {"sha256:" + kId2, kId2}};
  for (const Case& c : cases) {
    Image img = find_image(stores, c.ref);
    EXPECT_EQ(img.id, c.id) << c.ref;
  }
  Image one = find_image(stores, "one");
  ASSERT_EQ(one.layers.size(), 2U);
  EXPECT_EQ(one.layers[0].id, "L1");
  EXPECT_EQ(one.layers[1].diff_digest, "sha256:22");
  EXPECT_EQ(one.layers[1].diff_size, 20U);
  EXPECT_EQ(read_big_data(one, "manifest"), "M");
  EXPECT_EQ(read_big_data(one, "sha256:abc"), "C");
  EXPECT_EQ(read_big_data(one, "nope"), std::nullopt);
}

TEST(CstorStorage, RefusesMissingAmbiguousAndIncomplete) {
  test::TempDir tmp;
  std::vector<std::string> stores = {make_store(tmp / "s").string()};
  struct Case {
    std::string ref;
    int err;
    std::string why;
  } cases[] = {{"three", ENOENT, "no image three in containers-storage"},
               {"two", ENOENT, "no image two"},    // two:latest does not exist
               {"ne:latest", ENOENT, "no image"},  // a suffix, not a path component
               {"@a", EINVAL, "is ambiguous"},
               {"@xyz", EINVAL, "not an image ID"}};
  for (const Case& c : cases) {
    try {
      find_image(stores, c.ref);
      ADD_FAILURE() << "found " << c.ref;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), c.err) << c.ref << ": " << e.what();
      EXPECT_NE(std::string(e.what()).find(c.why), std::string::npos) << c.ref << ": " << e.what();
    }
  }
  std::vector<std::string> busy = {
      make_store(tmp / "b", R"(,"flags":{"incomplete":true})").string()};
  try {
    find_image(busy, "one");
    ADD_FAILURE() << "an incomplete layer was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), EBUSY);
    EXPECT_NE(std::string(e.what()).find("layer L2 is incomplete"), std::string::npos) << e.what();
  }
  EXPECT_EQ(find_image(busy, "two:1").id, kId2) << "other images are not affected";
}

TEST(CstorStorage, FilesComeFromTheLayerOrItsLowers) {
  test::TempDir tmp;
  fs::path root = make_store(tmp / "s");
  std::vector<std::string> stores = {root.string()};
  test::write_file(root / "overlay" / "L1" / "diff" / "base", "from L1");
  test::write_file(root / "overlay" / "L1" / "diff" / "copied", "data in L1");
  test::write_file(root / "overlay" / "L2" / "diff" / "copied", "");  // a metacopy stub
  bool xattrs = ::setxattr((root / "overlay" / "L2" / "diff" / "copied").c_str(),
                           "user.overlay.metacopy", "", 0, 0) == 0;
  test::write_file(root / "overlay" / "L2" / "diff" / "own", "from L2");
  fs::create_symlink("/etc/passwd", root / "overlay" / "L2" / "diff" / "link");
  Image one = find_image(stores, "one");
  std::vector<UniqueFd> dirs = layer_dirs(one, one.layers[1]);
  ASSERT_EQ(dirs.size(), 2U);
  auto text = [](UniqueFd fd) {
    char buf[64];
    ssize_t n = ::pread(fd.get(), buf, sizeof buf, 0);
    return std::string(buf, n > 0 ? static_cast<std::size_t>(n) : 0);
  };
  EXPECT_EQ(text(open_layer_file(dirs, "./own")), "from L2");
  EXPECT_EQ(text(open_layer_file(dirs, "./base")), "from L1");
  if (xattrs) {
    EXPECT_EQ(text(open_layer_file(dirs, "copied")), "data in L1");
  }
  EXPECT_THROW(open_layer_file(dirs, "./link"), Error);
  EXPECT_THROW(open_layer_file(dirs, "../L1/diff/base"), Error);
  EXPECT_THROW(open_layer_file(dirs, "./missing"), Error);
}

TEST(CstorStorage, DiscoversStoresFromStorageConfAndStorageOpts) {
  test::TempDir tmp;
  test::write_file(
      tmp / "storage.conf",
      "[storage]\ndriver = \"overlay\"\ngraphroot = \"/g\"  # comment\n[storage.options]\n"
      "additionalimagestores = [\n  \"/extra1\",\n  \"/extra2\",\n]\n");
  ::setenv("CONTAINERS_STORAGE_CONF", (tmp / "storage.conf").c_str(), 1);
  ::setenv("STORAGE_OPTS", "overlay.mountopt=nodev,additionalimagestore=/extra3", 1);
  std::vector<std::string> stores = discover_stores(std::nullopt);
  std::vector<std::string> explicit_root = discover_stores("/mine");
  test::write_file(tmp / "bad.conf", "[storage\n");
  ::setenv("CONTAINERS_STORAGE_CONF", (tmp / "bad.conf").c_str(), 1);
  EXPECT_THROW(discover_stores(std::nullopt), Error);
  ::unsetenv("CONTAINERS_STORAGE_CONF");
  ::unsetenv("STORAGE_OPTS");
  if (::geteuid() == 0) {
    EXPECT_EQ(stores, (std::vector<std::string>{"/g", "/extra1", "/extra2", "/extra3"}));
  } else {
    EXPECT_EQ(stores.size(), 4U);
  }
  EXPECT_EQ(explicit_root[0], "/mine");
}

}  // namespace
}  // namespace cfs::oci::cstor
