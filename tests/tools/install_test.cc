// `cmake --install` puts everything under the prefix it is given (and under DESTDIR): nothing
// on the system outside it, and the files a user expects where GNUInstallDirs puts them.
#include <gtest/gtest.h>

#include <fstream>

#include "support/support.h"

namespace cfs {
namespace {

namespace fs = test::fs;
using test::run;

std::vector<std::string> files_under(const fs::path& root) {
  std::vector<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    if (!e.is_directory()) out.push_back(fs::relative(e.path(), root).string());
  }
  return out;
}

TEST(Install, StaysUnderThePrefix) {
  test::TempDir tmp;
  // With DESTDIR: every file is DESTDIR/PREFIX/…, an absolute destination would show beside it.
  fs::path dest = tmp / "dest";
  test::Run r = run({"cmake", "--install", CFS_BUILD_DIR, "--prefix", "/opt/cfs"}, "",
                    {"DESTDIR=" + dest.string()});
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  std::vector<std::string> files = files_under(dest);
  for (const std::string& f : files)
    EXPECT_TRUE(f.starts_with("opt/cfs/")) << f << " is outside the prefix";
  for (const char* f :
       {"bin/cfsctl", "bin/mkcomposefs", "bin/composefs-fuse", "sbin/mount.composefs",
        "sbin/composefs-setup-root", "share/bash-completion/completions/cfsctl",
        "share/zsh/vendor-completions/_cfsctl", "share/fish/vendor_completions.d/cfsctl.fish",
        "share/initramfs-tools/hooks/composefs",
        "lib/dracut/modules.d/37composefs/module-setup.sh"}) {
    EXPECT_TRUE(fs::exists(dest / "opt/cfs" / f)) << f;
  }
  // The completion script installed is the one cfsctl prints.
  EXPECT_EQ(test::read_file(dest / "opt/cfs/share/bash-completion/completions/cfsctl"),
            run({test::tool("cfsctl").string()}, "", {"COMPLETE=bash"}).out);

  // Without DESTDIR (only once the above held): the manifest names files under the prefix alone.
  fs::path prefix = tmp / "prefix";
  r = run({"cmake", "--install", CFS_BUILD_DIR, "--prefix", prefix.string()});
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  std::ifstream manifest(fs::path(CFS_BUILD_DIR) / "install_manifest.txt");
  std::size_t n = 0;
  for (std::string line; std::getline(manifest, line); ++n) {
    EXPECT_TRUE(line.starts_with(prefix.string() + "/")) << line;
  }
  EXPECT_EQ(n, files.size());
  EXPECT_EQ(files_under(prefix).size(), files.size());
}

}  // namespace
}  // namespace cfs
