// Test support: where the vectors and tools are, reading (and gunzipping) files, hashing,
// running a tool as a subprocess, and skipping-or-failing when the environment lacks something.
#pragma once

#include <gtest/gtest.h>

#include <cstddef>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace cfs::test {

namespace fs = std::filesystem;

// A small worked image exercising every inode kind (16384 bytes, sha256 04735d9e…).
extern const char* const kWorkedExampleDump;

// ../shared/vectors (or $CFS_VECTORS); nullopt when absent.
// Upstream's own test assets (../shared/vectors/upstream, or $CFS_VECTORS/upstream): optional.
std::optional<fs::path> upstream_vectors_dir();
// The repository's vectors (tests/vectors): generated dumps and trees with the image digests
// upstream 1.0.8 gives them. Always there.
fs::path repo_vectors();
// One line of an expected.sha256 file: the seed, then its fields.
struct Expected {
  std::string seed;
  std::vector<std::string> fields;
};
std::vector<Expected> expected(const fs::path& sha256_file);
std::string generated_dump(const std::string& seed);  // the dump text of a generated seed
// Extracts generated tree SEED (101, 102, 103) into `dir` with owners, devices, xattrs and
// hard links (needs root). Returns "" or what failed.
std::string extract_tree(const std::string& seed, const fs::path& dir);
fs::path tool(const std::string& name);  // built binary of a tool
// The tool as a user without privileges can run it: the built binary where every directory
// above it lets others through, else a copy in a temporary directory that is removed when the
// test process exits (a checkout in /root is out of reach of the user "nobody").
fs::path tool_for_anyone(const std::string& name);
bool in_ci();                            // CI=true: a missing environment is a failure
// A Debian root made by tests/debian/root.sh RECIPE (built once, kept in the test cache), or
// what is missing to make one (`why`); the build failing otherwise fails the test.
std::optional<fs::path> debian_root(const std::string& recipe, std::string& why);

std::string read_file(const fs::path& p);  // .gz files are decompressed
void write_file(const fs::path& p, std::string_view data);
std::string sha256_hex(std::span<const std::byte> data);
std::string sha256_hex(std::string_view data);

struct Upstream {
  std::string name;   // e.g. "special.dump"
  std::string dump;   // the dump text
  std::string sha256;
  std::optional<std::uint32_t> version;  // pinned min = max version
  bool strict;        // upstream parses it with CFS_PARSE_STRICT
};
std::vector<Upstream> upstream_assets(const fs::path& dir);
std::vector<fs::path> should_fail_assets(const fs::path& dir);

struct Run {
  int status = -1;  // exit code, or 128 + signal
  std::string out;
  std::string err;
};
// Runs argv[0] with arguments; `input` goes to its stdin. Extra env entries "K=V" (replacing K).
Run run(const std::vector<std::string>& argv, const std::string& input = {},
        const std::vector<std::string>& env = {});

// argv run by sh with RLIMIT_NOFILE lowered to `limit` (ulimit -n): for run().
std::vector<std::string> with_fd_limit(unsigned limit, std::vector<std::string> argv);

// Whether `err` is one error as cfsctl prints it ("Error: what", then maybe "Caused by:" and
// the causes, indented) and nothing else.
bool one_error(const std::string& err);

// `cfsctl --repo REPO ARGS...`, as run() runs it.
Run cfsctl(const fs::path& repo, std::vector<std::string> args, const std::string& input = {},
           const std::vector<std::string>& env = {});

// A fresh temporary directory removed at scope exit.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const fs::path& path() const { return path_; }
  fs::path operator/(const std::string& name) const { return path_ / name; }

 private:
  fs::path path_;
};

// A tmpfs of `size` (e.g. "1m") mounted on `dir` (made if missing) until scope exit; needs root.
class Tmpfs {
 public:
  Tmpfs(const fs::path& dir, const std::string& size);
  ~Tmpfs();
  Tmpfs(const Tmpfs&) = delete;
  Tmpfs& operator=(const Tmpfs&) = delete;
  bool ok() const { return ok_; }

 private:
  fs::path dir_;
  bool ok_;
};

}  // namespace cfs::test

// Skips with a visible reason, or fails under CI=true, when a requirement is missing.
#define CFS_REQUIRE(cond, reason)                                          \
  do {                                                                     \
    if (!(cond)) {                                                         \
      if (::cfs::test::in_ci()) FAIL() << "missing in CI: " << (reason);   \
      GTEST_SKIP() << (reason);                                            \
    }                                                                      \
  } while (0)

// Upstream's assets are not part of the repository: without them a test skips, even in CI.
#define CFS_REQUIRE_UPSTREAM_VECTORS(var)                                                   \
  auto var##_opt = ::cfs::test::upstream_vectors_dir();                                     \
  if (!var##_opt) GTEST_SKIP() << "upstream's assets not found: ../shared/vectors is absent " \
                                  "(set CFS_VECTORS)";                                       \
  [[maybe_unused]] const auto& var = *var##_opt
