// Lookups as composefs-rs 0.9 makes them (selabel.rs: "^(REGEX)T$" against path + type
// character, the last matching line wins; its DFA and its PCRE2 fallback).
#include "boot/matcher.h"

#include <gtest/gtest.h>

#include "base/error.h"
#include "boot/pattern.h"

namespace cfs::boot {
namespace {

struct Rule {
  std::string regex;
  char type;
  std::string context;
};

std::vector<Spec> specs_of(const std::vector<Rule>& rules) {
  std::vector<Spec> specs;
  for (const Rule& r : rules) specs.push_back({r.regex, r.type, r.context, "fc", specs.size() + 1});
  return specs;
}

struct Lookup {
  std::string path;
  char type;
  std::optional<std::string> context;  // nullopt: no line matches
};

void check(const std::vector<Rule>& rules, const std::vector<Lookup>& lookups,
           const std::string& what) {
  std::vector<Spec> specs = specs_of(rules);
  Matcher m(specs);
  for (const Lookup& l : lookups) {
    std::optional<std::size_t> i = m.lookup(l.path, l.type);
    std::optional<std::string> got =
        i ? std::optional<std::string>(specs[*i].context) : std::nullopt;
    EXPECT_EQ(got, l.context) << what << ": " << l.path << " " << l.type;
  }
}

// selabel.rs test matcher_strategies_agree: its rules and paths (all three strategies give
// the same answers, which are these).
TEST(Matcher, ComposefsRsStrategiesAgreeCase) {
  check({{"/", 0, "root_t"},
         {"/usr", 0, "usr_t"},
         {"/usr/bin(/.*)?", 0, "bin_t"},
         {"/etc(/.*)?", 0, "etc_t"},
         {"/var(/.*)?", 'd', "var_dir_t"},
         {"/var(/.*)?", '-', "var_file_t"},
         {"/tmp(/.*)?", 0, "<<none>>"}},
        {{"/", 'd', "root_t"},
         {"/usr", 'd', "usr_t"},
         {"/usr/bin", 'd', "bin_t"},
         {"/usr/bin/hello", '-', "bin_t"},
         {"/etc", 'd', "etc_t"},
         {"/etc/hostname", '-', "etc_t"},
         {"/var", 'd', "var_dir_t"},
         {"/var/log", 'd', "var_dir_t"},
         {"/var/spool/mail", '-', "var_file_t"},
         {"/tmp", 'd', "<<none>>"},
         {"/tmp/scratch", '-', "<<none>>"},
         {"/nonexistent", '-', std::nullopt}},
        "strategies_agree");
}

// selabel.rs test hybrid_lookaround_priority: lookaround lines (PCRE2 only) between DFA lines;
// the later line wins whichever engine runs it.
TEST(Matcher, ComposefsRsHybridLookaroundPriority) {
  check({{"/(.*)?", 0, "default_t"},
         {"/usr(.*)?", 0, "usr_t"},
         {"/usr/bin/(?!bad).*", 0, "bin_ok_t"},
         {"/usr/bin/good", 0, "bin_good_t"},
         {"/etc/(?!shadow).*", 0, "etc_public_t"},
         {"/etc/hostname", 0, "hostname_t"}},
        {{"/etc/hostname", '-', "hostname_t"},
         {"/etc/passwd", '-', "etc_public_t"},
         {"/etc/shadow", '-', "default_t"},
         {"/usr/bin/good", '-', "bin_good_t"},
         {"/usr/bin/hello", '-', "bin_ok_t"},
         {"/usr/bin/bad", '-', "usr_t"}},
        "hybrid_lookaround_priority");
}

TEST(Matcher, Rules) {
  struct Case {
    std::string what;
    std::vector<Rule> rules;
    std::vector<Lookup> lookups;
  };
  const Case cases[] = {
      {"the last matching line wins, not the most specific",
       {{"/opt/app(/.*)?", 0, "app_t"}, {"/opt(/.*)?", 0, "opt_t"}},
       {{"/opt/app/x", '-', "opt_t"}}},
      {"anchored at both ends: a pattern is the whole path",
       {{"/usr", 0, "usr_t"}, {"bin", 0, "bin_t"}},
       {{"/usr/x", '-', std::nullopt},
        {"/xusr", 'd', std::nullopt},
        {"/usr/bin", 'd', std::nullopt}}},
      {"a file type character matches only that type",
       {{"/dev/.*", 'c', "chr_t"},
        {"/dev/.*", 'b', "blk_t"},
        {"/dev/.*", 'p', "fifo_t"},
        {"/dev/.*", 's', "sock_t"},
        {"/dev/.*", 'l', "lnk_t"}},
       {{"/dev/a", 'c', "chr_t"},
        {"/dev/a", 'b', "blk_t"},
        {"/dev/a", 'p', "fifo_t"},
        {"/dev/a", 's', "sock_t"},
        {"/dev/a", 'l', "lnk_t"},
        {"/dev/a", '-', std::nullopt},
        {"/dev/a", 'd', std::nullopt}}},
      // regex-syntax with line_terminator(0): '.' matches '\n' in the DFA; PCRE2's default '.'
      // (the fallback, for a pattern with a lookahead) does not.
      {"'.' and newline: DFA patterns",
       {{"/n/.*", 0, "dot_t"}},
       {{"/n/a\nb", '-', "dot_t"}, {"/n/\n", '-', "dot_t"}}},
      {"'.' and newline: PCRE2 fallback patterns",
       {{"/n/(?=a).*", 0, "look_t"}},
       {{"/n/ab", '-', "look_t"}, {"/n/a\nb", '-', std::nullopt}}},
      {"'$' is the end of the text: never before the type character",
       {{"/d/a$", 0, "dollar_t"}},
       {{"/d/a", '-', std::nullopt}}},
      {"character classes, escapes and repetition",
       {{"/c/[^/]+\\.so(\\.[0-9]+)*", 0, "lib_t"},
        {"/c/[[:digit:]]{2,3}", 0, "num_t"},
        {"/c/\\d\\w\\s", 0, "esc_t"},
        {"/c/[]a]x", 0, "br_t"}},
       {{"/c/libz.so.1.2", '-', "lib_t"},
        {"/c/sub/libz.so", '-', std::nullopt},
        {"/c/12", '-', "num_t"},
        {"/c/1234", '-', std::nullopt},
        {"/c/1a ", '-', "esc_t"},
        {"/c/]x", '-', "br_t"}}},
      {"case-insensitive flag",
       {{"/i/(?i)readme", 0, "doc_t"}},
       {{"/i/README", '-', "doc_t"}, {"/I/readme", '-', std::nullopt}}},
      {"a top-level alternation has no common prefix",
       {{"/a|/b/c", 0, "alt_t"}},
       {{"/a", '-', "alt_t"}, {"/b/c", '-', "alt_t"}, {"/b", '-', std::nullopt}}},
      {"optional characters are not part of the prefix",
       {{"/usrx?/lib", 0, "l_t"}, {"/o*pt", 0, "o_t"}},
       {{"/usr/lib", '-', "l_t"}, {"/usrx/lib", '-', "l_t"}, {"/pt", '-', "o_t"}}},
      // composefs-rs's "^(" is group 1: the pattern's first group is \2, and \1 (the group it
      // is inside) never matches.
      {"back-references (PCRE2 fallback) count composefs-rs's own group",
       {{"/r/(a)\\2", 0, "ref_t"}, {"/s/(a)\\1", 0, "never_t"}},
       {{"/r/aa", '-', "ref_t"}, {"/r/ab", '-', std::nullopt}, {"/s/aa", '-', std::nullopt}}},
  };
  for (const Case& c : cases) check(c.rules, c.lookups, c.what);
}

TEST(Matcher, EngineChoice) {
  struct Case {
    std::string regex;
    Engine engine;
    std::string stem;
  };
  const Case cases[] = {
      {"/usr/lib(/.*)?", Engine::kDfa, "/usr/lib"},
      {"/usr/lib/ld\\.so", Engine::kDfa, "/usr/lib/ld.so"},
      {"/usr/(?!bad).*", Engine::kPcre, "/usr/"},
      {"/usr/(?<=x)y", Engine::kPcre, "/usr/"},
      {"/a(?>b)", Engine::kPcre, "/a"},
      {"/a\\Qb\\E", Engine::kPcre, "/a"},
      {"/a\\Z", Engine::kPcre, "/a"},
      {"/a{x", Engine::kPcre, "/"},  // not a counted repetition: Rust refuses, PCRE2 reads '{'
      {"/a{2}", Engine::kDfa, "/"},
      {"(?i)/a", Engine::kDfa, ""},
      {"/(?P<n>a)", Engine::kDfa, "/"},
      {"/a+b", Engine::kDfa, "/a"},
  };
  for (const Case& c : cases) {
    PatternPlan p = plan_pattern(c.regex);
    EXPECT_EQ(p.engine, c.engine) << c.regex;
    EXPECT_EQ(p.stem, c.stem) << c.regex;
  }
}

// Syntax the two composefs-rs engines read differently, which we refuse rather than guess.
TEST(Matcher, UnsupportedSyntaxIsRefusedWithFileAndLine) {
  for (std::string regex : {"/a[[b]]", "/a[a&&b]", "/a*+", "/a**", "/a\\<", "(?s)/a", "/a)(b"}) {
    try {
      Matcher m(specs_of({{"/ok", 0, "x"}, {regex, 0, "x"}}));
      ADD_FAILURE() << regex << " accepted";
    } catch (const Error& e) {
      EXPECT_TRUE(std::string(e.what()).starts_with("fc:2: the pattern uses ")) << e.what();
    }
  }
  try {
    Matcher m(specs_of({{"/a(b", 0, "x"}}));
    ADD_FAILURE() << "accepted";
  } catch (const Error& e) {
    EXPECT_TRUE(std::string(e.what()).starts_with("fc:1: invalid regular expression /a(b: "))
        << e.what();
  }
}

}  // namespace
}  // namespace cfs::boot
