// The policy's text files as composefs-rs 0.9 reads them (selabel.rs process_spec_file,
// process_subs_file, parse_config).
#include "boot/file_contexts.h"

#include <gtest/gtest.h>

#include "base/error.h"
#include "boot/test_image.h"

namespace cfs::boot {
namespace {

using test::error_of;

TEST(FileContexts, SpecLines) {
  struct Case {
    std::string text;
    std::string regex;
    char type;
    std::string context;
  };
  const Case cases[] = {
      {"/usr(/.*)?\t\tsystem_u:object_r:usr_t:s0\n", "/usr(/.*)?", 0, "system_u:object_r:usr_t:s0"},
      {"  /var/log(/.*)? -d system_u:object_r:var_log_dir_t:s0  \n", "/var/log(/.*)?", 'd',
       "system_u:object_r:var_log_dir_t:s0"},
      {"/var/log(/.*)? -- ctx\r\n", "/var/log(/.*)?", '-', "ctx"},  // "--": regular files; CRLF
      {"/tmp(/.*)?\t<<none>>", "/tmp(/.*)?", 0, "<<none>>"},        // no final newline
      // Fields split at any Unicode white space (Rust's split_whitespace): U+00A0 here.
      {"/a\xC2\xA0-l\xE2\x80\x83x", "/a", 'l', "x"},
  };
  for (const Case& c : cases) {
    std::vector<Spec> specs;
    parse_spec_file(c.text, "fc", specs);
    ASSERT_EQ(specs.size(), 1U) << c.text;
    EXPECT_EQ(specs[0].regex, c.regex) << c.text;
    EXPECT_EQ(specs[0].type, c.type) << c.text;
    EXPECT_EQ(specs[0].context, c.context) << c.text;
  }
}

TEST(FileContexts, CommentsAndBlankLinesAreSkippedLinesCountFromOne) {
  std::vector<Spec> specs;
  parse_spec_file("# a comment\n\n   \n  #indented comment\n/a x\n/b#c y\n", "fc", specs);
  ASSERT_EQ(specs.size(), 2U);
  EXPECT_EQ(specs[0].line, 5U);
  EXPECT_EQ(specs[1].regex, "/b#c");  // '#' only starts a comment as the first field's start
}

TEST(FileContexts, MalformedLinesNameTheFileAndLine) {
  struct Case {
    std::string text, error;
  };
  const Case cases[] = {
      {"/a\n", "/p/fc:1: no context after the regular expression"},
      {"/a x\n/b -q x\n", "/p/fc:2: invalid file type -q (one of -b -c -d -p -l -s --)"},
      {"/b -dd x\n", "/p/fc:1: invalid file type -dd (one of -b -c -d -p -l -s --)"},
      {"/b -d\n", "/p/fc:1: no context after the file type"},
      {"/b -d x y\n", "/p/fc:1: trailing data after the context"},
      {"/b x y\n", "/p/fc:1: trailing data after the context"},
      {"\n\n/b \xFF x\n", "/p/fc:3: not valid UTF-8"},
  };
  for (const Case& c : cases) {
    std::vector<Spec> specs;
    EXPECT_EQ(error_of([&] { parse_spec_file(c.text, "/p/fc", specs); }), c.error) << c.text;
  }
}

TEST(FileContexts, SubsFiles) {
  std::unordered_map<std::string, std::string> aliases;
  parse_subs_file("# c\n/srv/home /home\n/a /b\n/a /c\n", "subs", aliases);
  EXPECT_EQ(aliases.at("/srv/home"), "/home");
  EXPECT_EQ(aliases.at("/a"), "/c");  // the later line wins
  EXPECT_EQ(error_of([&] { parse_subs_file("/x\n", "subs", aliases); }),
            "subs:1: no original path after the alias");
  EXPECT_EQ(error_of([&] { parse_subs_file("/x /y /z\n", "subs", aliases); }),
            "subs:1: trailing data after the original path");
}

TEST(FileContexts, SelinuxType) {
  struct Case {
    std::string text;
    std::optional<std::string> type;
  };
  const Case cases[] = {
      {"SELINUX=enforcing\nSELINUXTYPE=targeted\n", "targeted"},
      {"# SELINUXTYPE=mls\n selinuxtype = mls \nSELINUXTYPE=targeted\n",
       "mls"},  // first, any case, trimmed
      {"SELINUX=disabled\n", std::nullopt},
      {"#SELINUXTYPE=x\n", std::nullopt},
      {"SELINUXTYPE=a=b\n", "a=b"},
      {"SELINUXTYPE=x\n\xFF\n", "x"},  // lines after it are not read
  };
  for (const Case& c : cases) EXPECT_EQ(parse_selinux_type(c.text, "config"), c.type) << c.text;
  EXPECT_EQ(error_of([] { parse_selinux_type("\xFF\nSELINUXTYPE=x\n", "config"); }),
            "config:1: not valid UTF-8");
}

}  // namespace
}  // namespace cfs::boot
