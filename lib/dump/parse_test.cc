#include "dump/parse.h"

#include <gtest/gtest.h>

#include "base/error.h"
#include "dump/print.h"

namespace cfs::dump {
namespace {

constexpr const char* kRoot = "/ 4096 40755 2 0 0 0 0.0 - - -\n";

std::string error_of(const std::string& text, bool strict = false) {
  try {
    parse(text, {.strict = strict});
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), EINVAL);
    return e.what();
  }
  return "";
}

// Parser refusals: every message, with the line that provokes it.
TEST(Parse, ValidationMessages) {
  struct Case {
    std::string text;
    const char* message;
    bool strict = false;
  } cases[] = {
      {"", "No files in dump file"},
      {"\n", "Invalid empty path"},
      {std::string(kRoot) + "/a" + std::string(1, '\0') + "b 0 100644 1 0 0 0 0.0 - - -\n",
       "Invalid embedded NUL character at position 2"},
      {"/x 0 100644 1 0 0 0 0.0 - - -\n", "Root node not present"},
      {"/ 0 100644 1 0 0 0 0.0 - - -\n", "Root must be a directory"},
      {std::string(kRoot) + kRoot, "Can't have multiple roots"},
      {std::string(kRoot) + "/a/b 0 100644 1 0 0 0 0.0 - - -\n", "Parent directory missing for /a/b"},
      {std::string(kRoot) + "/f 0 100644 1 0 0 0 0.0 - - -\n/f/b 0 100644 1 0 0 0 0.0 - - -\n",
       "Parent must be a directory for /f/b"},
      {std::string(kRoot) + "/.. 0 40755 1 0 0 0 0.0 - - -\n", "Invalid . or .. in path: /.."},
      {std::string(kRoot) + "// 0 40755 1 0 0 0 0.0 - - -\n", "Can't add child"},
      {std::string(kRoot) + "/" + std::string(256, 'n') + " 0 100644 1 0 0 0 0.0 - - -\n", "Can't add child"},
      {std::string(kRoot) + "/a 0 100644 1 0 0 0 0.0 - - -\n/a 0 100644 1 0 0 0 0.0 - - -\n", "Can't add child"},
      {std::string(kRoot) + "/a x 100644 1 0 0 0 0.0 - - -\n", "Invalid integer x"},
      {std::string(kRoot) + "/a 0 100644 1 0 zz 0 0.0 - - -\n", "Invalid integer zz"},
      {std::string(kRoot) + "/a 0 100644 1 7 zz 0 0.0 - - -\n", ""},  // upstream's GID quirk
      {std::string(kRoot) + "/a 0 100644 1 0 0 0 0 - - -\n", "Invalid integer "},
      {std::string(kRoot) + "/a 0 100644 1 0 0 0 12x.5 - - -\n", "Invalid integer 12x"},
      {std::string(kRoot) + "/a 0 100644 1 0 0 0 1.2.3 - - -\n", "Invalid integer 2.3"},
      {std::string(kRoot) + "/a 0 0 1 0 0 0 0.0 - - -\n", "Invalid mode 0"},
      {std::string(kRoot) + "/a 0  100644 1 0 0 0 0.0 - - -\n", "Invalid mode 0"},  // as upstream
      {std::string(kRoot) + "/a 0 @ 1 0 0 0 0.0 / - -\n", "Invalid mode 0"},
      {"/\\x00 0 100644 1 0 0 0 0.0 - - -\n", "Root must be a directory"},  // the path ends at NUL
      {std::string(kRoot) + "/a 0 @100644 1 0 0 0 0.0 /b - -\n/b 0 @100644 1 0 0 0 0.0 /a - -\n", "Hardlink loop at /a"},
      {std::string(kRoot) + "/a 0 @40755 1 0 0 0 0.0 / - -\n", "Directories can't be hardlinked"},
      {std::string(kRoot) + "/a 3 100644 1 0 0 0 0.0 - ab -\n", "Invalid content size 2, must match size 3"},
      {std::string(kRoot) + "/a 0 120777 1 0 0 0 0.0 - - -\n", "Invalid symlink"},
      {std::string(kRoot) + "/a 0 120777 1 0 0 0 0.0 \\x00abc - -\n", "Invalid symlink"},
      {std::string(kRoot) + "/a 5 120777 1 0 0 0 0.0 abc - -\n", "Invalid symlink size 3, must match size 5", true},
      {std::string(kRoot) + "/a 3 120777 1 0 0 0 0.0 abc x -\n", "Invalid content size 1, must match size 3", true},
      {std::string(kRoot) + "/a 0 100644 1 0 0 9 0.0 - - -\n", "Non-zero devnum on non-device", true},
      {std::string(kRoot) + "/a 9 100644 1 0 0 0 0.0 " + std::string(4096, 'p') + " - -\n", "Invalid payload"},
      {std::string(kRoot) + "/a 0 100644 1 0 0 0 0.0 - - - x\n", "Missing = in xattr"},
      {std::string(kRoot) + "/a 0 100644 1 0 0 0 0.0 - - - a=1  b=2\n", "Missing = in xattr"},
      {std::string(kRoot) + "/a 0 100644 1 0 0 0 0.0 - - - =v\n", "Can't set xattr"},
      {std::string(kRoot) + "/a 0 100644 1 0 0 0 0.0 - - - user." + std::string(251, 'k') + "=v\n", "Can't set xattr"},
      {std::string(kRoot) + "/a 0 100644 1 0 0 0 0.0 - - - user.a=" + std::string(65536, 'v') + "\n", "Too many xattrs"},
      {std::string(kRoot) + "/a 0 @100644 1 0 0 0 0.0 - - -\n", "No target path for the hardlink"},
      {std::string(kRoot) + "/a 0 @100644 1 0 0 0 0.0 /nope - -\n", "No target at /nope for hardlink"},
      {std::string(kRoot) + "/a 0 @100644 1 0 0 0 0.0 /a - -\n", "Self-referential hardlink /a"},
      {std::string(kRoot) + "/a 9 100644 1 0 0 0 0.0 - - 12zz\n", "Invalid digest"},
      {std::string(kRoot) + "/a 9 100644 1 0 0 0 0.0 - - \n", "Invalid digest"},
      {std::string(kRoot) + "/a 0 100644 1 0 0 0 0.0 - - -", "Missing trailing newline", true},
      {std::string(kRoot) + "/a 0 100644 1 0 0 0 0.0 \\q - -\n", "Unsupported escape type q"},
      {std::string(kRoot) + "/a 0 100644 1 0 0 0 0.0 \\ - -\n", "No character after escape"},
      {std::string(kRoot) + "/a 0 100644 1 0 0 0 0.0 \\x4 - -\n", "No hex characters after hex escape"},
      {std::string(kRoot) + "/a 0 100644 1 0 0 0 0.0 \\x4g - -\n", "Invalid hex characters after hex escape"},
  };
  for (const auto& c : cases) EXPECT_EQ(error_of(c.text, c.strict), c.message) << c.text.substr(0, 120);
}

// Hard-link chains (each line naming the previous one) resolve in linear time: every alias
// points straight at the inode, and the image equals that of the same links made directly.
TEST(Parse, HardLinkChainsAreFlattened) {
  std::string chain = std::string(kRoot) + "/f0 5 100644 60000 0 0 0 0.0 - hello -\n";
  std::string star = chain;
  for (int i = 1; i < 60000; ++i) {
    chain += "/f" + std::to_string(i) + " 0 @100644 1 0 0 0 0.0 /f" + std::to_string(i - 1) + " - -\n";
    star += "/f" + std::to_string(i) + " 0 @100644 1 0 0 0 0.0 /f0 - -\n";
  }
  tree::Tree tree = parse(chain);
  const tree::Node* f0 = tree.root()->find_child("f0");
  int aliases = 0;
  for (const tree::Node* c : tree.root()->children) {
    if (!c->is_alias()) continue;
    ++aliases;
    EXPECT_EQ(c->link, f0) << c->name;
  }
  EXPECT_EQ(aliases, 59999);
  EXPECT_EQ(print_to_string(tree), print_to_string(parse(star)));
}

TEST(Parse, FieldSemantics) {
  auto tree = parse(std::string(kRoot) +
                    "/a 1 100644 4294967297 -1 0 0 99999999999999999999.4294967296 - x -\n"
                    "x\\x20y 0 100644 1 0 0 0 0.0 - - - user.k\\x3d=v=w\n"
                    "/l 0 120777 1 0 0 0 0.0 t\\x00rest - -\n"
                    "/h 0 @100644 1 0 0 0 0.0  - -\n/h2 0 @100644 1 0 0 0 0.0 /a/ - -\n"
                    "/short 0 100644 1 0 0 0 0.0\n");
  const tree::Node* a = tree.root()->find_child("a");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->nlink, 1u);                 // truncated to 32 bits
  EXPECT_EQ(a->uid, 0xFFFFFFFFu);          // -1 wraps
  EXPECT_EQ(a->mtime_sec, -1);             // saturated, read as signed
  EXPECT_EQ(a->mtime_nsec, 0u);            // truncated to 32 bits
  EXPECT_EQ(a->content, "x");
  const tree::Node* xy = tree.root()->find_child("x y");
  ASSERT_NE(xy, nullptr);
  ASSERT_EQ(xy->xattrs.size(), 1u);
  EXPECT_EQ(xy->xattrs[0].name, "user.k=");
  EXPECT_EQ(xy->xattrs[0].value, "v=w");
  EXPECT_EQ(tree.root()->find_child("l")->payload, "t");
  EXPECT_EQ(tree.root()->find_child("l")->size, 1u);
  EXPECT_EQ(tree.root()->find_child("h")->link, tree.root());  // empty target: the root
  EXPECT_EQ(tree.root()->find_child("h2")->link, a);
  EXPECT_NE(tree.root()->find_child("short"), nullptr);
}

TEST(Parse, RepeatedXattrReplacesAndRefundsBudget) {
  std::string big(17000, 'v');
  auto tree = parse(std::string(kRoot) + "/a 0 100644 1 0 0 0 0.0 - - - user.k=" + big +
                    " user.k=" + big + " user.k=small\n");
  const auto& x = tree.root()->find_child("a")->xattrs;
  ASSERT_EQ(x.size(), 1u);
  EXPECT_EQ(x[0].value, "small");
  EXPECT_EQ(error_of(std::string(kRoot) + "/a 0 100644 1 0 0 0 0.0 - - - user.k=" + big +
                     " user.j=" + big + "\n"),
            "Can't set xattr");
}

// Parents are found whatever the order of the lines and however their paths are spelled.
TEST(Parse, ParentsInAnyOrderAndSpelling) {
  const char* dir = " 4096 40755 2 0 0 0 0.0 - - -\n";
  const char* file = " 0 100644 1 0 0 0 0.0 - - -\n";
  std::string text = std::string(kRoot) + "/a" + dir + "/a/b" + dir + "/a/b/c" + dir + "/a/b/c/f1" + file +
                     "/x" + dir + "/a/b/f2" + file + "//a///b/c//f3" + file + "/x/f4" + file +
                     "/a/bb" + dir + "/a/bb/f5" + file + "/a/b/c/f6" + file + "a/f7" + file;
  EXPECT_EQ(print_to_string(parse(text)),
            std::string("/") + dir + "/a" + dir + "/a/b" + dir + "/a/b/c" + dir + "/a/b/c/f1" + file +
                "/a/b/c/f3" + file + "/a/b/c/f6" + file + "/a/b/f2" + file + "/a/bb" + dir +
                "/a/bb/f5" + file + "/a/f7" + file + "/x" + dir + "/x/f4" + file);
  EXPECT_EQ(error_of(std::string(kRoot) + "/a" + dir + "/a/f" + file + "/a/f/g" + file),
            "Parent must be a directory for /a/f/g");
  EXPECT_EQ(error_of(std::string(kRoot) + "/a" + dir + "/a/b" + dir + "/a/c/d" + file),
            "Parent directory missing for /a/c/d");
}

// StreamParser gives parse()'s tree, and its errors, wherever the text is split.
TEST(Parse, PiecesSplitAnywhereGiveTheSameTree) {
  const std::string text = std::string(kRoot) +
                           "/d 4096 40755 2 0 0 0 1.5 - - - user.a=\\x01 trusted.b=c\n"
                           "/d/f 3 100644 2 5 6 0 2.0 ab/cdef - 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n"
                           "/h 3 @100644 2 5 6 0 2.0 /d/f - -\n"
                           "/s 1 120777 1 0 0 0 0.0 x - -\n"
                           "/i 2 100644 1 0 0 0 0.0 - hi -";  // no trailing newline
  const std::string expected = print_to_string(parse(text));
  for (std::size_t cut = 0; cut <= text.size(); ++cut) {
    StreamParser p;
    p.feed(std::string_view(text).substr(0, cut));
    p.feed("");
    p.feed(std::string_view(text).substr(cut));
    EXPECT_EQ(print_to_string(p.finish()), expected) << "cut at " << cut;
  }
  StreamParser bytewise;
  for (char c : text) bytewise.feed(std::string_view(&c, 1));
  EXPECT_EQ(print_to_string(bytewise.finish()), expected);

  auto stream_error = [](std::initializer_list<std::string_view> pieces, bool strict) {
    try {
      StreamParser p({.strict = strict});
      for (auto piece : pieces) p.feed(piece);
      p.finish();
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_EQ(stream_error({}, false), "No files in dump file");
  EXPECT_EQ(stream_error({"", ""}, false), "No files in dump file");
  EXPECT_EQ(stream_error({text.substr(0, 20), text.substr(20)}, true), "Missing trailing newline");
  EXPECT_EQ(stream_error({"/ 4096 40755 2 0 0 0 0.0 - - -\n/a 0 100", "644 1 0 0 0 0.0 - - -\n/a 0 1",
                          "00644 1 0 0 0 0.0 - - -\n"}, false),
            "Can't add child");
}

}  // namespace
}  // namespace cfs::dump
