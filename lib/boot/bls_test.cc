// BLS Type 1 entry files as composefs-rs edits them (its bootloader.rs tests, and where we
// differ: whole keys when replacing an argument).
#include "boot/bls.h"

#include <gtest/gtest.h>

namespace cfs::boot {
namespace {

TEST(Bls, ParsesLinesAndValues) {
  EntryFile e =
      EntryFile::parse("title Test Entry\nversion\t\t1.0\ninitrd /a\ninitrd /b\ntitleX y\nlinux\n");
  EXPECT_EQ(e.lines().size(), 6u);
  EXPECT_EQ(e.value("title"), "Test Entry");
  EXPECT_EQ(e.value("version"), "1.0");
  EXPECT_EQ(e.values("initrd"), (std::vector<std::string_view>{"/a", "/b"}));
  EXPECT_EQ(e.value("linux"), std::nullopt) << "a key needs whitespace after it";
  EXPECT_EQ(e.value("options"), std::nullopt);
  EXPECT_EQ(EntryFile::parse("").lines().size(), 0u);
  EXPECT_EQ(EntryFile::parse("a b").text(), "a b\n");
  EXPECT_EQ(EntryFile::parse("a b\n\nc d\n").text(), "a b\n\nc d\n");
}

TEST(Bls, AddsKernelArguments) {
  struct Case {
    std::string entry;
    std::vector<std::string> args;
    std::string options;
  } cases[] = {
      {"title T\nlinux /v\n",
       {"composefs=abc", "quiet", "splash"},
       "options composefs=abc quiet splash"},
      {"options splash\n", {"quiet"}, "options splash quiet"},
      {"options quiet splash root=/dev/sda1\n",
       {"root=/dev/sda2"},
       "options quiet splash root=/dev/sda2"},
      {"options quiet rw splash\n", {"rw"}, "options quiet rw splash"},
      {"options quiet composefs=old\n", {"composefs=?new"}, "options quiet composefs=?new"},
      {"options a \"x y\" root=/dev/sda1\n",
       {"ro"},
       "options a \"x y\" root=/dev/sda1 ro"},  // not "root="
      {"options composefs.digest=v1-x\n",
       {"composefs=abc"},
       "options composefs.digest=v1-x composefs=abc"},
  };
  for (const Case& c : cases) {
    EntryFile e = EntryFile::parse(c.entry);
    for (const std::string& a : c.args) e.add_cmdline(a);
    EXPECT_EQ(e.lines().back(), c.options) << c.entry;
  }
  // Only the first options line changes.
  EntryFile two = EntryFile::parse("options a\noptions b\n");
  two.add_cmdline("c");
  EXPECT_EQ(two.text(), "options a c\noptions b\n");
}

TEST(Bls, SetsValues) {
  EntryFile e = EntryFile::parse("linux   /boot/vmlinuz\n");
  e.set_value(0, "linux", "/id/vmlinuz");
  EXPECT_EQ(e.text(), "linux   /id/vmlinuz\n");
}

}  // namespace
}  // namespace cfs::boot
