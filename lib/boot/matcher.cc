#include "boot/matcher.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <algorithm>
#include <cerrno>

#include "base/error.h"
#include "boot/pattern.h"

namespace cfs::boot {
namespace {

struct StemHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept {
    return std::hash<std::string_view>{}(s);
  }
};

std::string pcre2_message(int code) {
  PCRE2_UCHAR buf[256];
  int n = pcre2_get_error_message(code, buf, sizeof buf);
  return n < 0 ? "PCRE2 error " + std::to_string(code)
               : std::string(reinterpret_cast<char*>(buf), n);
}

}  // namespace

struct Matcher::Impl {
  std::size_t count = 0;
  std::vector<pcre2_code*> codes;  // by spec index
  // Stem -> spec indexes, highest (the winner when several match) first.
  std::unordered_map<std::string, std::vector<std::uint32_t>, StemHash, std::equal_to<>> by_stem;
  pcre2_match_data* match = nullptr;
  std::string key;
  std::vector<std::uint32_t> candidates;

  ~Impl() {
    for (pcre2_code* c : codes) pcre2_code_free(c);
    pcre2_match_data_free(match);
  }
};

Matcher::Matcher(const std::vector<Spec>& specs) : impl_(std::make_unique<Impl>()) {
  impl_->count = specs.size();
  impl_->codes.reserve(specs.size());
  for (std::size_t i = 0; i < specs.size(); ++i) {
    const Spec& s = specs[i];
    std::string where = s.file + ":" + std::to_string(s.line);
    PatternPlan plan = with_context(where, [&] { return plan_pattern(s.regex); });
    std::string pattern = anchored(s.regex, s.type);
    int err = 0;
    PCRE2_SIZE offset = 0;
    pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                     pcre2_options(plan.engine), &err, &offset, nullptr);
    if (code == nullptr) {
      throw Error(EINVAL,
                  where + ": invalid regular expression " + s.regex + ": " + pcre2_message(err));
    }
    pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);  // the interpreter when JIT is not available
    impl_->codes.push_back(code);
    impl_->by_stem[plan.stem].push_back(static_cast<std::uint32_t>(i));
  }
  for (auto& [stem, list] : impl_->by_stem) std::reverse(list.begin(), list.end());
  impl_->match = pcre2_match_data_create(1, nullptr);
  if (impl_->match == nullptr) throw Error(ENOMEM, "PCRE2 match data");
}

Matcher::~Matcher() = default;
Matcher::Matcher(Matcher&&) noexcept = default;
Matcher& Matcher::operator=(Matcher&&) noexcept = default;

std::optional<std::size_t> Matcher::lookup(std::string_view path, char type) {
  Impl& m = *impl_;
  m.key.assign(path);
  m.key += type;
  m.candidates.clear();
  for (std::size_t len = 0; len <= m.key.size(); ++len) {
    auto it = m.by_stem.find(std::string_view(m.key).substr(0, len));
    if (it != m.by_stem.end())
      m.candidates.insert(m.candidates.end(), it->second.begin(), it->second.end());
  }
  std::sort(m.candidates.begin(), m.candidates.end(), std::greater<>());
  for (std::uint32_t i : m.candidates) {
    int rc = pcre2_match(m.codes[i], reinterpret_cast<PCRE2_SPTR>(m.key.data()), m.key.size(), 0, 0,
                         m.match, nullptr);
    if (rc >= 0) return i;
    // Other errors (a match limit): no match, as composefs-rs's is_match(..).unwrap_or(false).
  }
  return std::nullopt;
}

}  // namespace cfs::boot
