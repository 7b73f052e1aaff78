// One OCI layer into the repository, streamed (nothing unpacked): blob bytes → SHA-256 and size
// checked against the descriptor → decompression → SHA-256 checked against the diff_id → tar
// entries; every file over 64 bytes goes straight into the object store, and the layer is
// kept as composefs-rs keeps it, a splitstream (tar headers, small files and padding inline,
// large bodies as object references) linked as streams/oci-layer-<diff_id>. A mismatch or a
// hostile tar is an Error and links nothing (objects already stored are unreferenced garbage
// for gc). Layer: oci.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/progress.h"
#include "base/unique_fd.h"
#include "oci/decompress.h"
#include "oci/tar.h"
#include "repo/repository.h"

namespace cfs::oci {

struct LayerBlob {
  std::string digest;                 // the descriptor's "sha256:…" of the blob as served; empty:
                                      // a plain tar (import-layer), checked by diff_id alone
  std::optional<std::uint64_t> size;  // the descriptor's size
  Compression compression = Compression::kAuto;
  std::string diff_id;                // "sha256:…" of the uncompressed tar
};

struct ImportStats {
  std::uint64_t new_objects = 0, present_objects = 0;
  std::uint64_t reflinked = 0, hard_linked = 0;  // of new_objects: taken from local files, no bytes copied
  std::uint64_t stored_bytes = 0, inlined_bytes = 0;
  void add(const ImportStats& o) {
    new_objects += o.new_objects;
    present_objects += o.present_objects;
    reflinked += o.reflinked;
    hard_linked += o.hard_linked;
    stored_bytes += o.stored_bytes;
    inlined_bytes += o.inlined_bytes;
  }
};

struct ImportedLayer {
  Digest stream;  // the layer's splitstream object (its entries: read_layer)
  ImportStats stats;
};

// "oci-layer-<diff_id>": the layer's name under streams/.
std::string layer_stream_name(const std::string& diff_id);

// Reads the blob through `blob` to its end. `progress` (may be null) counts compressed bytes.
// `share`: how many layers are imported at once (each takes its share of the workers and memory).
ImportedLayer import_layer(repo::Repository& repo, const LayerBlob& layer, const ReadSome& blob, Progress* progress,
                           unsigned share = 1);

// A layer's tar rebuilt on this machine from a store that keeps no blob (containers-storage):
// headers, padding and small bodies come through read_some; a large body may be taken as the
// file that holds it instead.
class LocalTar {
 public:
  virtual ~LocalTar() = default;
  // Tar bytes (bodies too, when not taken); never past the start of a file body.
  virtual std::size_t read_some(std::span<std::byte> buf) = 0;
  // At the start of entry `path`'s body of `size` bytes: the file holding it (read-only);
  // the stream moves past the body.
  virtual UniqueFd take_body(const std::string& path, std::uint64_t size) = 0;
};

// How the files of a LocalTar become objects (cfsctl's --local-fetch): kDisabled copies the
// bytes as a registry pull writes them; kAuto reflinks, else hard-links, else copies
// (ObjectStore::take_file); kZeroCopy fails rather than copy.
enum class LocalFetch { kDisabled, kAuto, kZeroCopy };

// import_layer for a LocalTar: the same stream, objects and diff_id check; the tar's SHA-256
// is taken from the bytes of each object as stored. The caller counts progress (tar bytes) in `tar`.
ImportedLayer import_local_layer(repo::Repository& repo, const std::string& diff_id, LocalTar& tar, LocalFetch fetch,
                                 unsigned share = 1);

// Visits the entries of a layer kept as a splitstream, in tar order (one at a time: a layer's
// entries are never all in memory). With `diff_id`, the tar is reassembled (objects read) and
// its SHA-256 must be that ("Layer has incorrect checksum").
void read_layer(const repo::Repository& repo, const Digest& stream, const std::function<void(const TarEntry&)>& visit,
                const std::optional<std::string>& diff_id = std::nullopt);

}  // namespace cfs::oci
