// composefs-setup-root's arguments and the errors it gives before mounting anything (no root
// needed); the mounts are tests/integration/setup_root_test.cc.
#include <gtest/gtest.h>

#include "support/support.h"

namespace cfs {
namespace {

using test::run;

test::Run setup_root(std::vector<std::string> args) {
  args.insert(args.begin(), test::tool("composefs-setup-root").string());
  return run(args);
}

TEST(SetupRootArgs, HelpAndVersion) {
  test::Run help = setup_root({"--help"});
  EXPECT_EQ(help.status, 0);
  for (const char* option : {"--sysroot", "--config", "--cmdline", "--target", "--root-fs"}) {
    EXPECT_NE(help.out.find(option), std::string::npos) << option;
  }
  test::Run version = setup_root({"-V"});
  EXPECT_EQ(version.status, 0);
  EXPECT_TRUE(version.out.starts_with("composefs-setup-root composefs-cpp ")) << version.out;
}

TEST(SetupRootArgs, OneLineErrors) {
  test::TempDir tmp;
  std::string hex(128, 'c'), conf = (tmp / "conf.toml").string(), none = (tmp / "none").string();
  test::write_file(conf, "[var]\nmount = \"tmpfs\"\n");
  struct Case {
    std::vector<std::string> args;
    int status;
    std::string err;
  } cases[] = {
      {{"--bogus"}, 2, "invalid option '--bogus' (see --help)"},
      {{"--sysroot"}, 2, "invalid option '--sysroot' (see --help)"},
      {{"extra"}, 2, "unexpected argument 'extra' (see --help)"},
      {{"--config", none, "--cmdline", "quiet rw"},
       1,
       "no composefs argument on the kernel command line"},
      {{"--config", none, "--cmdline", "composefs.digest=v1-sha1-12:ab"},
       1,
       "malformed kernel argument: unknown hash 'sha1' (sha256 or sha512) "
       "(composefs.digest=v1-sha1-12:ab)"},
      {{"--config", conf, "--cmdline", "composefs=" + hex},
       1,
       conf +
           ":2:9: [var] mount: unknown value 'tmpfs' (expected none, bind, overlay or transient)"},
      {{"--config", none, "--sysroot", none, "--cmdline", "composefs=" + hex},
       1,
       "sysroot " + none + ": No such file or directory"},
  };
  for (const Case& c : cases) {
    test::Run r = setup_root(c.args);
    EXPECT_EQ(r.status, c.status) << c.args[0];
    EXPECT_EQ(r.err, "composefs-setup-root: " + c.err + "\n");
    EXPECT_EQ(r.out, "");
  }
}

}  // namespace
}  // namespace cfs
