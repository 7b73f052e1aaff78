#include "format/composefs.h"

#include <algorithm>
#include <cstring>

#include "base/error.h"
#include "format/erofs.h"

namespace cfs::format {

bool is_whiteout_marker(std::string_view name) {
  return name == kXattrWhiteout || name == kXattrUserWhiteout || name == kXattrWhiteouts ||
         name == kXattrUserWhiteouts;
}

bool needs_escape(std::string_view name) { return name.starts_with(kXattrOverlayPrefix); }

std::optional<std::string> unescaped_xattr_name(std::string_view stored) {
  if (stored.starts_with(kXattrEscapedPrefix)) {
    return std::string(kXattrOverlayPrefix) + std::string(stored.substr(kXattrEscapedPrefix.size()));
  }
  if (stored.starts_with(kXattrOverlayPrefix)) return std::nullopt;
  return std::string(stored);
}

std::string_view redirect_payload(std::string_view redirect) {
  if (redirect.size() > 1 && redirect[0] == '/') redirect.remove_prefix(1);
  return redirect.substr(0, redirect.find('\0'));
}

std::optional<std::string_view> redirect_object(std::string_view redirect) {
  if (redirect.starts_with('/')) redirect.remove_prefix(1);
  if (redirect.empty() || redirect.find('\0') != std::string_view::npos) return std::nullopt;
  for (std::size_t pos = 0; pos <= redirect.size();) {
    std::size_t slash = std::min(redirect.find('/', pos), redirect.size());
    std::string_view part = redirect.substr(pos, slash - pos);
    if (part == "." || part == "..") return std::nullopt;
    pos = slash + 1;
  }
  return redirect;
}

std::optional<Digest> metacopy_digest(std::string_view value) {
  if (value.empty()) return std::nullopt;
  auto is = [&](const auto& header, std::size_t size) {
    return value.size() == size &&
           std::equal(header.begin(), header.end(), reinterpret_cast<const std::uint8_t*>(value.data()));
  };
  Digest d;
  if (is(kMetacopySha512Header, kMetacopySha512Size)) {
    d = Digest(HashAlgorithm::kSha512);
  } else if (!is(kMetacopyDigestHeader, kMetacopyDigestSize)) {
    throw_corrupt("bad metacopy xattr");
  }
  std::memcpy(d.data(), value.data() + kMetacopyDigestHeader.size(), d.size());
  return d;
}

}  // namespace cfs::format
