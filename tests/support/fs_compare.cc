#include "support/fs_compare.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sys/xattr.h>

#include <cstring>
#include <fstream>
#include <set>

#include "support/support.h"

namespace cfs::test {
namespace {

void walk(const fs::path& root, const fs::path& rel, std::vector<std::string>& out) {
  for (const auto& e : fs::directory_iterator(root / rel)) {
    fs::path r = rel / e.path().filename();
    out.push_back(r.string());
    if (fs::symlink_status(e.path()).type() == fs::file_type::directory) walk(root, r, out);
  }
}

}  // namespace

bool is_mounted(const fs::path& dir) {
  std::ifstream f("/proc/self/mountinfo");
  std::string line;
  while (std::getline(f, line)) {
    if (line.find(" " + dir.string() + " ") != std::string::npos) return true;
  }
  return false;
}

std::map<std::string, std::string> xattrs_of(const std::string& path) {
  std::map<std::string, std::string> out;
  char names[65536];
  ssize_t n = ::llistxattr(path.c_str(), names, sizeof names);
  for (ssize_t i = 0; i < n; i += static_cast<ssize_t>(std::strlen(names + i)) + 1) {
    std::string v(65536, '\0');
    ssize_t len = ::lgetxattr(path.c_str(), names + i, v.data(), v.size());
    // The VFS lists user.* on symlinks and devices but refuses to read them.
    out[names + i] = len < 0 ? "<unreadable>" : v.substr(0, static_cast<std::size_t>(len));
  }
  return out;
}

std::vector<std::string> entries_below(const fs::path& root) {
  std::vector<std::string> out;
  walk(root, "", out);
  return out;
}

int compare_trees(const fs::path& a, const fs::path& b, bool hard_links) {
  auto la = entries_below(a), lb = entries_below(b);
  EXPECT_EQ(std::set<std::string>(la.begin(), la.end()), std::set<std::string>(lb.begin(), lb.end()));
  std::map<ino_t, ino_t> ino_map;  // source inode -> mounted inode
  int n = 0;
  for (const std::string& rel : la) {
    std::string pa = (a / rel).string(), pb = (b / rel).string();
    struct stat sa {}, sb {};
    if (::lstat(pb.c_str(), &sb) != 0) continue;
    ::lstat(pa.c_str(), &sa);
    EXPECT_EQ(sa.st_mode, sb.st_mode) << rel;
    EXPECT_EQ(sa.st_uid, sb.st_uid) << rel;
    EXPECT_EQ(sa.st_gid, sb.st_gid) << rel;
    EXPECT_EQ(sa.st_mtim.tv_sec, sb.st_mtim.tv_sec) << rel;
    EXPECT_EQ(sa.st_mtim.tv_nsec, sb.st_mtim.tv_nsec) << rel;
    if (S_ISDIR(sa.st_mode)) {
      EXPECT_EQ(sa.st_nlink, sb.st_nlink) << rel;
    } else {
      EXPECT_EQ(sa.st_size, sb.st_size) << rel;
    }
    if (S_ISCHR(sa.st_mode) || S_ISBLK(sa.st_mode)) {
      EXPECT_EQ(sa.st_rdev, sb.st_rdev) << rel;
    }
    if (S_ISLNK(sa.st_mode)) {
      EXPECT_EQ(fs::read_symlink(pa), fs::read_symlink(pb)) << rel;
    }
    if (S_ISREG(sa.st_mode)) {
      EXPECT_TRUE(read_file(pa) == read_file(pb)) << "content of " << rel;
    }
    if (hard_links && !S_ISDIR(sa.st_mode)) {
      EXPECT_EQ(sa.st_nlink, sb.st_nlink) << rel;
      auto [it, fresh] = ino_map.emplace(sa.st_ino, sb.st_ino);
      EXPECT_EQ(it->second, sb.st_ino) << "hard link " << rel;
    }
    EXPECT_EQ(xattrs_of(pa), xattrs_of(pb)) << rel;
    ++n;
  }
  return n;
}

long cached_kib() {
  std::ifstream f("/proc/meminfo");
  std::string key, unit;
  long value;
  while (f >> key >> value >> unit) {
    if (key == "Cached:") return value;
  }
  return -1;
}

long cached_growth_reading(const fs::path& a, const fs::path& b, long low_kib, long high_kib, int attempts) {
  long grown = -1;
  for (int i = 0; i < attempts && !(grown >= low_kib && grown < high_kib); ++i) {
    ::sync();
    std::ofstream("/proc/sys/vm/drop_caches") << "3\n";
    long before = cached_kib();
    std::string da = read_file(a), db = read_file(b);
    grown = cached_kib() - before;
    EXPECT_TRUE(da == db);
  }
  return grown;
}

std::string patterned(std::size_t size) {
  std::string data(size, '\0');
  for (std::size_t i = 0; i < size; i += 4096) data[i] = static_cast<char>(i >> 12);
  return data;
}

std::string make_sha512_image(const fs::path& dir) {
  auto store = dir / "store";
  std::string dump = "/ 4096 40755 2 0 0 0 0.0 - - -\n";
  for (const auto& [name, data] : {std::pair<std::string, std::string>("big", patterned(300000)),
                                   std::pair<std::string, std::string>("small", std::string(5000, 's'))}) {
    write_file(dir / name, data);
    auto r = run({"fsverity", "digest", "--hash-alg=sha512", "--compact", (dir / name).string()});
    if (r.status != 0) return "fsverity digest: " + r.err;
    std::string hex = r.out.substr(0, r.out.find('\n'));
    if (hex.size() != 128) return "fsverity digest printed " + r.out;
    fs::create_directories(store / hex.substr(0, 2));
    fs::copy_file(dir / name, store / hex.substr(0, 2) / hex.substr(2));
    dump += "/" + name + " " + std::to_string(data.size()) + " 100644 1 0 0 0 0.0 " + hex.substr(0, 2) + "/" +
            hex.substr(2) + " - " + hex + "\n";
  }
  dump += "/tiny 5 100644 1 0 0 0 0.0 - tiny\\n -\n";
  auto r = run({tool("mkcomposefs"), "--from-file", "-", (dir / "sha512.cfs").string()}, dump);
  return r.status == 0 ? "" : "mkcomposefs: " + r.err;
}

std::string make_images_sharing_an_object(const fs::path& dir, std::size_t size) {
  auto src1 = dir / "src1", src2 = dir / "src2", store = dir / "store";
  fs::create_directories(src1);
  fs::create_directories(src2);
  {
    std::string big = patterned(size);
    write_file(src1 / "big", big);
    write_file(src2 / "big", big);
  }
  write_file(src2 / "other", "the images differ");
  for (const auto& [src, img] : {std::pair(src1, "1.cfs"), std::pair(src2, "2.cfs")}) {
    auto r = run({tool("mkcomposefs"), "--digest-store=" + store.string(), src.string(), (dir / img).string()});
    if (r.status != 0) return r.err;
  }
  if (read_file(dir / "1.cfs") == read_file(dir / "2.cfs")) return "the images are identical";
  return "";
}

bool kernel_has(const char* fs_name) {
  std::ifstream f("/proc/filesystems");
  std::string all((std::istreambuf_iterator<char>(f)), {});
  return all.find(fs_name) != std::string::npos || run({"modprobe", fs_name}).status == 0;
}

}  // namespace cfs::test
