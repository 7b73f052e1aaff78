// Merging layers as composefs-rs does (oci-import.md §5), entry by entry.
#include "oci/merge.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "base/error.h"
#include "oci/transform.h"

namespace cfs::oci {
namespace {

TarEntry dir(std::string path, std::int64_t mtime = 1) {
  return {.path = std::move(path), .type = EntryType::kDirectory, .mode = 0755, .mtime_sec = mtime};
}
TarEntry file(std::string path, std::string data = "x") {
  TarEntry e{.path = std::move(path), .type = EntryType::kRegular, .mode = 0644};
  e.size = data.size();
  e.body.bytes = std::move(data);
  return e;
}
TarEntry link(std::string path, std::string target) {
  return {.path = std::move(path), .type = EntryType::kHardLink, .link = std::move(target)};
}

struct Merged {
  tree::Tree tree;
  const tree::Node* at(std::string_view path) const { return tree.find(path); }
};

Merged merge(const std::vector<TarEntry>& entries) {
  Merged m;
  LayerMerger merger(m.tree);
  for (const TarEntry& e : entries) merger.apply(e);
  merger.finish();
  return m;
}

std::string error_of(const std::vector<TarEntry>& entries) {
  try {
    merge(entries);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(Merge, WhiteoutsAndOpaqueDirectoriesActInStreamOrder) {
  Merged m = merge({dir("/etc"), file("/etc/a"), dir("/etc/sub"), file("/etc/sub/b"), file("/etc/keep"),
                    file("/etc/.wh.a"), file("/etc/.wh.sub"), file("/etc/.wh.absent"), file("/etc/.wh..wh.plnk"),
                    dir("/opq"), file("/opq/old"), file("/opq/.wh..wh..opq"), file("/opq/new")});
  EXPECT_EQ(m.at("/etc/a"), nullptr);
  EXPECT_EQ(m.at("/etc/sub"), nullptr);
  EXPECT_NE(m.at("/etc/keep"), nullptr);
  EXPECT_EQ(m.at("/etc/.wh.absent"), nullptr);  // whiteouts are never entries
  EXPECT_EQ(m.at("/opq/old"), nullptr);
  EXPECT_NE(m.at("/opq/new"), nullptr);
  Merged late = merge({dir("/d"), file("/d/x"), file("/d/.wh..wh..opq")});  // after: removes x too
  EXPECT_TRUE(late.at("/d")->children.empty());
}

TEST(Merge, DirectoryOverDirectoryTakesMetadataOnly) {
  Merged m = merge({dir("/a", 10), file("/a/f"), dir("/a", 20)});
  EXPECT_EQ(m.at("/a")->mtime_sec, 20);
  EXPECT_NE(m.at("/a/f"), nullptr);
  Merged replaced = merge({dir("/a"), file("/a/f"), file("/a", "now a file")});
  EXPECT_EQ(replaced.at("/a")->type(), static_cast<std::uint32_t>(S_IFREG));
  EXPECT_EQ(replaced.at("/a")->content, "now a file");
}

TEST(Merge, HardLinksShareTheInodeAcrossLayersAndCountNames) {
  Merged m = merge({dir("/usr"), file("/usr/a", "data"), link("/b", "/usr/a"), link("/usr/c", "/b"),
                    file("/usr/a", "replaced")});  // /usr/a gets a new inode; /b and /usr/c keep the old
  const tree::Node* b = m.at("/b");
  const tree::Node* c = m.at("/usr/c");
  ASSERT_NE(b, nullptr);
  ASSERT_NE(c, nullptr);
  EXPECT_FALSE(b->is_alias());  // the first name breadth-first is the node
  EXPECT_EQ(c->resolve(), b);
  EXPECT_EQ(b->nlink, 2U);
  EXPECT_EQ(b->content, "data");
  EXPECT_EQ(m.at("/usr/a")->nlink, 1U);
  EXPECT_EQ(m.at("/usr/a")->content, "replaced");
}

// /run is emptied (composefs-rs's transform): names of an inode that were there go, and
// the names left keep the inode, counted again — also when /run held its first name.
TEST(Merge, EmptyingRunRecountsHardLinks) {
  Merged m = merge({dir("/usr"), file("/usr/a", "data"), dir("/run"), link("/run/b", "/usr/a"),
                    file("/run/x", "xx"), link("/usr/y", "/run/x")});
  ASSERT_TRUE(m.at("/usr/a")->is_alias()) << "/run/b comes first breadth-first";
  transform_for_oci(m.tree, {});
  EXPECT_TRUE(m.at("/run")->children.empty());
  for (auto [path, content] : {std::pair{"/usr/a", "data"}, std::pair{"/usr/y", "xx"}}) {
    const tree::Node* n = m.at(path);
    ASSERT_NE(n, nullptr) << path;
    EXPECT_FALSE(n->is_alias()) << path;
    EXPECT_EQ(n->nlink, 1U) << path;
    EXPECT_EQ(n->content, content) << path;
  }
}

TEST(Merge, RefusalsNameTheEntry) {
  EXPECT_NE(error_of({file("/missing/x")}).find("/missing/x: its parent directory does not exist"), std::string::npos);
  EXPECT_NE(error_of({file("/f"), file("/f/x")}).find("parent is not a directory"), std::string::npos);
  EXPECT_NE(error_of({link("/l", "/nowhere")}).find("/l: hard link to /nowhere, which does not exist"), std::string::npos);
  EXPECT_NE(error_of({dir("/d"), link("/l", "/d")}).find("hard link to the directory"), std::string::npos);
  EXPECT_NE(error_of({file("/" + std::string(256, 'n'))}).find("longer than 255"), std::string::npos);
  EXPECT_NE(error_of({file("/")}).find("root entry is not a directory"), std::string::npos);
  TarEntry symlink{.path = "/s", .type = EntryType::kSymlink, .mode = 0777, .link = "/usr"};
  EXPECT_NE(error_of({dir("/usr"), symlink, file("/s/x")}).find("/s/x: its parent is not a directory"), std::string::npos);
  EXPECT_NE(error_of({dir("/usr"), symlink, file("/s/y/x")}).find("goes through a non-directory"), std::string::npos);
}

TEST(Merge, RootEntrySetsTheRoot) {
  Merged m = merge({dir("/", 77)});
  EXPECT_EQ(m.tree.root()->mtime_sec, 77);
  EXPECT_EQ(m.tree.root()->mode, static_cast<std::uint32_t>(S_IFDIR | 0755));
}

}  // namespace
}  // namespace cfs::oci
