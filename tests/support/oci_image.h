// Test images made here, byte by byte: tar layers (ustar headers, PAX records when asked or
// needed), gzip/zstd blobs (several members/frames on request), OCI image layouts and
// `docker save` archives. Hostile inputs are made by editing the bytes these return.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace cfs::test {

struct TarMember {
  std::string name;
  char type = '0';    // '0' file, '1' hard link, '2' symlink, '5' directory, '3'/'4' devices, '6' FIFO
  std::string data;   // a file's bytes
  std::string link;   // link target
  std::uint32_t mode = 0644;
  std::int64_t mtime = 1234567890;
  std::uint32_t uid = 0, gid = 0;
  std::uint32_t major = 0, minor = 0;
  std::map<std::string, std::string> pax;  // extra PAX records (SCHILY.xattr.*, mtime, path…)
};

inline TarMember dir(std::string name, std::int64_t mtime = 1234567890, std::uint32_t mode = 0755) {
  return {.name = std::move(name), .type = '5', .mode = mode, .mtime = mtime};
}
inline TarMember file(std::string name, std::string data, std::int64_t mtime = 1234567890) {
  return {.name = std::move(name), .type = '0', .data = std::move(data), .mtime = mtime};
}
inline TarMember hardlink(std::string name, std::string target) {
  return {.name = std::move(name), .type = '1', .link = std::move(target)};
}
inline TarMember symlink(std::string name, std::string target) {
  return {.name = std::move(name), .type = '2', .link = std::move(target), .mode = 0777};
}

// The tar stream (with its two end blocks).
std::string make_tar(const std::vector<TarMember>& members);
// composefs-rs's CLI test layer (oci-import.md §13): /usr, a file and a hard link to it.
std::string conformance_layer();
// `cfsctl --repo REPO init --insecure --algorithm ALGORITHM` (a test failure if it fails).
std::filesystem::path init_insecure_repo(const std::filesystem::path& repo, const std::string& algorithm = "fsverity-sha512-12");
// One 512-byte header as make_tar writes it (for hand-made hostile streams).
std::string tar_header(const TarMember& m, std::uint64_t size);

std::string gzip(const std::string& data, int members = 1);
std::string zstd(const std::string& data, int frames = 1, bool skippable_frame = false);

struct Layer {
  std::string tar;
  std::string compression = "gzip";  // "gzip", "zstd" or "none"
};

struct WrittenImage {
  std::string manifest_digest, config_digest;
  std::vector<std::string> diff_ids, blob_digests;
};

// An OCI image layout (index.json naming the image `tag`), adding to what `dir` holds; the
// config's Labels are `labels`.
WrittenImage write_layout(const std::filesystem::path& dir, const std::vector<Layer>& layers, const std::string& tag,
                          const std::map<std::string, std::string>& labels = {});
// A `docker save` archive (manifest.json, <hex>.json config, <n>/layer.tar) of uncompressed layers.
// `symlinks` (layer index → target as stored) makes those <n>/layer.tar symlinks instead, as
// older Docker wrote repeated layers.
WrittenImage write_docker_archive(const std::filesystem::path& file, const std::vector<std::string>& layer_tars,
                                  const std::string& repo_tag, const std::map<std::size_t, std::string>& symlinks = {});

std::string sha256_digest(const std::string& data);  // "sha256:<hex>"

}  // namespace cfs::test
