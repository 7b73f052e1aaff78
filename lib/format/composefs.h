// The composefs rules on top of EROFS + overlayfs, in one place for the writer, the reader,
// the dump parser, the directory scan and the FUSE server: the format's limits, the overlay
// xattrs (how an external file names its backing object and digest, how whiteouts are
// marked, how a tree's own trusted.overlay.* xattrs are escaped) and which stored values may
// be trusted. Layer: format (pure).
#pragma once

#include <sys/stat.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/digest.h"

namespace cfs::format {

// Limits (upstream's, which the kernel shares).
inline constexpr std::size_t kMaxNameLen = 255;          // a path component, an xattr name
inline constexpr std::size_t kMaxPathLen = 4095;         // symlink targets and payloads
inline constexpr std::size_t kMaxInlineContent = 5000;   // file bytes kept inside the image
inline constexpr std::size_t kMaxXattrValue = 65535;
inline constexpr std::uint64_t kRecommendedInline = 64;  // what mkcomposefs inlines

// Overlay xattrs composefs writes.
inline constexpr std::string_view kXattrOverlayPrefix = "trusted.overlay.";
inline constexpr std::string_view kXattrEscapedPrefix = "trusted.overlay.overlay.";
inline constexpr std::string_view kXattrRedirect = "trusted.overlay.redirect";
inline constexpr std::string_view kXattrMetacopy = "trusted.overlay.metacopy";
inline constexpr std::string_view kXattrOpaque = "trusted.overlay.opaque";  // the root: "y"
// A whiteout is stored as a regular file marked by these; its directory by the next four.
inline constexpr std::string_view kXattrWhiteout = "trusted.overlay.overlay.whiteout";
inline constexpr std::string_view kXattrUserWhiteout = "user.overlay.whiteout";
inline constexpr std::string_view kXattrWhiteouts = "trusted.overlay.overlay.whiteouts";
inline constexpr std::string_view kXattrUserWhiteouts = "user.overlay.whiteouts";
inline constexpr std::string_view kXattrWhiteoutOpaque = "trusted.overlay.overlay.opaque";  // v1
inline constexpr std::string_view kXattrUserWhiteoutOpaque = "user.overlay.opaque";         // v1

// An overlayfs whiteout: a character device 0/0.
inline bool is_whiteout(std::uint32_t mode, std::uint64_t rdev) {
  return (mode & S_IFMT) == S_IFCHR && (rdev & 0xFFFFFFFF) == 0;
}

// A whiteout's or its directory's marker, which readers drop (the writer derives them
// again). The opaque pair is not one: upstream's dumps show it, and the writer dedups it.
bool is_whiteout_marker(std::string_view name);

// A tree's own xattr as an image stores it: trusted.overlay.X becomes
// trusted.overlay.overlay.X (overlayfs would otherwise take it as its own); others unchanged.
bool needs_escape(std::string_view name);
// The tree xattr a stored one stands for: escaped names unescaped, other names as they are;
// nullopt for composefs' own overlay xattrs (redirect, metacopy, opaque, markers).
std::optional<std::string> unescaped_xattr_name(std::string_view stored);

// The payload a redirect value spells, as dumps show it: one leading '/' dropped (a lone "/"
// kept), cut at a NUL byte. For display; redirect_object() says whether it may be followed.
std::string_view redirect_payload(std::string_view redirect);

// The backing object a redirect names, relative to a basedir (the one leading '/' the writer
// puts there dropped). nullopt when it cannot name a file beneath a basedir: empty, a NUL
// byte, or a "." or ".." component. (Symlinks on the way are refused where it is opened.)
std::optional<std::string_view> redirect_object(std::string_view redirect);

// The digest a metacopy value records: nullopt for an empty value (no digest); Error(EUCLEAN)
// for a value that is neither empty nor a well-formed SHA-256 or SHA-512 digest record.
std::optional<Digest> metacopy_digest(std::string_view value);

}  // namespace cfs::format
