// A streaming reader of OCI layer tars (V7, ustar, GNU and PAX), with the rules composefs-rs
// 0.9 applies (../shared/spec/oci-import.md §3): checksums checked, PAX > GNU > ustar for
// names, SCHILY.xattr.* kept, global headers skipped, sparse files and odd types refused,
// paths normalised ("/a/b", never ".."). A layer is hostile input: every field is checked
// (a number too large for what holds it is refused, never truncated, where composefs-rs keeps
// a uid's low 32 bits; a NUL in a path or link target is refused), extension data is bounded
// (1 MiB per entry, 16 extension headers), and a violation is an Error naming the entry.
// Bodies are not read here: TarInput::body() decides what becomes of them (an import stores
// them, a stored layer names them). Layer: oci.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/digest.h"
#include "tree/tree.h"

namespace cfs::oci {

// composefs-rs keeps regular files up to this size in the image (and inline in a layer's
// splitstream); larger ones are objects.
inline constexpr std::uint64_t kInlineMax = 64;

enum class EntryType : std::uint8_t { kRegular, kHardLink, kSymlink, kCharDevice, kBlockDevice, kDirectory, kFifo };

// A regular file's body: its bytes when small (≤ kInlineMax), else the object holding them.
struct FileBody {
  std::string bytes;
  std::optional<Digest> object;
};

struct TarEntry {
  std::string path;  // normalised: "/" for the root, else "/a/b"
  EntryType type = EntryType::kRegular;
  std::uint32_t mode = 0;  // permission bits and setuid/setgid/sticky (12 bits)
  std::uint32_t uid = 0, gid = 0;
  std::int64_t mtime_sec = 0;
  std::uint32_t mtime_nsec = 0;
  std::uint64_t size = 0;  // regular files
  std::uint64_t rdev = 0;  // devices (Linux makedev encoding)
  std::string link;        // symlink target (as stored) or hard-link target (normalised path)
  std::vector<tree::Xattr> xattrs;
  FileBody body;           // regular files
};

// The entry's file type bits (S_IFREG…; 0 for a hard link, which has none of its own) with its
// permissions, owner, mtime and xattrs onto `n`.
void set_node_metadata(tree::Node& n, const TarEntry& e);

// The uncompressed layer, as the reader consumes it.
class TarInput {
 public:
  virtual ~TarInput() = default;
  // Up to buf.size() bytes of headers, extension data and padding; 0 at the end of the stream.
  virtual std::size_t read_some(std::span<std::byte> buf) = 0;
  // Consumes the `size` bytes of a regular file's body (not its padding); `path` is the
  // entry's, as messages show it.
  virtual FileBody body(const std::string& path, std::uint64_t size) = 0;
};

// Exactly buf.size() bytes, else Error(EUCLEAN) "truncated".
void read_exact(TarInput& in, std::span<std::byte> buf);
// A small body (≤ kInlineMax) read as bytes through read_some (so it is recorded and hashed
// as the headers are).
FileBody read_inline_body(TarInput& in, std::uint64_t size);

class TarReader {
 public:
  explicit TarReader(TarInput& in) : in_(in) {}
  // The next entry with its body consumed; nullopt after the end-of-archive blocks (the bytes
  // after them are consumed too, as part of the layer's stream). Throws Error.
  std::optional<TarEntry> next();

 private:
  TarInput& in_;
  bool ended_ = false;
};

// Bytes of a layer as messages show them (control bytes, NULs, backslashes and non-ASCII
// escaped): the form of TarInput::body()'s `path`.
std::string escaped(std::string_view bytes);

// "/" + path without "./", empty components, or trailing slashes; Error on "..".
std::string normalize_tar_path(std::string_view path);

}  // namespace cfs::oci
