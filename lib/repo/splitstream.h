// composefs-rs splitstreams (streams/: OCI layers, configs, manifests; docs/repository.md):
// what one refers to (the streams and objects it needs, its named references, read from its
// header sections without reassembling the stream), its chunks in order, and a writer. Layer:
// repo. Reading checks every bound: a hostile file is an Error (EUCLEAN), never a crash.
#pragma once

#include <zstd.h>

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <optional>
#include <utility>
#include <vector>

#include "base/digest.h"

namespace cfs::repo {

struct SplitStreamRefs {
  std::uint64_t content_type = 0;
  std::vector<Digest> stream_refs;  // other splitstreams (or images) it names
  std::vector<Digest> object_refs;  // objects its content is made of
  std::vector<std::pair<std::size_t, std::string>> named_refs;  // index into stream_refs, name
};

// `bytes` is the whole file. The named references (zstd-compressed) are read only when
// `with_names`.
SplitStreamRefs read_splitstream_refs(std::span<const std::byte> bytes, HashAlgorithm algorithm, bool with_names);

inline constexpr std::string_view kSplitStreamMagic = "SplitStream";

// Whether `file` has the header layout composefs-rs wrote before its header was repr(C) (bootc <= 1.15.x), which
// is read as well as the current one (oci::upgrade_repository rewrites such streams).
bool is_old_format_splitstream(std::span<const std::byte> file);

// Content types composefs-rs gives its OCI streams (the ASCII of these names, little endian).
std::uint64_t content_type_of(std::string_view eight_chars);

// The stream of a splitstream, chunk by chunk: inline bytes and references to objects.
class SplitStreamReader {
 public:
  // `file` (the whole splitstream) must outlive the reader. Throws Error on a bad header.
  SplitStreamReader(std::span<const std::byte> file, HashAlgorithm algorithm);
  ~SplitStreamReader();
  const SplitStreamRefs& refs() const { return refs_; }
  std::uint64_t stream_size() const { return stream_size_; }

  // Up to buf.size() inline bytes; 0 at the end of the stream or when an external chunk is
  // next (at_external() says which).
  std::size_t read_inline(std::span<std::byte> buf);
  bool at_external();
  // The object of the external chunk that is next; Error if inline bytes are next.
  Digest next_external();

 private:
  bool fill(std::size_t n);  // at least n decompressed bytes buffered, false at a clean end
  void start_chunk();

  SplitStreamRefs refs_;
  std::uint64_t stream_size_ = 0;
  std::span<const std::byte> compressed_;
  std::unique_ptr<ZSTD_DCtx, std::size_t (*)(ZSTD_DCtx*)> ctx_;
  ZSTD_inBuffer in_{};
  std::vector<std::byte> buf_, chunk_;
  std::size_t pos_ = 0;
  std::uint64_t inline_left_ = 0;        // of the current inline chunk
  std::optional<std::size_t> external_;  // the chunk that is next is this object
  bool done_ = false;
};

// Builds a splitstream: inline bytes and object references in stream order, named references
// to other streams (images, layers) for gc to follow.
class SplitStreamWriter {
 public:
  SplitStreamWriter(HashAlgorithm algorithm, std::uint64_t content_type);
  ~SplitStreamWriter();
  void write_inline(std::span<const std::byte> bytes);
  void write_external(const Digest& object, std::uint64_t size);
  void add_named_ref(const std::string& name, const Digest& stream);
  // The whole file.
  std::vector<std::byte> finish();

 private:
  void flush_inline();
  void emit(std::span<const std::byte> bytes);

  HashAlgorithm algorithm_;
  std::uint64_t content_type_;
  std::unique_ptr<ZSTD_CCtx, std::size_t (*)(ZSTD_CCtx*)> ctx_;
  std::vector<std::byte> compressed_;
  std::vector<std::byte> out_;  // zstd's output buffer
  std::vector<std::byte> pending_;
  std::vector<Digest> objects_, streams_;
  std::map<std::string, std::size_t> object_index_, stream_index_;
  std::map<std::string, std::size_t> named_;
  std::uint64_t stream_size_ = 0;
};

}  // namespace cfs::repo
