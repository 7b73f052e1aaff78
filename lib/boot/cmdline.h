// The composefs kernel arguments of composefs-rs 0.9 (crates/composefs-boot/src/cmdline.rs and
// composefs-setup-root; docs: /work/shared/spec/boot.md §3.3): which image a booted system
// mounts. The one place their spelling lives: cfsctl compute-karg formats them, the initramfs
// (composefs-setup-root) parses them. Layer: boot (pure: strings in, values out; no I/O).
//
//   composefs.digest=v1-sha256-12:<hex>   EROFS format 1 (or 0) image, SHA-256 fs-verity
//   composefs.digest=v1-sha512-12:<hex>   … SHA-512
//   composefs.digest=v2-sha512-12:<hex>   EROFS format 2 (parsed; composefs-rs never writes it)
//   composefs=<hex>                       EROFS format 2, the hash told by the length (64/128)
//
// A '?' right after '=' marks the image insecure: fs-verity is optional when mounting it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/digest.h"

namespace cfs::boot {

inline constexpr std::string_view kKargDigest = "composefs.digest";  // self-describing form
inline constexpr std::string_view kKargLegacy = "composefs";         // V2 shorthand
inline constexpr std::uint32_t kKargLgBlockSize = 12;  // the only one composefs-rs takes

struct Karg {
  std::uint32_t version = 1;  // EROFS format of the image: 1 (V0 images too) or 2
  Digest digest;
  bool insecure = false;
  friend bool operator==(const Karg&, const Karg&) = default;
};

// The karg composefs-rs gives an image of EROFS format `erofs_version` (0 and 1: the V1 form).
// Error(EINVAL) for another version.
Karg karg_for(std::uint32_t erofs_version, const Digest& digest, bool insecure);

// composefs.digest=[?]v1-<hash>-12:<hex> for version 1, composefs=[?]<hex> for version 2.
std::string format(const Karg& karg);

// The command line's arguments as the kernel splits it: at whitespace outside double quotes
// (no escapes; the quotes stay in the argument). Empty arguments are dropped.
std::vector<std::string_view> split_cmdline(std::string_view cmdline);

// The command line's composefs arguments (composefs.digest=… and composefs=…) as written, in
// order, unparsed: what composefs-setup-root names in its messages.
std::vector<std::string_view> composefs_arguments(std::string_view cmdline);

// One of those arguments parsed. Error(EINVAL) as parse_all; nullopt for any other argument.
std::optional<Karg> parse_argument(std::string_view argument);

// Every composefs karg, in command-line order: the images composefs-setup-root tries, first
// to last. Error(EINVAL) naming the argument for a malformed one (unknown version, hash or
// block size, no ':', hex of the wrong length or not hex).
std::vector<Karg> parse_all(std::string_view cmdline);

// The karg composefs-rs's ComposefsCmdline::from_cmdline picks for a repository of
// `algorithm`: the first composefs.digest= of that algorithm (others are skipped, but must be
// well-formed up to the ':'), else the first composefs=; nullopt when there is neither.
// Error(EINVAL) as parse_all.
std::optional<Karg> parse_for(std::string_view cmdline, HashAlgorithm algorithm);

}  // namespace cfs::boot
