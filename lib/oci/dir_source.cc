// dir:PATH, skopeo's directory transport: manifest.json (the image's manifest as the source
// served it), `version`, and every blob as a file named by its hex digest. Layer: oci.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "base/error.h"
#include "oci/local_sources.h"
#include "verity/sha256.h"

namespace cfs::oci {
namespace {

constexpr std::uint64_t kMaxManifest = 16 << 20;

class DirSource final : public ImageSource {
 public:
  explicit DirSource(const std::string& dir) : dir_(dir) {
    fd_.reset(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd_) throw Error(errno, "opening directory " + dir + ": " + std::strerror(errno));
  }
  std::string reference() const override { return ""; }

  std::pair<std::string, std::string> fetch_manifest(const std::string& reference) override {
    auto [fd, size] = open_file("manifest.json");
    if (size > kMaxManifest) throw_corrupt(dir_ + "/manifest.json is larger than 16 MiB");
    std::string text(size, '\0');
    std::unique_ptr<BlobReader> r = file_range_reader(std::move(fd), 0, size);
    for (std::size_t got = 0; got < size;)
      got += r->read_some(std::as_writable_bytes(std::span(text)).subspan(got));
    // One manifest only: an index's entry is found when it is the one skopeo copied.
    if (!reference.empty() && verity::sha256_digest(text) != reference) {
      throw Error(ENOENT,
                  dir_ + " holds manifest " + verity::sha256_digest(text) + ", not " + reference);
    }
    return {text, ""};
  }

  std::unique_ptr<BlobReader> open_blob(const Descriptor& blob) override {
    if (!verity::is_sha256_digest(blob.digest)) throw_corrupt("unsupported digest " + blob.digest);
    auto [fd, size] = open_file(blob.digest.substr(7));
    return file_range_reader(std::move(fd), 0, size);
  }

 private:
  std::pair<UniqueFd, std::uint64_t> open_file(const std::string& name) {
    UniqueFd fd(::openat(fd_.get(), name.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
    if (!fd) throw Error(errno, "directory " + dir_ + ": " + name + ": " + std::strerror(errno));
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode))
      throw Error(EINVAL, "directory " + dir_ + ": " + name + " is not a regular file");
    return {std::move(fd), static_cast<std::uint64_t>(st.st_size)};
  }

  std::string dir_;
  UniqueFd fd_;
};

}  // namespace

std::unique_ptr<ImageSource> open_dir(const std::string& dir) {
  return std::make_unique<DirSource>(dir);
}

}  // namespace cfs::oci
