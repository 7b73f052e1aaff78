// cfsctl fetch, and the image half of mount --remote: images and their objects from HTTP
// mirrors of a repository (lib/mirror), checked against their digests. Layer: tools.
#include "cfsctl/remote_commands.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <iostream>
#include <mutex>
#include <thread>

#include "base/error.h"
#include "base/file_io.h"
#include "base/output_file.h"
#include "cfsctl/cfsctl.h"
#include "mirror/prefetch.h"
#include "reader/image.h"
#include "verity/fsverity.h"
#include "repo/layout.h"

namespace cfs::cfsctl {
namespace {

constexpr std::uint64_t kMaxImage = 1ull << 30;  // an image from a mirror: at most 1 GiB
constexpr unsigned kParallel = 16;               // objects downloading at once

}  // namespace

mirror::MirrorOptions mirror_options() { return {.parallel = kParallel}; }

Digest fetch_image(repo::Repository& repo, const std::string& name, mirror::Mirrors& mirrors, bool by_mirror_name) {
  std::optional<Digest> digest = repo.resolve_image(name);
  if (!digest && !by_mirror_name) {
    throw Error(ENOENT, "image not found: " + name + " (an image not in the repository is named by its digest)");
  }
  if (digest && repo.objects().contains(*digest)) return *digest;
  std::string path = digest ? "images/" + to_hex(*digest) : "images/refs/" + name;
  store::ObjectStore::Ingested got = mirrors.fetch(path, digest, kMaxImage, repo.objects());
  repo.objects().flush();
  return got.digest;
}

FetchedObjects fetch_image_objects(repo::Repository& repo, const Digest& image, mirror::Mirrors& mirrors) {
  UniqueFd fd = repo.open_object(image);
  MappedFile file = MappedFile::open(fd.get());
  reader::Image img = reader::Image::open(file.bytes());
  std::vector<mirror::WantedObject> wanted = mirror::image_objects(img);
  store::ObjectStore& store = repo.objects();
  FetchedObjects result;
  result.total = wanted.size();
  std::mutex mutex;
  std::atomic<std::size_t> next{0};
  auto work = [&] {
    for (std::size_t i; (i = next++) < wanted.size();) {
      const mirror::WantedObject& w = wanted[i];
      try {
        Digest d = mirror::digest_to_check(w.ref());
        if (store.contains(d)) continue;
        mirrors.fetch("objects/" + w.path, d, w.size, store);
        std::lock_guard lock(mutex);
        ++result.fetched;
      } catch (const Error& e) {
        std::lock_guard lock(mutex);
        if (result.failed++ == 0) result.first_error = w.path + ": " + e.what();
      }
    }
  };
  std::vector<std::thread> threads;
  for (unsigned i = 0; i < kParallel; ++i) threads.emplace_back(work);
  for (std::thread& t : threads) t.join();
  store.flush();
  result.bytes = mirrors.stats().bytes;
  return result;
}

int cmd_fetch(const Global& g, Args& a) {
  std::vector<std::string> pos = a.positionals(2, 2, "<URL> <NAME>");
  mirror::Mirrors mirrors({pos[0]}, mirror_options());
  auto repo = repo::Repository::open(repo_path(g), g.open);
  repo->check_writable();
  const std::string& name = pos[1];
  Digest image = fetch_image(*repo, name, mirrors, true);
  FetchedObjects objects = fetch_image_objects(*repo, image, mirrors);
  if (objects.failed > 0) {
    throw Error(EIO, std::to_string(objects.failed) + " of " + std::to_string(objects.total) +
                         " objects could not be fetched (the image is not linked; run fetch again to resume): " +
                         objects.first_error);
  }
  // Only a complete image gets names, so gc and mounts never see one with objects missing.
  repo->link_image(image);
  if (!parse_hex_digest(name, repo->algorithm())) repo->link_image_ref(name, image);
  std::cout << "verity " << to_hex(image) << "\n"
            << "objects " << objects.total << " (" << objects.fetched << " fetched, " << objects.bytes
            << " bytes downloaded)\n"
            << std::flush;
  return 0;
}

// merkle/xx/<rest>: the hash of every 4096-byte block of the object (fs-verity's level 0), so
// that a client can check each block of a range as it arrives. Written beside objects/ for
// every object of `min_size` bytes or more that has none; checked against the object's name.
int cmd_merkle(const Global& g, Args& a) {
  std::uint64_t min_size = 8 << 20;
  if (std::optional<std::string> v = a.value("min-size")) {
    auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), min_size);
    if (ec != std::errc() || end != v->data() + v->size()) {
      throw UsageError("invalid value '" + *v + "' for '--min-size <BYTES>': a number of bytes");
    }
  }
  a.positionals(0, 0, "");
  auto repo = repo::Repository::open(repo_path(g), g.open);
  repo->check_writable();
  std::size_t written = 0, present = 0;
  for (const std::string& sub : repo::dir_entries(repo->fd(), "objects")) {
    for (const std::string& rest : repo::dir_entries(repo->fd(), "objects/" + sub)) {
      std::string object = sub + "/" + rest;
      std::optional<Digest> name = parse_hex_digest(sub + rest, repo->algorithm());
      if (!name) continue;
      UniqueFd fd = repo->open_object(*name);  // a regular file, or an Error naming it
      struct stat st {};
      if (::fstat(fd.get(), &st) != 0) throw_errno(errno, "objects/" + object);
      if (static_cast<std::uint64_t>(st.st_size) < min_size) continue;
      std::size_t want = (static_cast<std::uint64_t>(st.st_size) + 4095) / 4096 * digest_size(repo->algorithm());
      struct stat there {};
      if (::fstatat(repo->fd(), ("merkle/" + object).c_str(), &there, AT_SYMLINK_NOFOLLOW) == 0 &&
          static_cast<std::size_t>(there.st_size) == want) {
        ++present;
        continue;
      }
      verity::Hasher hasher(repo->algorithm());
      hasher.start_block_hashes();
      std::vector<std::byte> buf(1 << 20);
      for (ssize_t n; (n = ::read(fd.get(), buf.data(), buf.size())) != 0;) {
        if (n < 0) throw_errno(errno, "objects/" + object);
        hasher.update(std::span(buf).first(static_cast<std::size_t>(n)));
      }
      std::vector<std::uint8_t> hashes = hasher.finish_block_hashes();
      verity::Hasher check(repo->algorithm());
      check.append_block_hashes(hashes, static_cast<std::uint64_t>(st.st_size));
      if (check.finish() != *name) throw Error(EIO, "objects/" + object + ": its fs-verity digest is not its name (run fsck)");
      for (const std::string& dir : {std::string("merkle"), "merkle/" + sub}) {
        if (::mkdirat(repo->fd(), dir.c_str(), 0755) != 0 && errno != EEXIST) throw_errno(errno, dir);
      }
      OutputFile out(repo->path() + "/merkle/" + object);  // whole or not at all
      out.write(std::as_bytes(std::span(hashes)));
      out.commit();
      ++written;
    }
  }
  std::cout << "merkle " << written << " written, " << present << " present\n" << std::flush;
  return 0;
}

}  // namespace cfs::cfsctl
