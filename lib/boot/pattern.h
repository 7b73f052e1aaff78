// How composefs-rs 0.9 matches one file_contexts regular expression, and how we reproduce it
// with PCRE2. Layer: boot (pure).
//
// composefs-rs wraps each REGEX as "^(REGEX)T$" (T: the line's file type character, or '.'
// for any) and matches it against "<path><type character>". Patterns that Rust's regex-syntax
// parses (Unicode off, UTF-8 off, line terminator NUL) go into one lazy DFA, where '.' matches
// any byte but NUL (so also '\n') and '$' is the end of the text; the others (lookarounds,
// back-references, \Q…\E, possessive quantifiers...) go to PCRE2 with its defaults ('.' does
// not match '\n'). plan_pattern() tells the two apart, so each pattern is compiled with the
// options its composefs-rs engine implies.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace cfs::boot {

enum class Engine {
  kDfa,   // regex-syntax parses it: PCRE2 with DOTALL and DOLLAR_ENDONLY gives the same matches
  kPcre,  // composefs-rs's PCRE2 fallback: PCRE2's default options
};

struct PatternPlan {
  Engine engine = Engine::kDfa;
  // Bytes every matching key starts with (may be empty): the lookup's prefilter.
  std::string stem;
};

// Throws Error(EINVAL) when the pattern uses syntax that the two composefs-rs engines read
// differently and that we do not translate (a '[' inside a class, class set operations, \< \>,
// stacked or possessive quantifiers, the flags m s x U u R).
PatternPlan plan_pattern(std::string_view regex);

// "^(REGEX)T$", T = `type` or '.' when `type` is 0.
std::string anchored(std::string_view regex, char type);

// The PCRE2 compile options for `engine`.
std::uint32_t pcre2_options(Engine engine);

}  // namespace cfs::boot
