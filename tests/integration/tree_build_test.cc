// mkcomposefs SOURCEDIR: the generated trees of ../shared/vectors give upstream's image digest
// and exactly upstream's store contents. The trees hold devices and owners: needs root.
#include <gtest/gtest.h>
#include <unistd.h>

#include <set>
#include <sstream>

#include "support/support.h"

namespace cfs {
namespace {

std::set<std::string> files_below(const test::fs::path& dir) {
  std::set<std::string> out;
  for (const auto& e : test::fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) out.insert(test::fs::relative(e.path(), dir).string());
  }
  return out;
}

TEST(TreeBuild, GeneratedTreesMatchUpstream) {
  CFS_REQUIRE(::geteuid() == 0, "extracting the trees needs root (devices, owners, trusted.* xattrs)");
  auto vectors = test::repo_vectors() / "trees";
  int trees = 0;
  for (const auto& [seed, want_fields] : test::expected(vectors / "expected.sha256")) {
    const std::string& sha = want_fields.at(1);
    test::TempDir tmp;
    auto src = tmp / "tree";
    ASSERT_EQ(test::extract_tree(seed, src), "");
    test::Run r;
    // The third run reads xattrs the way kernels before 6.13 allow (no listxattrat).
    for (std::string threads : {"--threads=1", "--threads=2", "--threads=3"}) {
      auto store = tmp / ("store" + threads);
      auto img = tmp / ("img" + threads);
      std::vector<std::string> argv = {test::tool("mkcomposefs"), threads, "--digest-store=" + store.string(),
                                       src.string(), img.string()};
      if (threads == "--threads=3") argv.insert(argv.begin(), CFS_TEST_BIN_DIR "/without_xattrat");
      r = test::run(argv);
      ASSERT_EQ(r.status, 0) << r.err;
      EXPECT_EQ(test::sha256_hex(test::read_file(img)), sha) << "seed " << seed << " " << threads;
      std::set<std::string> want;
      std::istringstream objs(test::read_file(vectors / (seed + ".objects")));
      for (std::string o; std::getline(objs, o);) want.insert(o);
      EXPECT_EQ(files_below(store), want) << "seed " << seed;
      // Objects hold the content their names promise (a sample, to keep the run short).
      if (threads != "--threads=2") continue;
      auto measured = test::run({test::tool("composefs-info"), "objects", img.string()});
      std::istringstream names(measured.out);
      int n = 0;
      for (std::string o; std::getline(names, o);) {
        if (n++ % 16 != 0) continue;
        auto m = test::run({test::tool("composefs-info"), "measure-file", (store / o).string()});
        EXPECT_EQ(m.out, o.substr(0, 2) + o.substr(3) + "\n") << o;
        if (::testing::Test::HasFailure()) break;
      }
    }
    ++trees;
  }
  EXPECT_EQ(trees, 3);
}

}  // namespace
}  // namespace cfs
