#include "dump/print.h"

#include <cinttypes>
#include <cstdio>
#include <functional>
#include <unordered_map>

#include "base/error.h"
#include "dump/escape.h"

namespace cfs::dump {
namespace {

constexpr std::size_t kFlushAt = 1 << 16;

// Visits every entry depth-first in name order. For each entry the callback gets its path,
// the inode it names (aliases resolved) and, when that inode was already visited under
// another path, that first path (the "primary").
using EntryVisitor = std::function<void(const std::string& path, const tree::Node& inode, const std::string* primary)>;

void walk(const tree::Node& root, const EntryVisitor& visit, bool track) {
  std::unordered_map<const tree::Node*, std::string> primaries;
  std::string path;
  std::vector<std::size_t> ends;  // ends[d]: where the path of the entry at depth d ends
  tree::preorder(root, [&](const tree::Node& entry, std::size_t depth) {
    if (depth == 0) {
      path.assign(1, '/');
    } else {
      path.resize(ends[depth - 1]);
      if (depth > 1) path.push_back('/');
      path.append(entry.name.data(), entry.name.size());
    }
    ends.resize(depth + 1);
    ends[depth] = path.size();
    const tree::Node* inode = entry.resolve();
    if (inode == nullptr) throw Error(ELOOP, "hard-link loop at " + path);
    const std::string* primary = nullptr;
    if (track) {
      auto [it, inserted] = primaries.try_emplace(inode, path);
      if (!inserted) primary = &it->second;
    }
    visit(path, *inode, primary);
    return primary == nullptr && entry.is_dir();
  });
}

bool has_aliases(const tree::Node& root) {
  bool found = false;
  tree::preorder(root, [&](const tree::Node& n, std::size_t) {
    found = found || n.is_alias();
    return !found;
  });
  return found;
}

void append_optional(std::string& out, std::string_view value) {
  if (value.empty()) {
    out += '-';
  } else if (value == "-") {
    out += "\\x2d";
  } else {
    append_escaped(out, value, EscapeMode::kField);
  }
}

}  // namespace

void append_line(std::string& out, std::string_view path, const tree::Node& n,
                 const std::string* primary) {
  append_escaped(out, path, EscapeMode::kField);
  char buf[160];
  std::snprintf(buf, sizeof buf, " %" PRIu64 " %s%o %" PRIu32 " %" PRIu32 " %" PRIu32 " %" PRIu64
                " %" PRId64 ".%" PRIu32 " ",
                n.size, primary ? "@" : "", n.mode, n.nlink, n.uid, n.gid, n.rdev, n.mtime_sec,
                n.mtime_nsec);
  out += buf;
  if (primary != nullptr) {
    // The root's path is "" here: upstream joins "" + "/" + name for everything below it.
    append_escaped(out, *primary == "/" ? std::string_view() : std::string_view(*primary),
                   EscapeMode::kField);
  } else {
    append_optional(out, n.payload);
  }
  out += ' ';
  append_optional(out, n.content);
  out += ' ';
  out += n.digest ? to_hex(*n.digest) : "-";
  for (const tree::Xattr& x : n.xattrs) {
    out += ' ';
    append_escaped(out, x.name, EscapeMode::kXattr);
    out += '=';
    append_escaped(out, x.value, EscapeMode::kXattr);
  }
  out += '\n';
}

void append_composefs_rs_link_line(std::string& out, std::string_view path, std::string_view primary) {
  append_escaped(out, path, EscapeMode::kField);
  out += " 0 @120000 - - - - 0.0 ";
  append_escaped(out, primary, EscapeMode::kField);
  out += " - -\n";
}

void print(const tree::Tree& tree, const TextSink& out) {
  if (tree.root() == nullptr) return;
  std::string buf;
  walk(*tree.root(), [&](const std::string& path, const tree::Node& inode, const std::string* primary) {
    append_line(buf, path, inode, primary);
    if (buf.size() >= kFlushAt) {
      out(buf);
      buf.clear();
    }
  }, has_aliases(*tree.root()));
  if (!buf.empty()) out(buf);
}

std::string print_to_string(const tree::Tree& tree) {
  std::string all;
  print(tree, [&](std::string_view chunk) { all += chunk; });
  return all;
}

}  // namespace cfs::dump
