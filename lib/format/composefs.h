// The composefs rules on top of EROFS + overlayfs that every layer shares: how an external
// file names its backing object (trusted.overlay.redirect) and its digest
// (trusted.overlay.metacopy), and which of those values may be trusted. Layer: format (pure).
#pragma once

#include <optional>
#include <string_view>

#include "base/digest.h"

namespace cfs::format {

inline constexpr std::string_view kXattrRedirect = "trusted.overlay.redirect";
inline constexpr std::string_view kXattrMetacopy = "trusted.overlay.metacopy";

// The backing object a redirect names, relative to a basedir (the one leading '/' the writer
// puts there dropped). nullopt when it cannot name a file beneath a basedir: empty, a NUL
// byte, or a "." or ".." component. (Symlinks on the way are refused where it is opened.)
std::optional<std::string_view> redirect_object(std::string_view redirect);

// The digest a metacopy value records: nullopt for an empty value (no digest); Error(EUCLEAN)
// for a value that is neither empty nor a well-formed SHA-256 digest record.
std::optional<Digest> metacopy_digest(std::string_view value);

}  // namespace cfs::format
