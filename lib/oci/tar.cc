#include "oci/tar.h"

#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <string_view>

#include "base/error.h"
#include "dump/escape.h"

namespace cfs::oci {
namespace {

constexpr std::size_t kBlock = 512;
constexpr std::size_t kMaxExtensionBytes = 1 << 20;  // per entry
constexpr int kMaxExtensionHeaders = 16;

// The largest value each numeric field may have. Nothing is truncated to fit: a uid of 2^32
// must not become 0 (root), a major of 4096 must not become 0 (a whiteout).
constexpr std::uint64_t kMaxMode = 0177777;          // the file type (dropped) + 12 permission bits
constexpr std::uint64_t kMaxId = UINT32_MAX;         // uid, gid
constexpr std::uint64_t kMaxSize = INT64_MAX;        // size (an off_t)
constexpr std::uint64_t kMaxSeconds = INT64_MAX;     // mtime (negative times are refused)
constexpr std::uint64_t kMaxMajor = (1U << 12) - 1;  // the 32-bit dev_t an EROFS inode stores
constexpr std::uint64_t kMaxMinor = (1U << 20) - 1;

using Block = std::array<std::byte, kBlock>;

[[noreturn]] void bad(const std::string& what) { throw_corrupt("tar layer: " + what); }

std::string_view field(const Block& b, std::size_t at, std::size_t len) {
  std::string_view s(reinterpret_cast<const char*>(b.data()) + at, len);
  return s.substr(0, std::min(s.find('\0'), s.size()));
}

// An octal or base-256 numeric header field.
std::uint64_t number(const Block& b, std::size_t at, std::size_t len, const char* what) {
  auto bytes = std::span(b).subspan(at, len);
  auto first = std::to_integer<std::uint8_t>(bytes[0]);
  if (first & 0x80) {
    if (first != 0x80) bad(std::string("negative or oversized ") + what + " field");
    std::uint64_t v = 0;
    for (std::size_t i = 1; i < len; ++i) {
      if (v >> 56) bad(std::string("oversized ") + what + " field");
      v = (v << 8) | std::to_integer<std::uint8_t>(bytes[i]);
    }
    return v;
  }
  std::string_view s(reinterpret_cast<const char*>(bytes.data()), len);
  std::size_t i = 0;
  while (i < s.size() && s[i] == ' ') ++i;
  std::uint64_t v = 0;
  for (; i < s.size() && s[i] >= '0' && s[i] <= '7'; ++i) {
    if (v >> 60) bad(std::string("oversized ") + what + " field");
    v = v * 8 + static_cast<std::uint64_t>(s[i] - '0');
  }
  for (; i < s.size(); ++i) {
    if (s[i] != ' ' && s[i] != '\0') bad(std::string("invalid ") + what + " field");
  }
  return v;
}

bool checksum_ok(const Block& b) {
  std::uint64_t expected = number(b, 148, 8, "checksum");
  std::uint64_t unsigned_sum = 0;
  std::int64_t signed_sum = 0;
  for (std::size_t i = 0; i < kBlock; ++i) {
    auto c = (i >= 148 && i < 156) ? std::byte{' '} : b[i];
    unsigned_sum += std::to_integer<std::uint8_t>(c);
    signed_sum += static_cast<std::int8_t>(std::to_integer<std::uint8_t>(c));
  }
  return expected == unsigned_sum || static_cast<std::int64_t>(expected) == signed_sum;
}

bool all_zero(const Block& b) {
  return std::all_of(b.begin(), b.end(), [](std::byte c) { return c == std::byte{0}; });
}

// Reads one block: false at a clean end of stream (no byte), Error on a partial block.
bool read_block(TarInput& in, Block& b) {
  std::size_t got = 0;
  while (got < kBlock) {
    std::size_t n = in.read_some(std::span(b).subspan(got));
    if (n == 0) {
      if (got == 0) return false;
      bad("truncated header");
    }
    got += n;
  }
  return true;
}

void skip_padding(TarInput& in, std::uint64_t size) {
  std::size_t pad = (kBlock - size % kBlock) % kBlock;
  Block scratch;
  read_exact(in, std::span(scratch).first(pad));
}

std::uint64_t parse_decimal(std::string_view s, const std::string& what) {
  std::uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec == std::errc::result_out_of_range) bad("PAX " + what + " value '" + std::string(s) + "' out of range");
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) bad("invalid PAX " + what + " value '" + escaped(s) + "'");
  return v;
}

// `v`, which must be at most `max`.
std::uint64_t in_range(std::uint64_t v, std::uint64_t max, const std::string& path, const char* what) {
  if (v > max) bad(path + ": " + what + " " + std::to_string(v) + " out of range (at most " + std::to_string(max) + ")");
  return v;
}

// What the extension headers before an entry said.
struct Extensions {
  std::optional<std::string> path, linkpath, gnu_name, gnu_link;
  std::optional<std::uint64_t> size, uid, gid;
  std::optional<std::pair<std::uint64_t, std::uint32_t>> mtime;
  std::vector<tree::Xattr> xattrs;
  std::size_t bytes = 0;
  int headers = 0;
};

std::pair<std::uint64_t, std::uint32_t> parse_pax_time(std::string_view s) {
  if (s.starts_with('-')) bad("negative PAX mtime '" + escaped(s) + "'");
  std::size_t dot = s.find('.');
  std::uint64_t sec = parse_decimal(s.substr(0, dot), "mtime");
  std::uint32_t nsec = 0;
  if (dot != std::string_view::npos) {
    std::string_view frac = s.substr(dot + 1);
    bool digits = !frac.empty() && std::all_of(frac.begin(), frac.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (digits) {
      for (std::size_t i = 0; i < 9; ++i) nsec = nsec * 10 + (i < frac.size() ? static_cast<std::uint32_t>(frac[i] - '0') : 0);
    }
  }
  return {sec, nsec};
}

void parse_pax(std::string_view data, Extensions& ext) {
  while (!data.empty()) {
    std::size_t space = data.find(' ');
    if (space == std::string_view::npos) bad("malformed PAX record");
    std::uint64_t len = parse_decimal(data.substr(0, space), "record length");
    if (len <= space + 1 || len > data.size() || data[len - 1] != '\n') bad("malformed PAX record");
    std::string_view record = data.substr(space + 1, len - space - 2);
    data.remove_prefix(len);
    std::size_t eq = record.find('=');
    if (eq == std::string_view::npos) bad("malformed PAX record");
    std::string_view key = record.substr(0, eq), value = record.substr(eq + 1);
    if (key.starts_with("GNU.sparse.")) bad("sparse files are not supported");
    if (key.starts_with("SCHILY.xattr.")) {
      std::string name(key.substr(13));
      std::erase_if(ext.xattrs, [&](const tree::Xattr& x) { return x.name == name; });
      ext.xattrs.push_back({name, std::string(value)});
      continue;
    }
    if (value.empty()) continue;  // an empty value unsets: the header's field applies
    if (key == "path") ext.path = value;
    else if (key == "linkpath") ext.linkpath = value;
    else if (key == "size") ext.size = parse_decimal(value, "size");
    else if (key == "uid") ext.uid = parse_decimal(value, "uid");
    else if (key == "gid") ext.gid = parse_decimal(value, "gid");
    else if (key == "mtime") ext.mtime = parse_pax_time(value);
  }
}

std::string strip_nuls(std::string s) {
  while (!s.empty() && s.back() == '\0') s.pop_back();
  return s;
}

}  // namespace

std::string escaped(std::string_view bytes) {
  std::string out;
  dump::append_escaped(out, bytes, dump::EscapeMode::kSpaceRaw);
  return out;
}

void read_exact(TarInput& in, std::span<std::byte> buf) {
  std::size_t got = 0;
  while (got < buf.size()) {
    std::size_t n = in.read_some(buf.subspan(got));
    if (n == 0) bad("truncated stream");
    got += n;
  }
}

FileBody read_inline_body(TarInput& in, std::uint64_t size) {
  FileBody b;
  b.bytes.resize(size);
  read_exact(in, std::as_writable_bytes(std::span(b.bytes)));
  return b;
}

std::string normalize_tar_path(std::string_view path) {
  std::string out;
  while (!path.empty()) {
    std::size_t slash = std::min(path.find('/'), path.size());
    std::string_view part = path.substr(0, slash);
    path.remove_prefix(std::min(slash + 1, path.size()));
    if (part.empty() || part == ".") continue;
    if (part == "..") bad("a path leaves the layer ('..')");
    out += '/';
    out += part;
  }
  return out.empty() ? "/" : out;
}

std::optional<TarEntry> TarReader::next() {
  if (ended_) return std::nullopt;
  Extensions ext;
  Block b;
  for (;;) {
    if (!read_block(in_, b)) {  // the stream ends at a header boundary: accepted as the end
      ended_ = true;
      return std::nullopt;
    }
    if (all_zero(b)) {
      if (!read_block(in_, b)) bad("truncated end of archive");
      if (!all_zero(b)) bad("a single zero block inside the archive");
      ended_ = true;
      for (Block rest; in_.read_some(rest) != 0;) {  // padding after the end: part of the stream
      }
      return std::nullopt;
    }
    if (!checksum_ok(b)) bad("header checksum mismatch");
    std::string_view magic = field(b, 257, 6);
    bool ustar = magic.starts_with("ustar");  // POSIX "ustar\0" and GNU "ustar  \0"
    bool posix = ustar && std::to_integer<char>(b[262]) == '\0';
    char type = std::to_integer<char>(b[156]);
    std::uint64_t size = number(b, 124, 12, "size");
    if (ustar && (type == 'x' || type == 'g' || type == 'L' || type == 'K')) {
      if (++ext.headers > kMaxExtensionHeaders) bad("too many extension headers for one entry");
      if (size > kMaxExtensionBytes || (ext.bytes += size) > kMaxExtensionBytes) bad("extension headers over 1 MiB");
      std::string data(size, '\0');
      read_exact(in_, std::as_writable_bytes(std::span(data)));
      skip_padding(in_, size);
      if (type == 'x') parse_pax(data, ext);
      else if (type == 'L') ext.gnu_name = strip_nuls(std::move(data));
      else if (type == 'K') ext.gnu_link = strip_nuls(std::move(data));
      continue;  // 'g': global headers are skipped, not applied
    }
    TarEntry e;
    std::string name = ext.path ? *ext.path : ext.gnu_name ? *ext.gnu_name : std::string(field(b, 0, 100));
    if (!ext.path && !ext.gnu_name && posix && !field(b, 345, 155).empty()) {
      name = std::string(field(b, 345, 155)) + "/" + name;
    }
    if (name.empty()) bad("an entry with an empty path");
    e.path = normalize_tar_path(name);
    const std::string where = escaped(e.path);  // the path as messages show it
    if (e.path.find('\0') != std::string::npos) bad(where + ": a path with a NUL byte");
    std::string link = ext.linkpath ? *ext.linkpath : ext.gnu_link ? *ext.gnu_link : std::string(field(b, 157, 100));
    switch (type) {
      case '0': case '\0': case '7': e.type = EntryType::kRegular; break;
      case '1': e.type = EntryType::kHardLink; break;
      case '2': e.type = EntryType::kSymlink; break;
      case '3': e.type = EntryType::kCharDevice; break;
      case '4': e.type = EntryType::kBlockDevice; break;
      case '5': e.type = EntryType::kDirectory; break;
      case '6': e.type = EntryType::kFifo; break;
      case 'S': bad(where + ": sparse files are not supported");
      default: bad(where + ": unsupported entry type '" + escaped(std::string(1, type)) + "'");
    }
    e.mode = static_cast<std::uint32_t>(in_range(number(b, 100, 8, "mode"), kMaxMode, where, "mode") & 07777);
    e.uid = static_cast<std::uint32_t>(in_range(ext.uid ? *ext.uid : number(b, 108, 8, "uid"), kMaxId, where, "uid"));
    e.gid = static_cast<std::uint32_t>(in_range(ext.gid ? *ext.gid : number(b, 116, 8, "gid"), kMaxId, where, "gid"));
    auto [sec, nsec] = ext.mtime ? *ext.mtime : std::pair{number(b, 136, 12, "mtime"), 0U};
    e.mtime_sec = static_cast<std::int64_t>(in_range(sec, kMaxSeconds, where, "mtime"));
    e.mtime_nsec = nsec;
    e.xattrs = std::move(ext.xattrs);
    size = in_range(ext.size ? *ext.size : size, kMaxSize, where, "size");
    if (e.type != EntryType::kRegular && size != 0) bad(where + ": a non-regular entry with data");
    if (e.type == EntryType::kHardLink || e.type == EntryType::kSymlink) {
      if (link.empty()) bad(where + ": a link without a target");
      if (link.find('\0') != std::string::npos) bad(where + ": a link target with a NUL byte: '" + escaped(link) + "'");
      e.link = e.type == EntryType::kHardLink ? normalize_tar_path(link) : link;
    }
    if (e.type == EntryType::kCharDevice || e.type == EntryType::kBlockDevice) {
      std::uint64_t major = in_range(number(b, 329, 8, "devmajor"), kMaxMajor, where, "device major");
      std::uint64_t minor = in_range(number(b, 337, 8, "devminor"), kMaxMinor, where, "device minor");
      e.rdev = ((minor & 0xFFF00) << 12) | (major << 8) | (minor & 0xFF);  // Linux makedev
    }
    if (e.type == EntryType::kRegular) {
      e.size = size;
      e.body = in_.body(where, size);
      skip_padding(in_, size);
    }
    return e;
  }
}

void set_node_metadata(tree::Node& n, const TarEntry& e) {
  std::uint32_t type = 0;
  switch (e.type) {
    case EntryType::kRegular: type = S_IFREG; break;
    case EntryType::kSymlink: type = S_IFLNK; break;
    case EntryType::kCharDevice: type = S_IFCHR; break;
    case EntryType::kBlockDevice: type = S_IFBLK; break;
    case EntryType::kDirectory: type = S_IFDIR; break;
    case EntryType::kFifo: type = S_IFIFO; break;
    case EntryType::kHardLink: break;
  }
  n.mode = type | e.mode;
  n.uid = e.uid;
  n.gid = e.gid;
  n.mtime_sec = e.mtime_sec;
  n.mtime_nsec = e.mtime_nsec;
  n.xattrs = e.xattrs;
}

}  // namespace cfs::oci
