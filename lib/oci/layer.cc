#include "oci/layer.h"

#include <unistd.h>

#include <cstring>

#include "base/error.h"
#include "base/file_io.h"
#include "oci/ingest_queue.h"
#include "oci/read_ahead.h"
#include "repo/splitstream.h"
#include "verity/sha256.h"

namespace cfs::oci {
namespace {

const std::uint64_t kLayerContent = repo::content_type_of("ocilayer");

// The uncompressed tar as the import reads it: recorded in the splitstream, large bodies stored
// as objects (on worker threads, retired in stream order). Whoever gives the tar hashes it for
// the diff_id (a registry layer on its read-ahead thread).
class ImportInput final : public TarInput {
 public:
  ImportInput(ReadSome tar, repo::SplitStreamWriter& stream, store::ObjectStore& store, ImportStats& stats, unsigned share)
      : tar_(std::move(tar)),
        stream_(stream),
        store_(store),
        stats_(stats),
        queue_(
            store, [this](std::span<const std::byte> b) { stream_.write_inline(b); },
            [this](const store::ObjectStore::Ingested& in, std::uint64_t size) { record(in, size); }, share) {}

  std::size_t read_some(std::span<std::byte> buf) override {
    std::size_t n = tar_(buf);
    queue_.add_inline(buf.first(n));
    return n;
  }

  // Large bodies are taken as `local`'s files (reflink, hard link or copy); their bytes, which
  // the tar does not give, go to `diff_sha`.
  void take_local(LocalTar* local, LocalFetch fetch, verity::Sha256* diff_sha) {
    local_ = local;
    fetch_ = fetch;
    local_sha_ = diff_sha;
  }

  FileBody body(const std::string& path, std::uint64_t size) override {
    if (size <= kInlineMax) {
      stats_.inlined_bytes += size;
      return read_inline_body(*this, size);
    }
    FileBody b;
    if (local_ != nullptr && fetch_ != LocalFetch::kDisabled) {
      queue_.drain();  // the object's place in the stream is now
      with_context("storing " + path, [&] {
        UniqueFd file = local_->take_body(path, size);
        Digest d{};
        store::ObjectStore::Taken how = store_.take_file(file.get(), size, fetch_ == LocalFetch::kZeroCopy,
                                                         [&](std::span<const std::byte> bytes) { local_sha_->update(bytes); }, &d);
        record({d, how != store::ObjectStore::Taken::kPresent}, size);
        if (how == store::ObjectStore::Taken::kReflinked) ++stats_.reflinked;
        if (how == store::ObjectStore::Taken::kHardLinked) ++stats_.hard_linked;
      });
      return b;
    }
    if (size <= IngestQueue::kMaxBuffered) {
      std::vector<std::byte> data(size);
      for (std::size_t got = 0; got < size;) {
        std::size_t n = tar_(std::span(data).subspan(got));
        if (n == 0) throw_corrupt("tar layer: " + path + ": truncated file body");
        got += n;
      }
      queue_.add_body(std::move(data), "storing " + path);
      return b;
    }
    queue_.drain();  // a huge body: streamed in place, after everything before it
    std::uint64_t left = size;
    store::ObjectStore::Ingested in = with_context("storing " + path, [&] {
      return store_.ingest_stream([&](std::span<std::byte> buf) -> std::size_t {
        if (left == 0) return 0;
        std::size_t n = tar_(buf.first(static_cast<std::size_t>(std::min<std::uint64_t>(left, buf.size()))));
        if (n == 0) throw_corrupt("tar layer: truncated file body");
        left -= n;
        return n;
      });
    });
    record(in, size);
    return b;
  }

  // Everything stored and recorded.
  void finish() { queue_.drain(); }

 private:
  void record(const store::ObjectStore::Ingested& in, std::uint64_t size) {
    stream_.write_external(in.digest, size);
    if (in.added) {
      ++stats_.new_objects;
      stats_.stored_bytes += size;
    } else {
      ++stats_.present_objects;
    }
  }

  ReadSome tar_;
  LocalTar* local_ = nullptr;
  LocalFetch fetch_ = LocalFetch::kDisabled;
  verity::Sha256* local_sha_ = nullptr;
  repo::SplitStreamWriter& stream_;
  store::ObjectStore& store_;
  ImportStats& stats_;
  IngestQueue queue_;
};

// A stored layer's tar: inline bytes from the splitstream, large bodies named by their
// objects (read and hashed only when the diff_id is checked).
class StoredInput final : public TarInput {
 public:
  StoredInput(repo::SplitStreamReader& stream, const repo::Repository& repo, bool hash)
      : stream_(stream), repo_(repo), hash_(hash) {}

  std::size_t read_some(std::span<std::byte> buf) override {
    std::size_t n = stream_.read_inline(buf);
    if (n == 0 && !buf.empty() && stream_.at_external()) throw_corrupt("layer stream: an object where tar data belongs");
    if (hash_) sha_.update(buf.first(n));
    return n;
  }

  FileBody body(const std::string&, std::uint64_t size) override {
    if (size <= kInlineMax) return read_inline_body(*this, size);
    FileBody b;
    b.object = stream_.next_external();
    if (hash_) {
      UniqueFd fd = repo_.open_object(*b.object);
      std::vector<std::byte> buf(1 << 20);
      std::uint64_t total = 0;
      for (ssize_t n; (n = ::read(fd.get(), buf.data(), buf.size())) != 0;) {
        if (n < 0) throw_errno(errno, "reading object " + to_hex(*b.object));
        sha_.update(std::span(buf).first(static_cast<std::size_t>(n)));
        total += static_cast<std::uint64_t>(n);
      }
      if (total != size) throw_corrupt("Layer has incorrect checksum: object " + to_hex(*b.object) + " has the wrong size");
    }
    return b;
  }

  std::string diff_id() { return sha_.finish(); }

 private:
  repo::SplitStreamReader& stream_;
  const repo::Repository& repo_;
  bool hash_;
  verity::Sha256 sha_;
};

}  // namespace

std::string layer_stream_name(const std::string& diff_id) { return "oci-layer-" + diff_id; }

ImportedLayer import_layer(repo::Repository& repo, const LayerBlob& layer, const ReadSome& blob, Progress* progress,
                           unsigned share) {
  return with_context("layer " + (layer.digest.empty() ? layer.diff_id : layer.digest), [&] {  // the one place the layer is named
    // Download, blob digest, inflation and diff_id digest on the read-ahead thread; tar parsing
    // here; fs-verity digests and object writes on the ingest queue's workers.
    verity::Sha256 blob_sha, diff_sha;
    std::uint64_t blob_bytes = 0;
    Decompressor tar(layer.compression, [&](std::span<std::byte> buf) -> std::size_t {
      std::size_t n = blob(buf);
      blob_sha.update(buf.first(n));
      blob_bytes += n;
      if (layer.size && blob_bytes > *layer.size) throw_corrupt("the blob is larger than its descriptor says");
      if (progress != nullptr) progress->bytes_done += n;
      return n;
    });
    ReadAhead ahead([&](std::span<std::byte> buf) {
      std::size_t n = tar.read_some(buf);
      diff_sha.update(buf.first(n));
      return n;
    });
    ImportedLayer out;
    repo::SplitStreamWriter stream(repo.algorithm(), kLayerContent);
    ImportInput input([&](std::span<std::byte> b) { return ahead.read_some(b); }, stream, repo.objects(), out.stats,
                      share);
    TarReader reader(input);
    while (reader.next()) {
    }
    ahead.finish();  // the tar was read to its end: the decompressor and digests are ours again
    for (std::byte rest[4096]; blob(rest) != 0;) {  // the decompressor saw its end; the blob must too
      throw_corrupt("data after the end of the compressed stream");
    }
    std::string blob_digest = blob_sha.finish();
    if (!layer.digest.empty() && blob_digest != layer.digest) throw_corrupt("the blob's digest is " + blob_digest);
    if (layer.size && blob_bytes != *layer.size) {
      throw_corrupt("the blob has " + std::to_string(blob_bytes) + " bytes, not " + std::to_string(*layer.size));
    }
    input.finish();
    std::string diff_id = diff_sha.finish();
    if (diff_id != layer.diff_id) throw_corrupt("its uncompressed digest is " + diff_id + ", not the diff_id " + layer.diff_id);
    // Flushes the file objects first.
    out.stream = with_context("storing the layer's splitstream", [&] { return repo.store_object(stream.finish()); });
    repo.link_stream(layer_stream_name(layer.diff_id), out.stream);
    return out;
  });
}

ImportedLayer import_local_layer(repo::Repository& repo, const std::string& diff_id, LocalTar& tar, LocalFetch fetch,
                                 unsigned share) {
  return with_context("layer " + diff_id, [&] {
    ImportedLayer out;
    verity::Sha256 diff_sha;
    repo::SplitStreamWriter stream(repo.algorithm(), kLayerContent);
    ImportInput input(
        [&](std::span<std::byte> b) {
          std::size_t n = tar.read_some(b);
          diff_sha.update(b.first(n));
          return n;
        },
        stream, repo.objects(), out.stats, share);
    input.take_local(&tar, fetch, &diff_sha);
    TarReader reader(input);
    while (reader.next()) {
    }
    input.finish();
    std::string got = diff_sha.finish();
    if (got != diff_id) throw_corrupt("its rebuilt tar's digest is " + got + ", not the diff_id " + diff_id);
    out.stream = with_context("storing the layer's splitstream", [&] { return repo.store_object(stream.finish()); });
    repo.link_stream(layer_stream_name(diff_id), out.stream);
    return out;
  });
}

void read_layer(const repo::Repository& repo, const Digest& stream, const std::function<void(const TarEntry&)>& visit,
                const std::optional<std::string>& diff_id) {
  UniqueFd fd = repo.open_object(stream);
  MappedFile file = MappedFile::open(fd.get());
  repo::SplitStreamReader reader(file.bytes(), repo.algorithm());
  if (reader.refs().content_type != kLayerContent) throw_corrupt("stream " + to_hex(stream) + " is not a tar layer");
  StoredInput input(reader, repo, diff_id.has_value());
  TarReader tar(input);
  while (std::optional<TarEntry> e = tar.next()) visit(*e);
  if (diff_id && input.diff_id() != *diff_id) throw_corrupt("Layer has incorrect checksum: " + *diff_id);
}

}  // namespace cfs::oci
