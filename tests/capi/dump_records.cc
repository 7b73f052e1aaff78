// Test helper: a composefs-dump(5) file (stdin) as one record per entry (stdout), parsed by
// our dump parser, for build_from_records.c to rebuild with lcfs_node_* calls. A record:
//   INDEX PARENT NAME MODE NLINK UID GID RDEV SIZE MTIME_SEC MTIME_NSEC PAYLOAD CONTENT DIGEST
//   LINK N_XATTRS [XATTR_NAME XATTR_VALUE]...
// strings in hex, "-" for empty; PARENT and LINK are indexes ("-": none).
#include <cstdio>
#include <iostream>
#include <iterator>
#include <string>
#include <unordered_map>

#include "dump/parse.h"
#include "tree/tree.h"

namespace {

std::string hex(std::string_view s) {
  if (s.empty()) return "-";
  static const char digits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  bool strict = !(argc > 1 && std::string(argv[1]) == "--lax");
  std::string text((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
  cfs::tree::Tree tree = cfs::dump::parse(text, {.strict = strict});
  std::unordered_map<const cfs::tree::Node*, std::size_t> index;
  cfs::tree::preorder(*tree.root(), [&](const cfs::tree::Node& n, std::size_t) {
    index.emplace(&n, index.size());
    return true;
  });
  cfs::tree::preorder(*tree.root(), [&](const cfs::tree::Node& n, std::size_t) {
    std::string digest = n.digest ? hex(n.digest.bytes()) : "-";
    std::cout << index.at(&n) << ' ' << (n.parent ? std::to_string(index.at(n.parent)) : "-") << ' '
              << hex(n.name) << ' ' << n.mode << ' ' << n.nlink << ' ' << n.uid << ' ' << n.gid << ' '
              << n.rdev << ' ' << n.size << ' ' << n.mtime_sec << ' ' << n.mtime_nsec << ' '
              << hex(n.payload) << ' ' << hex(n.content) << ' ' << digest << ' '
              << (n.link ? std::to_string(index.at(n.link)) : "-") << ' ' << n.xattrs.size();
    for (const auto& x : n.xattrs) std::cout << ' ' << hex(x.name) << ' ' << hex(x.value);
    std::cout << '\n';
    return true;
  });
  return 0;
}
