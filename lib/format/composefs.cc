#include "format/composefs.h"

#include <algorithm>
#include <cstring>

#include "base/error.h"
#include "format/erofs.h"

namespace cfs::format {

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
  if (value.size() != kMetacopyDigestSize ||
      !std::equal(kMetacopyDigestHeader.begin(), kMetacopyDigestHeader.end(),
                  reinterpret_cast<const std::uint8_t*>(value.data()))) {
    throw_corrupt("bad metacopy xattr");
  }
  Digest d;
  std::memcpy(d.data(), value.data() + kMetacopyDigestHeader.size(), d.size());
  return d;
}

}  // namespace cfs::format
