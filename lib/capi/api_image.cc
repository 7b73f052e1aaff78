// lcfs-writer.h: writing an image of a node tree, loading one back (libcomposefs(3) "Images").
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "base/error.h"
#include "base/file_io.h"
#include "capi/boundary.h"
#include "capi/convert.h"
#include "format/erofs.h"
#include "libcomposefs/lcfs-writer.h"
#include "reader/image.h"
#include "reader/to_tree.h"
#include "verity/fsverity.h"
#include "writer/writer.h"

using cfs::Error;
using cfs::capi::int_call;
using cfs::capi::Node;
using cfs::capi::pointer_call;
using cfs::capi::require;

namespace {

// Hands the image to the caller's callback, which may take less than offered. Before each
// call errno is EIO, so a callback that fails without setting errno reports EIO (as upstream).
void write_through(const struct lcfs_write_options_s& o, std::span<const std::byte> bytes) {
  while (!bytes.empty()) {
    errno = EIO;
    ssize_t n = o.file_write_cb(o.file, const_cast<std::byte*>(bytes.data()), bytes.size());
    if (n <= 0) {
      int err = errno;
      throw Error(err, "write callback failed");
    }
    bytes = bytes.subspan(std::min(bytes.size(), static_cast<std::size_t>(n)));
  }
}

// Loader errors as upstream reports them: a corrupt image is EINVAL.
Node* load(std::span<const std::byte> bytes, const struct lcfs_read_options_s* opts) {
  if (bytes.size() < cfs::format::kBlockSize) throw Error(EINVAL, "image too small");
  cfs::reader::WalkOptions walk;
  if (opts != nullptr && opts->toplevel_entries != nullptr) {
    for (const char* const* e = opts->toplevel_entries; *e != nullptr; ++e) walk.filters.emplace_back(*e);
    if (walk.filters.empty()) walk.filters.emplace_back("/");  // no entry is named "/": only the root
  }
  try {
    cfs::reader::Image image = cfs::reader::Image::open(bytes);
    cfs::tree::Tree tree = cfs::reader::to_tree(image, walk);
    return cfs::capi::from_tree(*tree.root(), UINT16_MAX);
  } catch (const Error& e) {
    if (e.code() == EUCLEAN) throw Error(EINVAL, e.what());
    throw;
  }
}

Node* load_fd(int fd, const struct lcfs_read_options_s* opts) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) cfs::throw_errno(errno);
  if (!S_ISREG(st.st_mode)) throw Error(ENODEV, "not a regular file");  // what mmap says
  if (st.st_size == 0) throw Error(EINVAL, "empty image");
  cfs::MappedFile file = cfs::MappedFile::open(fd);  // the whole file from offset 0
  return load(file.bytes(), opts);
}

}  // namespace

extern "C" {

int lcfs_write_to(struct lcfs_node_s* root, struct lcfs_write_options_s* options) {
  return int_call([&] {
    require(root != nullptr && options != nullptr);
    struct lcfs_write_options_s& o = *options;
    if (o.flags != 0) throw Error(EINVAL, "unknown flags");
    if (o.version > LCFS_VERSION_MAX || o.max_version > LCFS_VERSION_MAX) throw Error(EINVAL, "unknown version");
    if (o.max_version < o.version) o.max_version = o.version;
    if (o.format != LCFS_FORMAT_EROFS) throw Error(EINVAL, "unknown format");
    cfs::tree::Tree tree = cfs::capi::to_tree(*root);
    cfs::verity::Hasher hasher;
    std::uint32_t version = cfs::writer::write(tree, {o.version, o.max_version}, [&](std::span<const std::byte> bytes) {
      if (o.digest_out != nullptr) hasher.update(bytes);
      if (o.file_write_cb != nullptr) write_through(o, bytes);
    });
    o.version = version;
    if (o.digest_out != nullptr) {
      cfs::Digest d = hasher.finish();
      std::memcpy(o.digest_out, d.data(), d.size());
    }
  });
}

struct lcfs_node_s* lcfs_load_node_from_image(const uint8_t* image_data, size_t image_data_size) {
  return lcfs_load_node_from_image_ext(image_data, image_data_size, nullptr);
}

struct lcfs_node_s* lcfs_load_node_from_image_ext(const uint8_t* image_data, size_t image_data_size,
                                                  const struct lcfs_read_options_s* opts) {
  return pointer_call<Node>([&] {
    require(image_data != nullptr || image_data_size == 0);
    return load({reinterpret_cast<const std::byte*>(image_data), image_data_size}, opts);
  });
}

struct lcfs_node_s* lcfs_load_node_from_fd(int fd) { return lcfs_load_node_from_fd_ext(fd, nullptr); }

struct lcfs_node_s* lcfs_load_node_from_fd_ext(int fd, const struct lcfs_read_options_s* opts) {
  return pointer_call<Node>([&] { return load_fd(fd, opts); });
}

// The header's image format version; read with pread, so an empty file is EINVAL (upstream
// died of SIGBUS) and the file offset stays where it was.
int lcfs_version_from_fd(int fd) {
  cfs::format::ComposefsHeader header{};
  int version = -1;
  int err = cfs::capi::errno_of([&] {
    ssize_t n = ::pread(fd, &header, sizeof header, 0);
    if (n < 0) cfs::throw_errno(errno);
    if (header.magic != cfs::format::kComposefsMagic || header.version != cfs::format::kComposefsHeaderVersion) {
      throw Error(EINVAL, "not a composefs image");
    }
    version = static_cast<int>(static_cast<std::uint32_t>(header.composefs_version));
  });
  if (err != 0) errno = err;
  return version;
}

}  // extern "C"
