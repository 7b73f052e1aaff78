// mkcomposefs SOURCEDIR: the generated trees of ../shared/vectors give upstream's image digest
// and exactly upstream's store contents. gen_tree.py makes devices and chowns: needs root.
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
  CFS_REQUIRE(::geteuid() == 0, "gen_tree.py needs root (mknod, chown, trusted.* xattrs)");
  CFS_REQUIRE_VECTORS(dir);
  std::istringstream lines(test::read_file(dir / "generated" / "trees.sha256"));
  int trees = 0;
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream f(line);
    std::string seed, scale, sha;
    f >> seed >> scale >> sha;
    test::TempDir tmp;
    auto src = tmp / "tree";
    auto r = test::run({"python3", (dir / "generated" / "gen_tree.py").string(), seed, src.string(), scale});
    ASSERT_EQ(r.status, 0) << r.err;
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
      std::istringstream objs(test::read_file(dir / "generated" / ("tree-" + seed + ".objects")));
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
