// composefs kernel arguments: the forms composefs-rs 0.9 writes and the rules its parsers
// (crates/composefs-boot/src/cmdline.rs from_cmdline, composefs-setup-root's
// parse_composefs_kargs) apply, including the malformed arguments they reject.
#include "boot/cmdline.h"

#include <gtest/gtest.h>

#include "base/error.h"

namespace cfs::boot {
namespace {

const std::string k256 = "8b7df143d91c716ecfa5fc1730022f6b421b05cedee8fd52b1fc65a96030ad52";
const std::string k512 =
    "6f06b5e82420abec546d6e6d3ddd612c50cfa9b707c129345b7ec16f456b92fe"
    "35df68999b042e1a6a70dfe75f2fed8cf9f67afd0bf08d2374678d75e2f65a02";
const std::string kA256(64, 'a');
const std::string kB256(64, 'b');

Digest hex(const std::string& h) { return *parse_hex_digest(h); }

// The error's whole chain, or "" when there was none.
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), EINVAL);
    return e.what();
  }
  return "";
}

TEST(Cmdline, FormatsAsComposefsRs) {
  struct Case {
    std::uint32_t erofs_version;
    std::string hex;
    bool insecure;
    std::string karg;
  } cases[] = {
      {1, k256, false, "composefs.digest=v1-sha256-12:" + k256},
      {1, k512, false, "composefs.digest=v1-sha512-12:" + k512},
      {0, k512, false, "composefs.digest=v1-sha512-12:" + k512},  // V0: the V1 form
      {1, k256, true, "composefs.digest=?v1-sha256-12:" + k256},
      {2, k256, false, "composefs=" + k256},
      {2, k512, false, "composefs=" + k512},
      {2, k256, true, "composefs=?" + k256},
  };
  for (const Case& c : cases) {
    Karg k = karg_for(c.erofs_version, hex(c.hex), c.insecure);
    EXPECT_EQ(format(k), c.karg) << c.karg;
    // What is written reads back (the initramfs's view of it).
    std::vector<Karg> back = parse_all(c.karg);
    ASSERT_EQ(back.size(), 1u) << c.karg;
    EXPECT_EQ(back[0], k) << c.karg;
    EXPECT_EQ(parse_for(c.karg, k.digest.algorithm()), k) << c.karg;
  }
  EXPECT_NE(error_of([] { karg_for(3, hex(k256), false); }), "");
}

TEST(Cmdline, SplitsAsTheKernel) {
  struct Case {
    std::string cmdline;
    std::vector<std::string_view> args;
  } cases[] = {
      {"", {}},
      {"  quiet\tsplash \n rw ", {"quiet", "splash", "rw"}},
      {"a=\"x y\" b", {"a=\"x y\"", "b"}},  // quotes stay; no escapes
      {"a=\"x y b", {"a=\"x y b"}},         // an open quote runs to the end
  };
  for (const Case& c : cases) EXPECT_EQ(split_cmdline(c.cmdline), c.args) << c.cmdline;
}

TEST(Cmdline, ParseAllKeepsCommandLineOrder) {
  struct Case {
    std::string cmdline;
    std::vector<Karg> kargs;
  } cases[] = {
      {"root=UUID=abc rw quiet", {}},
      {"composefs.digest=v1-sha256-12:" + k256 + " rw", {{1, hex(k256), false}}},
      {"composefs.digest=?v2-sha512-12:" + k512, {{2, hex(k512), true}}},
      {"composefs=" + k512, {{2, hex(k512), false}}},
      {"composefs=" + kB256 + " composefs.digest=v1-sha256-12:" + kA256 +
           " composefs.digest=v1-sha512-12:" + k512,
       {{2, hex(kB256), false}, {1, hex(kA256), false}, {1, hex(k512), false}}},
      {"Composefs.digest=x composefsx=1 xcomposefs=" + k256, {}},           // not ours: ignored
      {"composefs=" + std::string(64, 'A'), {{2, hex(kA256), false}}},      // hex in either case
      {"composefs.digest=v1-sha256-+12:" + k256, {{1, hex(k256), false}}},  // Rust's u8 takes '+'
  };
  for (const Case& c : cases) {
    EXPECT_EQ(parse_all(c.cmdline), c.kargs) << c.cmdline;
  }
}

// The arguments as written (what composefs-setup-root names), each parsed on its own.
TEST(Cmdline, ArgumentsAsWritten) {
  std::string v2 = "composefs.digest=v2-sha512-12:" + k512, legacy = "composefs=?" + k256;
  std::string cmdline = "root=UUID=abc composefs " + v2 + " rw " + legacy + " composefs.digest";
  std::vector<std::string_view> args = composefs_arguments(cmdline);
  ASSERT_EQ(args, (std::vector<std::string_view>{v2, legacy}));
  EXPECT_EQ(parse_argument(args[0]), (Karg{2, hex(k512), false}));
  EXPECT_EQ(parse_argument(args[1]), (Karg{2, hex(k256), true}));
  EXPECT_EQ(parse_argument("rw"), std::nullopt);
  EXPECT_NE(error_of([] { parse_argument("composefs=abc"); }), "");
  // A malformed argument is still one: it is named, not skipped.
  EXPECT_EQ(composefs_arguments("composefs=abc quiet").size(), 1u);
}

TEST(Cmdline, ParseForPicksAsComposefsRs) {
  struct Case {
    std::string cmdline;
    HashAlgorithm algorithm;
    std::optional<Karg> karg;
  } cases[] = {
      {"", HashAlgorithm::kSha256, std::nullopt},
      {"quiet splash rw", HashAlgorithm::kSha512, std::nullopt},
      // composefs.digest= wins over an earlier composefs=.
      {"composefs=" + kB256 + " composefs.digest=v1-sha256-12:" + kA256, HashAlgorithm::kSha256,
       Karg{1, hex(kA256), false}},
      // Another algorithm's composefs.digest= is skipped, even with a bad digest.
      {"composefs.digest=v1-sha512-12:" + k512, HashAlgorithm::kSha256, std::nullopt},
      {"composefs.digest=v1-sha512-12:zz composefs.digest=v1-sha256-12:" + k256,
       HashAlgorithm::kSha256, Karg{1, hex(k256), false}},
      {"composefs.digest=v1-sha256-12:" + k256, HashAlgorithm::kSha512, std::nullopt},
      // ... then the first composefs=.
      {"composefs.digest=v1-sha512-12:" + k512 + " composefs=?" + k256 + " composefs=" + kA256,
       HashAlgorithm::kSha256, Karg{2, hex(k256), true}},
      {"root=UUID=abc composefs.digest=v2-sha256-12:" + k256 + " rw", HashAlgorithm::kSha256,
       Karg{2, hex(k256), false}},
  };
  for (const Case& c : cases) EXPECT_EQ(parse_for(c.cmdline, c.algorithm), c.karg) << c.cmdline;
}

TEST(Cmdline, MalformedArgumentsAreClearErrors) {
  struct Case {
    std::string cmdline;
    std::string message;  // part of the error
  } cases[] = {
      {"composefs.digest=v1-sha256-12:notahex",
       "parsing composefs.digest= value: v1-sha256-12:notahex"},
      {"composefs.digest=v1-sha256-12:notahex",
       "7 characters, expected 64 hex digits for fsverity-sha256-12"},
      {"composefs.digest=v1-sha256-12:" + k512, "128 characters, expected 64"},
      {"composefs.digest=v1-sha256-12",
       "expected '<version>-<hash>-<blocksize>:<hex>', got: v1-sha256-12"},
      {"composefs.digest=" + k256, "expected '<version>-<hash>-<blocksize>:<hex>'"},
      {"composefs.digest=v3-sha256-12:" + k256, "unsupported format version 'v3'"},
      {"composefs.digest=v1:" + k256, "expected 'v<N>-<hash>-<blocksize>', got: v1"},
      {"composefs.digest=v1-sha256:" + k256, "no '-' between hash and block size in 'sha256'"},
      {"composefs.digest=v1-sha256-8:" + k256, "unsupported block size 2^8"},
      {"composefs.digest=v1-sha512-99:" + k512, "unsupported block size 2^99"},
      {"composefs.digest=v1-sha256-x:" + k256, "invalid block size 'x'"},
      {"composefs.digest=v1-sha256-256:" + k256, "invalid block size '256'"},
      {"composefs.digest=v1-md5-12:" + k256, "unknown hash 'md5'"},
      {"composefs.digest=V1-sha256-12:" + k256, "unsupported format version 'V1'"},
      {"composefs.digest=??v1-sha256-12:" + k256, "unsupported format version '?v1'"},
      {"composefs=notahex", "parsing composefs= value: notahex"},
      {"composefs=notahex", "a digest of 7 characters (64 for sha256, 128 for sha512)"},
      {"composefs=", "a digest of 0 characters"},
      {"composefs=" + std::string(63, 'a') + "g", "64 characters, expected 64 hex digits"},
  };
  for (const Case& c : cases) {
    std::string all = error_of([&] { parse_all(c.cmdline); });
    EXPECT_NE(all.find(c.message), std::string::npos) << c.cmdline << "\n  got: " << all;
  }
  // parse_for: the descriptor of any composefs.digest= must be well-formed; the hex of its own
  // algorithm's, and of the composefs= it falls back to.
  EXPECT_NE(
      error_of([&] { parse_for("composefs.digest=v1-sha512-8:" + k512, HashAlgorithm::kSha256); }),
      "");
  EXPECT_NE(error_of([&] {
              parse_for("composefs=" + k512, HashAlgorithm::kSha256);
            }).find("128 characters, expected 64"),
            std::string::npos);
  EXPECT_NE(
      error_of([&] { parse_for("composefs.digest=v1-sha256-12:zz", HashAlgorithm::kSha256); }), "");
}

}  // namespace
}  // namespace cfs::boot
