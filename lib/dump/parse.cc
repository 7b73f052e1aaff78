#include "dump/parse.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <vector>

#include "base/error.h"
#include "format/composefs.h"
#include "dump/escape.h"
#include "tree/xattr_budget.h"

namespace cfs::dump {
namespace {

using format::kMaxInlineContent;
using format::kMaxNameLen;
using format::kMaxPathLen;
using format::kMaxXattrValue;
constexpr std::size_t kMaxXattrPart = 65535;  // an escaped key or value field, before decoding

[[noreturn]] void fail(const std::string& message) { throw Error(EINVAL, message); }

// PATH, PAYLOAD and xattr keys are C strings upstream: anything after an escaped NUL is lost.
std::string unescape_cstr(std::string_view field) {
  std::string s = unescape(field);
  if (auto nul = s.find('\0'); nul != std::string::npos) s.resize(nul);
  return s;
}

// A field decoded without allocating in the usual case: the token itself when it holds no
// escape, else decoded into `scratch` (cut at a NUL for C-string fields).
std::string_view decode(std::string_view field, std::string& scratch, bool cstr) {
  if (field.find('\\') == std::string_view::npos) return field;
  scratch = cstr ? unescape_cstr(field) : unescape(field);
  return scratch;
}

// strtoull over the whole token (leading blanks, sign and saturation included).
std::optional<std::uint64_t> parse_uint(std::string_view token, int base) {
  // Fast path for the usual case, plain digits too short to overflow: the same value.
  if (!token.empty() && token.size() <= (base == 8 ? 21U : 19U)) {
    std::uint64_t v = 0;
    bool plain = true;
    for (char c : token) {
      unsigned digit = static_cast<unsigned char>(c) - '0';
      if (digit >= static_cast<unsigned>(base)) {
        plain = false;
        break;
      }
      v = v * static_cast<unsigned>(base) + digit;
    }
    if (plain) return v;
  }
  char buf[64];
  if (token.empty() || token.size() >= sizeof buf) {
    if (token.empty()) return std::nullopt;
    // Longer than any number: only valid if strtoull would consume it all (it saturates).
    std::string copy(token);
    char* end = nullptr;
    std::uint64_t v = std::strtoull(copy.c_str(), &end, base);
    if (end != copy.c_str() + copy.size()) return std::nullopt;
    return v;
  }
  token.copy(buf, token.size());
  buf[token.size()] = '\0';
  char* end = nullptr;
  std::uint64_t v = std::strtoull(buf, &end, base);
  if (end == buf || *end != '\0') return std::nullopt;
  return v;
}

std::uint64_t require_uint(std::string_view token, int base = 10) {
  auto v = parse_uint(token, base);
  if (!v) fail("Invalid integer " + std::string(token));
  return *v;
}

bool valid_file_type(std::uint32_t mode) {
  switch (mode & S_IFMT) {
    case S_IFREG: case S_IFDIR: case S_IFLNK: case S_IFBLK: case S_IFCHR: case S_IFSOCK:
    case S_IFIFO:
      return true;
    default:
      return false;
  }
}

// Removes and returns the first '/'-separated component of `path` (empty for "//").
std::string_view next_component(std::string_view& path) {
  std::size_t sp = path.find('/');
  std::string_view comp = path.substr(0, sp);
  path = sp == std::string_view::npos ? std::string_view() : path.substr(sp + 1);
  return comp;
}

// Splits a line into the 11 fixed fields (missing ones empty) and the xattr part.
struct Fields {
  std::string_view f[11];
  std::string_view xattrs;
};

Fields split_fields(std::string_view line) {
  Fields out;
  std::size_t pos = 0;
  for (auto& field : out.f) {
    if (pos > line.size()) break;
    std::size_t sp = line.find(' ', pos);
    if (sp == std::string_view::npos) {
      field = line.substr(pos);
      pos = line.size() + 1;
    } else {
      field = line.substr(pos, sp - pos);
      pos = sp + 1;
    }
  }
  if (pos <= line.size()) out.xattrs = line.substr(pos);
  return out;
}

struct PendingLink {
  tree::Node* node;
  std::optional<std::string> target;  // nullopt: PAYLOAD was "-"
};

}  // namespace

class Parser {
 public:
  explicit Parser(const ParseOptions& options) : options_(options) {}

  void parse_line(std::string_view line) {
    if (auto nul = line.find('\0'); nul != std::string_view::npos) {
      fail("Invalid embedded NUL character at position " + std::to_string(nul));
    }
    Fields fl = split_fields(line);
    std::string_view path = decode(fl.f[0], path_buf_, true);
    if (path.empty()) fail("Invalid empty path");

    std::uint64_t size = require_uint(fl.f[1]);
    std::string_view mode_token = fl.f[2];
    bool hardlink = !mode_token.empty() && mode_token[0] == '@';
    if (hardlink) mode_token.remove_prefix(1);
    // An empty MODE (a double space before it) is mode 0 to upstream: "Invalid mode 0".
    auto mode = mode_token.empty() ? 0 : static_cast<std::uint32_t>(require_uint(mode_token, 8));
    if (!valid_file_type(mode)) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "Invalid mode %o", mode);
      fail(buf);
    }
    if (hardlink && S_ISDIR(mode)) fail("Directories can't be hardlinked");

    tree::Node* node = tree_.new_node();
    node->mode = mode;
    if (hardlink) {
      std::string_view target = fl.f[8];
      pending_links_.push_back(
          {node, target == "-" ? std::nullopt : std::optional(unescape_cstr(target))});
      attach(node, path);
      return;
    }
    node->size = size;
    node->nlink = static_cast<std::uint32_t>(require_uint(fl.f[3]));
    node->uid = static_cast<std::uint32_t>(require_uint(fl.f[4]));
    // Upstream checks the UID's result after parsing GID and RDEV: a bad GID or RDEV is only
    // reported when the UID is 0, and otherwise silently becomes 0.
    auto gid = parse_uint(fl.f[5], 10);
    auto rdev = parse_uint(fl.f[6], 10);
    if (node->uid == 0 && !gid) fail("Invalid integer " + std::string(fl.f[5]));
    if (node->uid == 0 && !rdev) fail("Invalid integer " + std::string(fl.f[6]));
    node->gid = static_cast<std::uint32_t>(gid.value_or(0));
    node->rdev = rdev.value_or(0);
    parse_mtime(fl.f[7], *node);

    std::optional<std::string_view> payload, content, digest;
    if (fl.f[8] != "-") payload = decode(fl.f[8], payload_buf_, true);
    if (fl.f[9] != "-") content = decode(fl.f[9], content_buf_, false);
    if (fl.f[10] != "-") digest = decode(fl.f[10], digest_buf_, false);
    parse_xattrs(fl.xattrs, *node);
    apply_fields(*node, payload, content, digest);
    attach(node, path);
  }

  tree::Tree finish() {
    resolve_links();
    return std::move(tree_);
  }

 private:
  static void parse_mtime(std::string_view token, tree::Node& node) {
    std::size_t dot = token.find('.');
    std::string_view sec = token.substr(0, dot);
    std::string_view nsec = dot == std::string_view::npos ? std::string_view() : token.substr(dot + 1);
    node.mtime_sec = static_cast<std::int64_t>(require_uint(sec));
    node.mtime_nsec = static_cast<std::uint32_t>(require_uint(nsec));
  }

  void parse_xattrs(std::string_view part, tree::Node& node) const {
    if (part.size() > kMaxXattrPart) fail("Too many xattrs");
    std::uint64_t budget = 0;
    while (!part.empty()) {
      std::size_t sp = part.find(' ');
      std::string_view token = part.substr(0, sp);
      part = sp == std::string_view::npos ? std::string_view() : part.substr(sp + 1);
      std::size_t eq = token.find('=');
      if (eq == std::string_view::npos) fail("Missing = in xattr");
      std::string key = unescape_cstr(token.substr(0, eq));
      std::string value = unescape(token.substr(eq + 1));
      if (key.empty() || key.size() > kMaxNameLen || value.size() > kMaxXattrValue ||
          !tree::set_xattr_budgeted(node.xattrs, budget, tree::Xattr{std::move(key), std::move(value)})) {
        fail("Can't set xattr");
      }
    }
  }

  void apply_fields(tree::Node& node, std::optional<std::string_view> payload,
                    std::optional<std::string_view> content, std::optional<std::string_view> digest) {
    if (options_.strict && node.rdev != 0 && !S_ISCHR(node.mode) && !S_ISBLK(node.mode)) {
      fail("Non-zero devnum on non-device");
    }
    if (content && content->size() != node.size) {
      fail("Invalid content size " + std::to_string(content->size()) + ", must match size " +
           std::to_string(node.size));
    }
    if (S_ISLNK(node.mode)) {
      if (!payload || payload->empty() || payload->size() > kMaxPathLen) fail("Invalid symlink");
      if (options_.strict && payload->size() != node.size) {
        fail("Invalid symlink size " + std::to_string(payload->size()) + ", must match size " +
             std::to_string(node.size));
      }
      if (options_.strict && content && !content->empty()) fail("Symlink cannot have content");
      node.size = payload->size();
      node.payload = tree_.keep(*payload);
      return;
    }
    if (payload && payload->size() > kMaxPathLen) fail("Invalid payload");
    if (!S_ISCHR(node.mode) && !S_ISBLK(node.mode)) node.rdev = 0;
    if (!S_ISREG(node.mode)) return;
    if (content && content->size() > kMaxInlineContent) {
      fail("Inline content size " + std::to_string(content->size()) + " exceeds maximum " +
           std::to_string(kMaxInlineContent));
    }
    if (node.size == 0) return;
    if (content) {
      node.content = tree_.keep(*content);
      return;
    }
    if (payload) node.payload = tree_.keep(*payload);
    if (digest) {
      // Upstream decodes only the first 64 digits and reads garbage for a short or bad one;
      // we reject those instead (the digest is stored in the image, so it must be exact).
      // Exactly 128 digits are a SHA-512 digest (composefs-rs dumps; upstream truncated them).
      std::optional<Digest> d = digest->size() == 128 ? parse_hex_digest(*digest, HashAlgorithm::kSha512)
                                : digest->size() >= 64 ? parse_hex_digest(digest->substr(0, 64), HashAlgorithm::kSha256)
                                                       : std::nullopt;
      if (!d) fail("Invalid digest");
      node.digest = tree_.keep(*d);
    }
  }

  // Finds the parent of `path` and adds `node` under its final name.
  void attach(tree::Node* node, std::string_view path) {
    if (path == "/") {
      if (tree_.root() != nullptr) fail("Can't have multiple roots");
      if (!S_ISDIR(node->mode) || node->is_alias()) fail("Root must be a directory");
      node->name = {};
      tree_.set_root(node);
      return;
    }
    if (tree_.root() == nullptr) fail("Root node not present");
    std::size_t start = path.find_first_not_of('/');
    std::string_view rel = start == std::string::npos ? std::string_view() : path.substr(start);
    std::size_t slash = rel.rfind('/');
    std::string_view name = slash == std::string_view::npos ? rel : rel.substr(slash + 1);
    std::string_view dir = slash == std::string_view::npos ? std::string_view() : rel.substr(0, slash);
    if (name == "." || name == "..") fail("Invalid . or .. in path: " + std::string(path));
    tree::Node* parent = last_parent_ != nullptr && dir == last_dir_ ? last_parent_ : lookup_parent(dir, path);
    node->name = tree_.keep(name);
    if (name.empty() || name.size() > kMaxNameLen || !tree_.add_child(parent, node)) {
      fail("Can't add child");
    }
  }

  // Walks to the directory `dir` (relative, possibly with empty components). Dumps list a
  // directory's entries together and depth-first, so the walk starts from the deepest
  // directory of the last walk that is also on this path.
  tree::Node* lookup_parent(std::string_view dir, std::string_view path) {
    std::size_t same = static_cast<std::size_t>(
        std::mismatch(dir.begin(), dir.end(), last_dir_.begin(), last_dir_.end()).first - dir.begin());
    tree::Node* parent = tree_.root();
    std::size_t pos = 0;
    for (; !last_steps_.empty(); last_steps_.pop_back()) {
      auto [end, node] = last_steps_.back();
      if (end <= same && (end == dir.size() || dir[end] == '/')) {
        parent = node;
        pos = end;
        break;
      }
    }
    last_dir_.assign(dir);
    for (std::string_view rest = dir.substr(pos); !rest.empty();) {
      std::string_view comp = next_component(rest);
      if (comp.empty()) continue;
      parent = parent->find_child(comp);
      if (parent == nullptr) fail("Parent directory missing for " + std::string(path));
      if (!parent->is_dir()) fail("Parent must be a directory for " + std::string(path));
      last_steps_.emplace_back(static_cast<std::size_t>(comp.data() + comp.size() - dir.data()), parent);
    }
    last_parent_ = parent;
    return parent;
  }

  // Resolves hard-link targets after the whole file is read (targets may come later).
  void resolve_links() {
    for (auto it = pending_links_.rbegin(); it != pending_links_.rend(); ++it) {
      if (!it->target) fail("No target path for the hardlink");
      tree::Node* target = lookup(*it->target);
      if (target == nullptr) fail("No target at " + *it->target + " for hardlink");
      if (target == it->node) fail("Self-referential hardlink " + it->node->path());
      it->node->link = target;
    }
    flatten_links();
  }

  // Points every alias straight at the inode it finally names: in a chain (C@B, B@A) each
  // later resolve() would walk the chain, quadratic in its length (60,000 links: 75 s).
  void flatten_links() {
    std::vector<tree::Node*> chain;
    for (const PendingLink& p : pending_links_) {
      chain.clear();
      tree::Node* n = p.node;
      while (n->link->link != nullptr) {  // n->link is itself an alias
        chain.push_back(n);
        if (chain.size() > pending_links_.size()) fail("Hardlink loop at " + p.node->path());
        n = n->link;
      }
      for (tree::Node* c : chain) c->link = n->link;
    }
  }

  tree::Node* lookup(std::string_view path) const {
    tree::Node* n = tree_.root();
    while (n != nullptr && !path.empty()) {
      std::string_view comp = next_component(path);
      if (!comp.empty()) n = n->find_child(comp);
    }
    return n;
  }

  ParseOptions options_;
  tree::Tree tree_;
  std::string path_buf_, payload_buf_, content_buf_, digest_buf_;  // for decode()
  std::string last_dir_;  // meaningful once last_parent_ is set
  tree::Node* last_parent_ = nullptr;
  // The directories the last walk passed: (end of their component in last_dir_, node).
  std::vector<std::pair<std::size_t, tree::Node*>> last_steps_;
  std::vector<PendingLink> pending_links_;
};

StreamParser::StreamParser(const ParseOptions& options) : parser_(std::make_unique<Parser>(options)), options_(options) {}
StreamParser::~StreamParser() = default;

void StreamParser::feed(std::string_view text) {
  if (text.empty()) return;
  fed_ = true;
  if (!partial_.empty()) {  // the end of a line begun by an earlier piece
    std::size_t lf = text.find('\n');
    partial_.append(text.substr(0, lf));
    if (lf == std::string_view::npos) return;
    parser_->parse_line(partial_);
    partial_.clear();
    text.remove_prefix(lf + 1);
  }
  for (std::size_t lf; (lf = text.find('\n')) != std::string_view::npos; text.remove_prefix(lf + 1)) {
    parser_->parse_line(text.substr(0, lf));
  }
  partial_.assign(text);
}

tree::Tree StreamParser::finish() {
  if (!fed_) fail("No files in dump file");
  if (!partial_.empty()) {
    if (options_.strict) fail("Missing trailing newline");
    parser_->parse_line(partial_);
  }
  return parser_->finish();
}

tree::Tree parse(std::string_view text, const ParseOptions& options) {
  StreamParser parser(options);
  parser.feed(text);
  return parser.finish();
}

}  // namespace cfs::dump
