#include "boot/cmdline.h"

#include <cerrno>

#include "base/error.h"

namespace cfs::boot {
namespace {

const std::string kDigestPrefix = std::string(kKargDigest) + "=";
const std::string kLegacyPrefix = std::string(kKargLegacy) + "=";

struct Descriptor {
  std::uint32_t version;
  HashAlgorithm algorithm;
};

[[noreturn]] void malformed(const std::string& what) { throw Error(EINVAL, what); }

std::string algorithm_name(HashAlgorithm a) {
  return "fsverity-" + std::string(hash_name(a)) + "-" + std::to_string(kKargLgBlockSize);
}

// "v1-sha256-12" -> version and algorithm.
Descriptor parse_descriptor(std::string_view d) {
  std::size_t dash = d.find('-');
  if (dash == std::string_view::npos) {
    malformed("expected 'v<N>-<hash>-<blocksize>', got: " + std::string(d));
  }
  std::string_view version = d.substr(0, dash), rest = d.substr(dash + 1);
  Descriptor out{};
  if (version == "v1") {
    out.version = 1;
  } else if (version == "v2") {
    out.version = 2;
  } else {
    malformed("unsupported format version '" + std::string(version) + "' (v1 or v2)");
  }
  std::size_t last = rest.rfind('-');
  if (last == std::string_view::npos)
    malformed("no '-' between hash and block size in '" + std::string(rest) + "'");
  std::string_view hash = rest.substr(0, last), lg = rest.substr(last + 1);
  std::string_view digits = lg.starts_with('+') ? lg.substr(1) : lg;  // as Rust's u8 parser
  unsigned value = 0;
  bool number = !digits.empty();
  for (char c : digits) {
    number = number && c >= '0' && c <= '9' && (value = value * 10 + unsigned(c - '0')) <= 255;
  }
  if (!number) malformed("invalid block size '" + std::string(lg) + "'");
  if (value != kKargLgBlockSize) {
    malformed("unsupported block size 2^" + std::to_string(value) + " (only 2^" +
              std::to_string(kKargLgBlockSize) + ")");
  }
  if (hash == "sha256") {
    out.algorithm = HashAlgorithm::kSha256;
  } else if (hash == "sha512") {
    out.algorithm = HashAlgorithm::kSha512;
  } else {
    malformed("unknown hash '" + std::string(hash) + "' (sha256 or sha512)");
  }
  return out;
}

// "v1-sha256-12:<hex>" -> descriptor and the hex, unchecked.
std::pair<Descriptor, std::string_view> split_value(std::string_view value) {
  std::size_t colon = value.find(':');
  if (colon == std::string_view::npos) {
    malformed("expected '<version>-<hash>-<blocksize>:<hex>', got: " + std::string(value));
  }
  return {parse_descriptor(value.substr(0, colon)), value.substr(colon + 1)};
}

Digest digest_of(std::string_view hex, HashAlgorithm a, std::string_view key) {
  std::optional<Digest> d = parse_hex_digest(hex, a);
  if (!d) {
    malformed("parsing " + std::string(key) + "= hash: " + std::to_string(hex.size()) +
              " characters, expected " + std::to_string(2 * digest_size(a)) + " hex digits for " +
              algorithm_name(a));
  }
  return *d;
}

// The value after '=', without its '?' (and whether there was one).
std::pair<std::string_view, bool> strip_insecure(std::string_view value) {
  if (value.starts_with('?')) return {value.substr(1), true};
  return {value, false};
}

// A composefs.digest= value; `only`: skip (nullopt) another algorithm's before its hex is read.
std::optional<Karg> parse_digest_karg(std::string_view value, std::optional<HashAlgorithm> only) {
  return with_context(
      "parsing " + kDigestPrefix + " value: " + std::string(value), [&]() -> std::optional<Karg> {
        auto [rest, insecure] = strip_insecure(value);
        auto [desc, hex] = split_value(rest);
        if (only && desc.algorithm != *only) return std::nullopt;
        return Karg{desc.version, digest_of(hex, desc.algorithm, kKargDigest), insecure};
      });
}

// A composefs= value; the hash from `only`, else from the length.
Karg parse_legacy_karg(std::string_view value, std::optional<HashAlgorithm> only) {
  return with_context("parsing " + kLegacyPrefix + " value: " + std::string(value), [&] {
    auto [hex, insecure] = strip_insecure(value);
    HashAlgorithm a =
        only.value_or(hex.size() == 128 ? HashAlgorithm::kSha512 : HashAlgorithm::kSha256);
    if (!only && hex.size() != 64 && hex.size() != 128) {
      malformed("a digest of " + std::to_string(hex.size()) +
                " characters (64 for sha256, 128 for sha512)");
    }
    return Karg{2, digest_of(hex, a, kKargLegacy), insecure};
  });
}

}  // namespace

Karg karg_for(std::uint32_t erofs_version, const Digest& digest, bool insecure) {
  if (erofs_version > 2)
    throw Error(EINVAL, "EROFS format version " + std::to_string(erofs_version) +
                            " has no kernel argument");
  return Karg{erofs_version == 2 ? 2u : 1u, digest, insecure};
}

std::string format(const Karg& karg) {
  std::string mark = karg.insecure ? "?" : "";
  if (karg.version == 2) return kLegacyPrefix + mark + to_hex(karg.digest);
  return kDigestPrefix + mark + "v1-" + std::string(hash_name(karg.digest.algorithm())) + "-" +
         std::to_string(kKargLgBlockSize) + ":" + to_hex(karg.digest);
}

std::vector<std::string_view> split_cmdline(std::string_view cmdline) {
  std::vector<std::string_view> out;
  bool quoted = false;
  std::size_t start = 0;
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; };
  for (std::size_t i = 0; i <= cmdline.size(); ++i) {
    if (i < cmdline.size() && cmdline[i] == '"') quoted = !quoted;
    if (i == cmdline.size() || (!quoted && space(cmdline[i]))) {
      if (i > start) out.push_back(cmdline.substr(start, i - start));
      start = i + 1;
    }
  }
  return out;
}

std::vector<std::string_view> composefs_arguments(std::string_view cmdline) {
  std::vector<std::string_view> out;
  for (std::string_view arg : split_cmdline(cmdline)) {
    if (arg.starts_with(kDigestPrefix) || arg.starts_with(kLegacyPrefix)) out.push_back(arg);
  }
  return out;
}

std::optional<Karg> parse_argument(std::string_view arg) {
  if (arg.starts_with(kDigestPrefix)) return parse_digest_karg(arg.substr(kDigestPrefix.size()), std::nullopt);
  if (arg.starts_with(kLegacyPrefix)) return parse_legacy_karg(arg.substr(kLegacyPrefix.size()), std::nullopt);
  return std::nullopt;
}

std::vector<Karg> parse_all(std::string_view cmdline) {
  std::vector<Karg> out;
  for (std::string_view arg : composefs_arguments(cmdline)) out.push_back(*parse_argument(arg));
  return out;
}

std::optional<Karg> parse_for(std::string_view cmdline, HashAlgorithm algorithm) {
  std::vector<std::string_view> args = split_cmdline(cmdline);
  for (std::string_view arg : args) {
    if (!arg.starts_with(kDigestPrefix)) continue;
    if (auto k = parse_digest_karg(arg.substr(kDigestPrefix.size()), algorithm)) return k;
  }
  for (std::string_view arg : args) {
    if (arg.starts_with(kLegacyPrefix))
      return parse_legacy_karg(arg.substr(kLegacyPrefix.size()), algorithm);
  }
  return std::nullopt;
}

}  // namespace cfs::boot
