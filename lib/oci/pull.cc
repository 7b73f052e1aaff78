#include "oci/pull.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>

#include <fcntl.h>
#include <unistd.h>

#include "base/error.h"
#include "base/file_io.h"
#include "oci/boot.h"
#include "oci/commit.h"
#include "oci/merge.h"
#include "verity/fsverity.h"
#include "writer/writer.h"

namespace cfs::oci {
namespace {

constexpr int kLayerAttempts = 3;
constexpr unsigned kMaxLayersAtOnce = 4;

// Tar bytes of a layer rebuilt from local files, counted as they are read or taken.
class CountedTar final : public LocalTar {
 public:
  CountedTar(LocalTar& tar, std::function<void(std::uint64_t)> count) : tar_(tar), count_(std::move(count)) {}
  std::size_t read_some(std::span<std::byte> b) override {
    std::size_t n = tar_.read_some(b);
    count_(n);
    return n;
  }
  UniqueFd take_body(const std::string& path, std::uint64_t size) override {
    count_(size);
    return tar_.take_body(path, size);
  }

 private:
  LocalTar& tar_;
  std::function<void(std::uint64_t)> count_;
};

// One layer, retried from the start after a network failure (objects already stored are
// found again; nothing is linked until the layer is complete).
// A layer a source rebuilds from local files is read once (no network to fail).
void fetch_layer(repo::Repository& repo, ImageSource& source, const LayerRef& l, const PullOptions& o, std::size_t row,
                 unsigned share, ImportStats& stats) {
  Progress* progress = o.progress;
  ProgressRows* rows = o.layers;
  if (std::unique_ptr<LocalTar> local = source.open_local_layer(l)) {
    CountedTar counted(*local, [&](std::uint64_t n) {
      if (progress != nullptr) progress->bytes_done += n;
      if (rows != nullptr) rows->advance(row, static_cast<std::int64_t>(n));
    });
    stats.add(import_local_layer(repo, l.layer.diff_id, counted, o.local_fetch, share).stats);
    if (rows != nullptr) rows->finish(row);
    return;
  }
  for (int attempt = 1;; ++attempt) {
    std::uint64_t counted = 0;  // this attempt's bytes, taken back from the progress on retry
    try {
      std::unique_ptr<BlobReader> blob = source.open_blob(l.blob);
      auto read = [&](std::span<std::byte> b) {
        std::size_t n = blob->read_some(b);
        counted += n;
        if (progress != nullptr) progress->bytes_done += n;
        if (rows != nullptr) rows->advance(row, static_cast<std::int64_t>(n));
        return n;
      };
      stats.add(import_layer(repo, l.layer, read, nullptr, share).stats);
      if (rows != nullptr) rows->finish(row);
      return;
    } catch (const Error& e) {
      if (e.kind() != ErrorKind::kTransient) throw;
      if (progress != nullptr) progress->bytes_done -= counted;
      if (rows != nullptr) rows->advance(row, -static_cast<std::int64_t>(counted));
      if (attempt == kLayerAttempts) throw;
      std::this_thread::sleep_for(std::chrono::milliseconds(300 * attempt));
    }
  }
}

// The layers the repository lacks, largest first, `parallel` at a time (by default one per CPU,
// at most kMaxLayersAtOnce: each layer is a pipeline of threads of its own, and inflating,
// hashing and storing keep the CPUs busy long before the network is the limit).
ImportStats fetch_layers(repo::Repository& repo, ImageSource& source, const ResolvedImage& img, const PullOptions& o) {
  std::vector<const LayerRef*> todo;
  std::map<const LayerRef*, std::size_t> row;
  for (const LayerRef& l : img.layers) {
    bool queued = std::any_of(todo.begin(), todo.end(), [&](const LayerRef* t) { return t->layer.diff_id == l.layer.diff_id; });
    if (queued) continue;
    bool stored = repo.stream_object(layer_stream_name(l.layer.diff_id)).has_value();
    if (!stored) todo.push_back(&l);
    if (o.layers != nullptr) {
      // A layer rebuilt from local files counts tar bytes.
      std::uint64_t size = stored ? l.blob.size : source.local_layer_size(l).value_or(l.blob.size);
      row[&l] = o.layers->add(l.blob.digest, size, stored ? ProgressRows::State::kSkipped : ProgressRows::State::kWaiting);
    }
  }
  std::sort(todo.begin(), todo.end(), [](const LayerRef* a, const LayerRef* b) { return a->blob.size > b->blob.size; });
  if (o.progress != nullptr) {  // the line shows layers done of all, bytes, speed and ETA
    o.progress->files_total += todo.size();
    for (const LayerRef* l : todo) o.progress->bytes_total += source.local_layer_size(*l).value_or(l->blob.size);
  }
  ImportStats total;
  std::mutex mutex;
  std::exception_ptr failure;
  std::atomic<std::size_t> next{0};
  unsigned threads = o.parallel != 0 ? o.parallel : std::clamp(std::thread::hardware_concurrency(), 1U, kMaxLayersAtOnce);
  threads = static_cast<unsigned>(std::min<std::size_t>(threads, todo.size()));
  auto work = [&] {
    for (std::size_t i; (i = next++) < todo.size();) {
      ImportStats stats;
      try {
        fetch_layer(repo, source, *todo[i], o, o.layers != nullptr ? row.at(todo[i]) : 0, threads, stats);
      } catch (...) {
        std::lock_guard lock(mutex);
        if (!failure) failure = std::current_exception();
        next = todo.size();  // the others stop after their current layer
        return;
      }
      std::lock_guard lock(mutex);
      total.add(stats);
      if (o.progress != nullptr) ++o.progress->files_done;
    }
  };
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads; ++t) pool.emplace_back(work);
  if (threads > 0) work();
  for (std::thread& t : pool) t.join();
  if (failure) std::rethrow_exception(failure);
  return total;
}

}  // namespace

Digest erofs_image_id(const tree::Tree& tree, std::uint32_t version, HashAlgorithm algorithm) {
  verity::Hasher hasher(algorithm);
  writer::write(tree, writer::Options::exactly(version), [&](std::span<const std::byte> chunk) { hasher.update(chunk); });
  return hasher.finish();
}

Digest store_erofs_image(repo::Repository& repo, const tree::Tree& tree, std::uint32_t version) {
  UniqueFd tmp(::openat(repo.fd(), "objects", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600));
  if (!tmp) throw_errno(errno, repo.path() + "/objects: a temporary file for the image");
  std::uint64_t size = 0;
  writer::write(tree, writer::Options::exactly(version), [&](std::span<const std::byte> chunk) {
    write_all(tmp.get(), chunk);
    size += chunk.size();
  });
  if (::lseek(tmp.get(), 0, SEEK_SET) != 0) throw_errno(errno);
  Digest id = repo.objects().ingest(tmp.get(), size).digest;
  repo.objects().flush();
  return id;
}

tree::Tree image_tree(const repo::Repository& repo, const StoredImage& image, const TransformOptions& transform, bool verify) {
  if (!image.container) throw Error(EINVAL, "image " + image.manifest_digest + " is an artifact, not a container image");
  Config config = parse_config(image.config);
  tree::Tree tree;
  LayerMerger merger(tree);
  for (const std::string& diff_id : config.diff_ids) {
    auto it = image.config_refs.find(diff_id);
    std::optional<Digest> stream = it != image.config_refs.end() ? std::optional(it->second) : repo.stream_object(layer_stream_name(diff_id));
    if (!stream) throw Error(ENOENT, "layer " + diff_id + " is not in the repository");
    read_layer(repo, *stream, [&](const TarEntry& e) { merger.apply(e); }, verify ? std::optional(diff_id) : std::nullopt);
  }
  merger.finish();
  transform_for_oci(tree, transform);
  return tree;
}

PullResult pull(repo::Repository& repo, ImageSource& source, const std::string& tag, const PullOptions& o) {
  for (std::uint32_t v : repo.erofs_versions()) {
    if (v == 0) throw Error(EINVAL, "commit_images did not produce the repository's default EROFS format");
  }
  ResolvedImage img = resolve(source);
  if (!img.container) throw Error(ENOTSUP, "artifacts (config media type " + img.config_blob.media_type + ") are not supported yet");
  PullResult r;
  r.manifest_digest = img.manifest_digest;
  r.config_digest = img.config_digest;
  r.stats = fetch_layers(repo, source, img, o);

  CommittedImage c = commit_image(repo, img.manifest_digest, img.manifest, img.config_digest, img.config, tag);
  r.manifest_stream = c.manifest_stream;
  r.image = c.image;
  if (o.referrers) r.referrers = pull_referrers(repo, source, img.manifest_digest);
  return r;
}

}  // namespace cfs::oci
