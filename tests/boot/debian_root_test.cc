// A real Debian root (debootstrap --variant=minbase with selinux-policy-default, made once by
// tests/debian/root.sh and kept in the test cache) made bootable:
// - every path's label in `cfsctl create-image --bootable` against libselinux's matchpathcon
//   (selinux-utils) on the root's own file_contexts, as a table by top-level directory; the
//   two may differ only where composefs-rs's rules knowingly differ from libselinux's
//   (tests/selinux/compare_test.cc, KnownDifferences, pins each);
// - the same root as an OCI image made by umoci, pulled with --bootable: the same image ID, in
//   both EROFS formats, and compute-karg names it.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include "reader/image.h"
#include "reader/walk.h"
#include "support/support.h"

namespace cfs {
namespace {

namespace fs = test::fs;
using test::cfsctl;
using test::run;
using test::tool;

struct Labelled {
  std::string path;
  std::uint32_t mode;
  std::string label;  // "<<none>>" when the image has none (as matchpathcon says it)
};

std::vector<Labelled> labels_of(const fs::path& image_file) {
  std::string bytes = test::read_file(image_file);
  reader::Image image = reader::Image::open(std::as_bytes(std::span(bytes)));
  std::vector<Labelled> out;
  reader::walk(image, {}, [&](const reader::WalkEntry& e) {
    const tree::Xattr* x = e.inode.find_xattr("security.selinux");
    std::string label = x ? x->value : "<<none>>";
    if (!label.empty() && label.back() == '\0') label.pop_back();
    out.push_back({e.path, e.inode.mode, label});
  });
  return out;
}

// matchpathcon's -m names for a file type.
const char* matchpathcon_type(std::uint32_t mode) {
  switch (mode & S_IFMT) {
    case S_IFDIR: return "dir";
    case S_IFLNK: return "lnk_file";
    case S_IFCHR: return "chr_file";
    case S_IFBLK: return "blk_file";
    case S_IFIFO: return "pipe";
    case S_IFSOCK: return "sock_file";
    default: return "file";
  }
}

// matchpathcon's answer for each path (in batches of one file type), from file_contexts `fc`.
std::map<std::string, std::string> matchpathcon(const std::vector<Labelled>& entries,
                                                const fs::path& fc) {
  std::map<std::string, std::vector<std::string>> by_type;
  for (const Labelled& e : entries) by_type[matchpathcon_type(e.mode)].push_back(e.path);
  std::map<std::string, std::string> answers;
  for (const auto& [type, paths] : by_type) {
    for (std::size_t i = 0; i < paths.size(); i += 500) {
      std::vector<std::string> argv = {"matchpathcon", "-m", type, "-f", fc.string()};
      argv.insert(argv.end(), paths.begin() + i,
                  paths.begin() + std::min(paths.size(), i + 500));
      test::Run r = run(argv);
      EXPECT_EQ(r.status, 0) << r.err;
      std::istringstream lines(r.out);
      for (std::string line; std::getline(lines, line);) {
        std::size_t tab = line.rfind('\t');
        if (tab != std::string::npos) answers[line.substr(0, tab)] = line.substr(tab + 1);
      }
    }
  }
  return answers;
}

// The policy's lines naming exactly `path` (no regular expression), and their contexts: where
// libselinux tries such a line before every regex and composefs-rs does not.
std::map<std::string, std::string> exact_lines(const fs::path& fc) {
  std::map<std::string, std::string> exact;
  for (const char* suffix : {"", ".homedirs", ".local"}) {
    std::ifstream in(fc.string() + suffix);
    for (std::string line; std::getline(in, line);) {
      std::istringstream words(line);
      std::string spec, second, third;
      words >> spec >> second >> third;
      if (spec.empty() || spec[0] != '/' ||
          spec.find_first_of(".^$?*+|[]{}()\\") != std::string::npos)
        continue;
      exact[spec] = third.empty() ? second : third;
    }
  }
  return exact;
}

TEST(DebianRoot, BootableLabelsAgainstMatchpathcon) {
  std::string why;
  std::optional<fs::path> root = test::debian_root("selinux", why);
  CFS_REQUIRE(root, why);
  CFS_REQUIRE(test::run({"matchpathcon", "-V"}).status != 127,
              "matchpathcon is not installed (selinux-utils)");
  test::TempDir tmp;
  fs::path repo = tmp / "repo";
  ASSERT_EQ(cfsctl(repo, {"init", "--insecure"}).status, 0);
  auto made = cfsctl(repo, {"create-image", "--bootable", root->string(), "debian"});
  ASSERT_EQ(made.status, 0) << made.err;
  std::string id = made.out.substr(made.out.find(':') + 1, 128);
  std::vector<Labelled> entries = labels_of(repo / "images" / id);
  ASSERT_GT(entries.size(), 5000U);

  fs::path fc = *root / "etc/selinux/default/contexts/files/file_contexts";
  std::map<std::string, std::string> theirs = matchpathcon(entries, fc);
  std::map<std::string, std::string> exact = exact_lines(fc);
  struct Row {
    std::size_t paths = 0, same = 0, known = 0, unknown = 0;
  };
  std::map<std::string, Row> table;  // by top-level directory
  std::map<std::pair<std::string, std::string>, std::vector<std::string>> differences;
  std::vector<std::string> unknown;
  for (const Labelled& e : entries) {
    std::string top = e.path == "/" ? "/" : e.path.substr(0, e.path.find('/', 1));
    Row& row = table[top];
    ++row.paths;
    ASSERT_TRUE(theirs.count(e.path)) << "matchpathcon said nothing of " << e.path;
    const std::string& t = theirs.at(e.path);
    if (t == e.label) {
      ++row.same;
      continue;
    }
    differences[{e.label, t}].push_back(e.path);
    if (exact.count(e.path) && exact.at(e.path) == t) {
      ++row.known;
    } else {
      ++row.unknown;
      unknown.push_back(e.path + ": ours " + e.label + ", matchpathcon " + t);
    }
  }
  Row all;
  std::cout << "| top-level | paths | same label | differ (known) | differ (unknown) |\n"
            << "|---|---:|---:|---:|---:|\n";
  for (const auto& [top, row] : table) {
    std::cout << "| " << top << " | " << row.paths << " | " << row.same << " | " << row.known
              << " | " << row.unknown << " |\n";
    all.paths += row.paths, all.same += row.same, all.known += row.known,
        all.unknown += row.unknown;
  }
  std::cout << "| all | " << all.paths << " | " << all.same << " | " << all.known << " | "
            << all.unknown << " |\n";
  for (const auto& [pair, paths] : differences) {
    std::cout << "ours " << pair.first << " / matchpathcon " << pair.second << ": "
              << paths.size() << " paths:";
    for (std::size_t i = 0; i < std::min<std::size_t>(paths.size(), 5); ++i)
      std::cout << " " << paths[i];
    std::cout << "\n";
  }
  EXPECT_GT(all.same, all.paths * 99 / 100);
  EXPECT_TRUE(unknown.empty()) << unknown.size() << " differences of no known kind, e.g. "
                               << unknown.front();
  // /boot and /sysroot are emptied and keep their labels.
  ASSERT_TRUE(table.count("/boot") && table.count("/sysroot"));
  EXPECT_EQ(table.at("/boot").paths, 1U);
  EXPECT_EQ(table.at("/sysroot").paths, 1U);
}

TEST(DebianRoot, AnOciImageOfTheRootPullsToTheSameBootableImage) {
  std::string why;
  std::optional<fs::path> root = test::debian_root("selinux", why);
  CFS_REQUIRE(root, why);
  CFS_REQUIRE(test::run({"umoci", "--version"}).status == 0, "umoci is not installed");
  test::TempDir tmp;
  std::string layout = (tmp / "oci").string();
  for (std::vector<std::string> argv :
       {std::vector<std::string>{"umoci", "init", "--layout", layout},
        {"umoci", "new", "--image", layout + ":debian"},
        {"umoci", "insert", "--image", layout + ":debian", root->string(), "/"}}) {
    test::Run r = run(argv);
    ASSERT_EQ(r.status, 0) << argv[1] << ": " << r.err;
  }
  for (const std::string version : {"1", "2"}) {
    SCOPED_TRACE("EROFS format " + version);
    fs::path repo = tmp / ("repo" + version);
    ASSERT_EQ(cfsctl(repo, {"init", "--insecure", "--erofs-version", version}).status, 0);
    auto made = cfsctl(repo, {"create-image", "--bootable", root->string(), "debian"});
    ASSERT_EQ(made.status, 0) << made.err;
    std::string id = made.out.substr(made.out.find(':') + 1, 128);
    auto pulled = cfsctl(repo, {"oci", "pull", "--bootable", "oci:" + layout + ":debian", "oci"});
    ASSERT_EQ(pulled.status, 0) << pulled.err;
    EXPECT_NE(pulled.out.find("Boot image: " + id + "\n"), std::string::npos)
        << pulled.out << "created: " << id;
    // The pull stored no object that the directory had not: the same files.
    EXPECT_NE(pulled.out.find(" 0 new + "), std::string::npos) << pulled.out;
    auto karg = run({tool("cfsctl").string(), "--no-repo", "--erofs-version", version,
                     "compute-karg", root->string()});
    ASSERT_EQ(karg.status, 0) << karg.err;
    EXPECT_EQ(karg.out, (version == "1" ? "composefs.digest=v1-sha512-12:" : "composefs=") + id +
                            "\n");
  }
}

}  // namespace
}  // namespace cfs
