#include "verity/fsverity.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <unistd.h>
#include <vector>

namespace cfs::verity {
namespace {

std::string hex_of(std::string_view data, HashAlgorithm a = HashAlgorithm::kSha256) {
  return to_hex(digest_of(std::as_bytes(std::span(data)), a));
}

std::string pattern(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>(i % 251);
  return s;
}

// docs/format.md §7 (kernel values; empty data follows the kernel, not upstream's user space).
TEST(Fsverity, Vectors) {
  struct Case {
    std::string data;
    const char* digest;
  } cases[] = {
      {"", "3d248ca542a24fc62d1c43b916eae5016878e2533c88238480b26128a1f1af95"},
      {"a", "bce75948b9e7510293f8f2720412af9697c1479281323f3f220623fb8e94b557"},
      {"hello\n", "9c76eecc7b76fcb46199cb27b90cf59a660e10575bb0412128905129d5b1c2aa"},
      {"hello world\n", "37061ef2ac4c21bec68489b56138c5780306a4ad7fe6676236ecdf2c9027cd92"},
      {"foo bar baz\n", "91e7d88cb7bc9cf6d8db3b0ecf89af4abf204bef5b3ade5113d5b62ef374e70b"},
      {std::string(4096, 'a'), "a2a808ddaced77f0b6b3068f47b14b5a1fb3fc43674993ab11b8e7e6f2d089e2"},
      {std::string(4097, 'a'), "18b155c0b6e054f3f7d22488ed15340e74dc161ce2d123e13eb685c3ce565f70"},
      {pattern(524289), "4dc6905041c9c4ee73e13b53f63f5d289c46da359b664a965ead7f8cc4d799d4"},
      {pattern(1048576), "93c995656d665b81c3a87eed032fcf06a8f9cecef51e3f5e5af7fa59fef1d439"},
  };
  for (const auto& c : cases) EXPECT_EQ(hex_of(c.data), c.digest) << "size " << c.data.size();
}

// Any split of the input into update() calls gives the same digest.
TEST(Fsverity, StreamingIsSplitIndependent) {
  std::string data = pattern(3 * 4096 * 128 + 17);
  std::string whole = hex_of(data);
  for (std::size_t step : {1u, 7u, 4095u, 4096u, 4097u, 65536u, 1000000u}) {
    Hasher h;
    for (std::size_t off = 0; off < data.size(); off += step) {
      std::string_view part = std::string_view(data).substr(off, step);
      h.update(std::as_bytes(std::span(part)));
    }
    EXPECT_EQ(to_hex(h.finish()), whole) << "step " << step;
  }
}

// SHA-512 (composefs-rs repositories), as fsverity-utils' `fsverity digest --hash-alg=sha512`
// computes it: 64 hashes a block, so 64 * 4096 + 1 bytes already need three levels.
TEST(Fsverity, Sha512Vectors) {
  struct Case {
    std::string data;
    const char* digest;
  } cases[] = {
      {"", "ccf9e5aea1c2a64efa2f2354a6024b90dffde6bbc017825045dce374474e13d10adb9dadcc6ca8e17a3c075fbd31336e8f266ae6fa93a6c3bed66f9e784e5abf"},
      {"a", "829b82e4646ed8804b8481d26202f11dafed5acde87623a34e9e813fed884e86a787bb38095921f6128e2a53f116145b4528b2bfe218c6df6717a03d0be90f4b"},
      {"hello world\n", "4098b052d2427dc9029c85062215dd6e6c41667bfae09f5ce90a49f7e01fca295c89b16a4d2703ac5b0593f476ca174675ee51829c2f1fd07c4133a87041c1d7"},
      {std::string(4096, 'a'), "36b837c9d8c1c3f992c5be7feed967217668a847866b42eebcdb1ae81239ff856e93ebfac147adc058f5136202836273fc86771c1bcf598aaf9a4529f9e13cd3"},
      {std::string(4097, 'a'), "8fe8cfab59a8c2334ce68d1e85f2aff84dc1e1c4c03a68a2c87055c0535bceb057aadd1ec34d3c57a3ce0cd01383da08301137821a5d9c8ee767ae5888a95545"},
      {pattern(262145), "db774f463acc1e672e4da91d045eb146f2647efec545951fb7005067ff9899da3ae94dc206531b40985587ce4e5eb173a235d51b488074067d9e34131814b9de"},
      {pattern(524289), "60b58fe0f1e5198627ffb6be091eef60edce9b4ff6ee43884ba78a831ecdecc1572729afc5ebeb09101e3f102c9d7142ab4f66216198d85f8c7194eca7885bb2"},
  };
  for (const auto& c : cases) {
    Digest d = digest_of(std::as_bytes(std::span(c.data)), HashAlgorithm::kSha512);
    EXPECT_EQ(d.size(), 64u);
    EXPECT_EQ(to_hex(d), c.digest) << "size " << c.data.size();
  }
}

// Zeros fed by update_zeros() give the digest of the same bytes fed by update().
TEST(Fsverity, UpdateZerosEqualsUpdate) {
  std::string data = pattern(100000);
  for (std::size_t zeros : {0ul, 1ul, 4095ul, 4096ul, 4097ul, 8192ul, 600000ul, 4096ul * 129}) {
    for (std::size_t head : {0ul, 1ul, 4096ul, 5000ul}) {
      std::string all = data.substr(0, head) + std::string(zeros, '\0') + data.substr(0, head / 2);
      for (HashAlgorithm a : {HashAlgorithm::kSha256, HashAlgorithm::kSha512}) {
        Hasher h(a);
        h.update(std::as_bytes(std::span(std::string_view(all).substr(0, head))));
        h.update_zeros(zeros);
        h.update(std::as_bytes(std::span(std::string_view(all).substr(head + zeros))));
        EXPECT_EQ(to_hex(h.finish()), hex_of(all, a)) << "head " << head << " zeros " << zeros;
      }
    }
  }
}

}  // namespace
}  // namespace cfs::verity

namespace cfs::verity {
namespace {

// fsverity-utils' digest of a file ("" when the tool is missing).
std::string fsverity_utils_digest(const std::string& path, HashAlgorithm a) {
  std::string cmd = std::string("fsverity digest --compact --hash-alg=") + (a == HashAlgorithm::kSha512 ? "sha512 " : "sha256 ") + path;
  std::string out;
  if (FILE* p = ::popen(cmd.c_str(), "r")) {
    char line[256] = {};
    if (std::fgets(line, sizeof line, p) != nullptr) out = line;
    ::pclose(p);
  }
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

// Every hashing engine this machine runs (verity/batch.h) gives fsverity-utils' digests for the
// sizes around block and level boundaries, in both algorithms, however the data is fed.
TEST(FsverityEngines, EveryEngineGivesFsverityUtilsDigests) {
  std::vector<HashEngine> engines = available_engines();
#if defined(__x86_64__)
  if (std::getenv("CI") != nullptr && std::string(std::getenv("CI")) == "true") {
    EXPECT_GE(engines.size(), 3U) << "libipsec-mb missing from the build: only OpenSSL runs";
  }
#endif
  char dir[] = "/tmp/cfs-engines-XXXXXX";
  ASSERT_NE(::mkdtemp(dir), nullptr);
  for (std::size_t size : {std::size_t{0}, std::size_t{1}, std::size_t{4095}, std::size_t{4096}, std::size_t{4097},
                           std::size_t{1} << 20, (std::size_t{33} << 20) + 1}) {
    std::string data = pattern(size);
    std::string path = std::string(dir) + "/f";
    FILE* f = std::fopen(path.c_str(), "wb");
    std::fwrite(data.data(), 1, data.size(), f);
    std::fclose(f);
    for (HashAlgorithm a : {HashAlgorithm::kSha256, HashAlgorithm::kSha512}) {
      std::string expected = fsverity_utils_digest(path, a);
      if (expected.empty()) GTEST_SKIP() << "fsverity-utils (fsverity digest) is not installed";
      if (size == 0) expected = hex_of("", a);  // the kernel's empty-file rule (fsverity-utils agrees or not)
      for (HashEngine e : engines) {
        Hasher whole(a, e);
        whole.update(std::as_bytes(std::span(data)));
        EXPECT_EQ(to_hex(whole.finish()), expected) << engine_name(e) << " size " << size;
        Hasher parts(a, e);
        for (std::size_t off = 0; off < data.size(); off += 70001) {
          parts.update(std::as_bytes(std::span(data).subspan(off, std::min<std::size_t>(70001, data.size() - off))));
        }
        EXPECT_EQ(to_hex(parts.finish()), expected) << engine_name(e) << " size " << size << " in parts";
      }
    }
  }
  std::remove((std::string(dir) + "/f").c_str());
  ::rmdir(dir);
}

TEST(FsverityEngines, BatchesEqualSingleHashes) {
  std::string data = pattern(kBatchWidth * 4096 + 100);
  std::vector<const std::byte*> messages;
  for (std::size_t i = 0; i < kBatchWidth; ++i) messages.push_back(reinterpret_cast<const std::byte*>(data.data()) + i * 4096 + i);
  for (HashAlgorithm a : {HashAlgorithm::kSha256, HashAlgorithm::kSha512}) {
    std::size_t size = digest_size(a);
    std::vector<std::uint8_t> want(kBatchWidth * size), got(kBatchWidth * size);
    hash_many(a, HashEngine::kOpenSsl, messages, 4096, want.data());
    for (HashEngine e : available_engines()) {
      for (std::size_t n : {std::size_t{2}, std::size_t{7}, kBatchWidth}) {
        std::fill(got.begin(), got.end(), 0);
        hash_many(a, e, std::span(messages).first(n), 4096, got.data());
        EXPECT_TRUE(std::equal(got.begin(), got.begin() + static_cast<std::ptrdiff_t>(n * size), want.begin()))
            << engine_name(e) << " x" << n;
      }
    }
  }
}

}  // namespace
}  // namespace cfs::verity

#include "verity/measure.h"

namespace cfs::verity {
namespace {

// A file large enough to be hashed on every core (pieces of level-1 hashes joined), with holes
// (hashed as zeros without being read): fsverity-utils' digest, in both algorithms.
TEST(FsverityEngines, LargeFilesHashedInParallel) {
  char path[] = "/tmp/cfs-parallel-XXXXXX";
  int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  std::string chunk = pattern(5 << 20);
  for (std::uint64_t at : {std::uint64_t{0}, std::uint64_t{70} << 20, (std::uint64_t{150} << 20) + 12345}) {
    ASSERT_EQ(::pwrite(fd, chunk.data(), chunk.size(), static_cast<off_t>(at)), static_cast<ssize_t>(chunk.size()));
  }
  ASSERT_EQ(::ftruncate(fd, (std::int64_t{200} << 20) + 777), 0);
  for (HashAlgorithm a : {HashAlgorithm::kSha256, HashAlgorithm::kSha512}) {
    std::string expected = fsverity_utils_digest(path, a);
    if (expected.empty()) GTEST_SKIP() << "fsverity-utils (fsverity digest) is not installed";
    EXPECT_EQ(to_hex(compute_from_fd(fd, a)), expected);
  }
  ::close(fd);
  ::unlink(path);
}

}  // namespace
}  // namespace cfs::verity

namespace cfs::verity {
namespace {

// Many small files hashed together give each file's own digest.
TEST(FsverityEngines, DigestManyEqualsOneByOne) {
  std::vector<std::string> files;
  for (std::size_t size : {std::size_t{0}, std::size_t{1}, std::size_t{64}, std::size_t{65}, std::size_t{4095}, std::size_t{4096},
                           std::size_t{4097}, std::size_t{8192}, std::size_t{100000}, kSmallFileMax - 1, kSmallFileMax}) {
    files.push_back(pattern(size + 3).substr(3));
  }
  std::vector<std::span<const std::byte>> spans;
  for (const std::string& f : files) spans.push_back(std::as_bytes(std::span(f)));
  for (HashAlgorithm a : {HashAlgorithm::kSha256, HashAlgorithm::kSha512}) {
    std::vector<Digest> out(files.size());
    digest_many(spans, a, out.data());
    for (std::size_t i = 0; i < files.size(); ++i) {
      Hasher one(a, HashEngine::kOpenSsl);
      one.update(spans[i]);
      EXPECT_EQ(to_hex(out[i]), to_hex(one.finish())) << "size " << files[i].size();
    }
  }
}

}  // namespace
}  // namespace cfs::verity
