#include "boot/pattern.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <cerrno>

#include "base/error.h"

namespace cfs::boot {
namespace {

// Why a pattern is not what Rust's regex-syntax would accept as the same regex as PCRE2.
enum class Verdict { kSame, kRustRejects, kDiffers };

struct Unsupported {
  std::string what;
};

bool is_ascii_alnum(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
bool is_ascii(char c) { return static_cast<unsigned char>(c) < 0x80; }

class Classifier {
 public:
  explicit Classifier(std::string_view r) : r_(r) {}

  Verdict run() {
    bool can_repeat = false;  // a quantifier may follow (Rust: not at the start, after '(' or '|')
    while (i_ < r_.size()) {
      char c = r_[i_];
      switch (c) {
        case '\\': {
          Verdict v = escape(false);
          if (v != Verdict::kSame) return v;
          can_repeat = true;
          break;
        }
        case '[': {
          Verdict v = char_class();
          if (v != Verdict::kSame) return v;
          can_repeat = true;
          break;
        }
        case '(': {
          Verdict v = group_open();
          if (v != Verdict::kSame) return v;
          ++depth_;
          can_repeat = false;
          break;
        }
        case ')':
          // Unbalanced, it would close the "^(" composefs-rs wraps around the pattern.
          if (--depth_ < 0) throw Unsupported{"an unbalanced ')'"};
          ++i_;
          can_repeat = true;
          break;
        case '|':
          ++i_;
          can_repeat = false;
          break;
        case '*':
        case '+':
        case '?':
        case '{': {
          std::size_t len = quantifier_length(i_);
          if (len == 0) return Verdict::kRustRejects;  // '{' that is not a counted repetition
          if (!can_repeat) return Verdict::kRustRejects;
          i_ += len;
          if (i_ < r_.size() && r_[i_] == '?') ++i_;  // lazy: the same in both
          if (i_ < r_.size() && (r_[i_] == '+' || quantifier_length(i_) != 0)) {
            throw Unsupported{
                "a quantifier after a quantifier (Rust nests it, PCRE2 reads it as possessive or "
                "refuses it)"};
          }
          can_repeat = false;
          break;
        }
        default:
          ++i_;
          can_repeat = true;
      }
    }
    return Verdict::kSame;
  }

 private:
  // Length of the quantifier at `at` ("*", "+", "?", "{n}", "{n,}", "{n,m}"), 0 if none.
  std::size_t quantifier_length(std::size_t at) const {
    if (at >= r_.size()) return 0;
    char c = r_[at];
    if (c == '*' || c == '+' || c == '?') return 1;
    if (c != '{') return 0;
    std::size_t j = at + 1, digits = 0;
    while (j < r_.size() && r_[j] >= '0' && r_[j] <= '9') ++j, ++digits;
    if (digits == 0) return 0;
    if (j < r_.size() && r_[j] == ',') {
      ++j;
      while (j < r_.size() && r_[j] >= '0' && r_[j] <= '9') ++j;
    }
    return j < r_.size() && r_[j] == '}' ? j + 1 - at : 0;
  }

  // An escape at i_ (a backslash), outside or inside a class.
  Verdict escape(bool in_class) {
    if (i_ + 1 >= r_.size()) return Verdict::kRustRejects;
    char e = r_[i_ + 1];
    i_ += 2;
    if (!is_ascii(e)) return Verdict::kRustRejects;
    if (e >= '0' && e <= '9') return Verdict::kRustRejects;  // back-reference or octal
    if (!is_ascii_alnum(e)) {
      if (e == '<' || e == '>') {
        if (in_class) return Verdict::kRustRejects;
        throw Unsupported{"\\< or \\> (a word boundary to Rust, a literal to PCRE2)"};
      }
      return Verdict::kSame;  // an escaped punctuation character: a literal in both
    }
    if (std::string_view("dDsSwWaftnrv").find(e) != std::string_view::npos) return Verdict::kSame;
    if (!in_class && std::string_view("bBAz").find(e) != std::string_view::npos)
      return Verdict::kSame;
    if (e == 'x') {
      if (i_ + 1 < r_.size() && is_hex(r_[i_]) && is_hex(r_[i_ + 1])) {
        i_ += 2;
        return Verdict::kSame;
      }
      if (i_ < r_.size() && r_[i_] == '{') {
        std::size_t close = r_.find('}', i_);
        if (close == std::string_view::npos || close == i_ + 1) return Verdict::kRustRejects;
        for (std::size_t k = i_ + 1; k < close; ++k) {
          if (!is_hex(r_[k])) return Verdict::kRustRejects;
        }
        i_ = close + 1;
        return Verdict::kSame;
      }
      return Verdict::kRustRejects;
    }
    if (e == 'u' || e == 'U')
      throw Unsupported{"\\u or \\U (a hex escape to Rust, refused by PCRE2)"};
    return Verdict::kRustRejects;  // \p \P \Q \E \Z \G \K \h \R \e \c \g \k ...
  }

  // A group opening at i_.
  Verdict group_open() {
    ++i_;
    if (i_ < r_.size() && r_[i_] == '*') return Verdict::kRustRejects;  // (*VERB)
    if (i_ >= r_.size() || r_[i_] != '?') return Verdict::kSame;
    ++i_;
    if (i_ >= r_.size()) return Verdict::kRustRejects;
    char c = r_[i_];
    if (c == '<' && i_ + 1 < r_.size() && (r_[i_ + 1] == '=' || r_[i_ + 1] == '!'))
      return Verdict::kRustRejects;
    if (c == '<' || (c == 'P' && i_ + 1 < r_.size() && r_[i_ + 1] == '<')) {  // a named group
      std::size_t close = r_.find('>', i_);
      if (close == std::string_view::npos) return Verdict::kRustRejects;
      i_ = close + 1;
      return Verdict::kSame;
    }
    // Flags "(?flags)" or "(?flags:".
    std::size_t j = i_;
    bool others = false;
    while (j < r_.size() && r_[j] != ':' && r_[j] != ')') {
      char f = r_[j];
      if (std::string_view("imsxUuR-").find(f) == std::string_view::npos)
        return Verdict::kRustRejects;
      if (f != 'i' && f != '-') others = true;
      ++j;
    }
    if (j >= r_.size()) return Verdict::kRustRejects;
    if (others)
      throw Unsupported{
          "the inline flags m, s, x, U, u or R (their meaning differs between Rust and PCRE2)"};
    i_ = j + 1;
    return Verdict::kSame;
  }

  // A bracket class at i_, by regex-syntax's grammar.
  Verdict char_class() {
    ++i_;
    if (i_ < r_.size() && r_[i_] == '^') ++i_;
    if (i_ < r_.size() && r_[i_] == ']') ++i_;  // a leading ']' is a literal
    bool prev_literal = false;  // the previous item was one character (a range may follow)
    while (true) {
      if (i_ >= r_.size()) return Verdict::kRustRejects;
      char c = r_[i_];
      if (c == ']') {
        ++i_;
        return Verdict::kSame;
      }
      if (c == '[') {
        if (i_ + 1 < r_.size() && r_[i_ + 1] == ':' && posix_class()) {
          prev_literal = false;
          continue;
        }
        Verdict nested = char_class();
        if (nested == Verdict::kSame)
          throw Unsupported{
              "'[' inside a character class (a nested class to Rust, a literal to PCRE2)"};
        return nested;
      }
      if ((c == '&' || c == '~' || (c == '-' && !prev_literal)) && i_ + 1 < r_.size() &&
          r_[i_ + 1] == c && !(c == '-' && i_ + 2 < r_.size() && r_[i_ + 2] == ']')) {
        throw Unsupported{"a class set operation &&, -- or ~~ (Rust only)"};
      }
      if (c == '-' && prev_literal && i_ + 1 < r_.size() && r_[i_ + 1] != ']') {  // a range
        ++i_;
        if (r_[i_] == '\\') {
          std::size_t at = i_;
          Verdict v = escape(true);
          if (v != Verdict::kSame) return v;
          if (i_ - at == 2 &&
              std::string_view("dDsSwW").find(r_[at + 1]) != std::string_view::npos) {
            return Verdict::kRustRejects;
          }
        } else {
          if (!is_ascii(r_[i_]) || r_[i_] == '[') return Verdict::kRustRejects;
          ++i_;
        }
        prev_literal = false;
        continue;
      }
      if (c == '\\') {
        std::size_t at = i_;
        Verdict v = escape(true);
        if (v != Verdict::kSame) return v;
        prev_literal = std::string_view("dDsSwW").find(r_[at + 1]) == std::string_view::npos;
        continue;
      }
      if (!is_ascii(c)) return Verdict::kRustRejects;
      ++i_;
      prev_literal = true;
    }
  }

  // "[:name:]" or "[:^name:]" at i_ with a name both know: consumed, true.
  bool posix_class() {
    std::size_t close = r_.find(":]", i_ + 2);
    if (close == std::string_view::npos) return false;
    std::string_view name = r_.substr(i_ + 2, close - i_ - 2);
    if (name.starts_with('^')) name.remove_prefix(1);
    static constexpr std::string_view kNames[] = {"alnum", "alpha", "ascii", "blank", "cntrl",
                                                  "digit", "graph", "lower", "print", "punct",
                                                  "space", "upper", "word",  "xdigit"};
    for (std::string_view n : kNames) {
      if (n == name) {
        i_ = close + 2;
        return true;
      }
    }
    return false;
  }

  std::string_view r_;
  std::size_t i_ = 0;
  int depth_ = 0;
};

// Literal bytes every match starts with; "" when unsure.
std::string stem_of(std::string_view r) {
  // A top-level '|' (outside groups and classes) makes any stem wrong.
  int depth = 0;
  for (std::size_t i = 0; i < r.size(); ++i) {
    char c = r[i];
    if (c == '\\') {
      ++i;
    } else if (c == '[') {
      std::size_t j = i + 1;
      if (j < r.size() && r[j] == '^') ++j;
      if (j < r.size() && r[j] == ']') ++j;
      while (j < r.size() && r[j] != ']') {
        if (r[j] == '\\')
          ++j;
        else if (r[j] == '[' && j + 1 < r.size() && r[j + 1] == ':') {
          std::size_t close = r.find(":]", j + 2);
          if (close == std::string_view::npos) return "";
          j = close + 1;
        } else if (r[j] == '[') {
          return "";
        }
        ++j;
      }
      if (j >= r.size()) return "";
      i = j;
    } else if (c == '(') {
      ++depth;
    } else if (c == ')') {
      if (--depth < 0) return "";
    } else if (c == '|' && depth == 0) {
      return "";
    }
  }
  std::string stem;
  for (std::size_t i = 0; i < r.size();) {
    char c = r[i];
    std::size_t width = 1;
    if (std::string_view("\\^$.|?*+()[]{}").find(c) != std::string_view::npos) {
      if (c != '\\' || i + 1 >= r.size() || !is_ascii(r[i + 1]) || is_ascii_alnum(r[i + 1])) break;
      c = r[i + 1];
      width = 2;
    }
    i += width;
    if (i < r.size() && (r[i] == '?' || r[i] == '*' || r[i] == '{'))
      break;  // optional: not in the stem
    stem += c;
    if (i < r.size() && r[i] == '+') break;
  }
  return stem;
}

}  // namespace

PatternPlan plan_pattern(std::string_view regex) {
  PatternPlan plan;
  try {
    plan.engine = Classifier(regex).run() == Verdict::kSame ? Engine::kDfa : Engine::kPcre;
  } catch (const Unsupported& u) {
    throw Error(EINVAL, "the pattern uses " + u.what +
                            "; composefs-rs's two regex engines disagree on it, "
                            "and it is not supported");
  }
  plan.stem = stem_of(regex);
  return plan;
}

std::string anchored(std::string_view regex, char type) {
  std::string out = "^(";
  out += regex;
  out += ')';
  out += type == 0 ? '.' : type;
  out += '$';
  return out;
}

std::uint32_t pcre2_options(Engine engine) {
  return engine == Engine::kDfa ? PCRE2_DOTALL | PCRE2_DOLLAR_ENDONLY : 0;
}

}  // namespace cfs::boot
