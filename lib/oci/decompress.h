// The uncompressed bytes of a layer blob, streamed: gzip that continues across concatenated
// members (eStargz, pigz) and zstd across frames and skippable frames (zstd:chunked), chosen
// from the media type or, with kAuto, from the first bytes. A truncated or corrupt stream is an
// Error; so is a decompression bomb (beyond 64 MiB, more than 100 bytes out per byte in, gzip
// and zstd alike), so a hostile blob costs bounded memory and bounded disk. Layer: oci.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "oci/inflate.h"

namespace cfs::oci {

enum class Compression { kNone, kGzip, kZstd, kAuto };

// Fills the buffer it is given, returns how many bytes; 0 at the end. Throws Error.
using ReadSome = std::function<std::size_t(std::span<std::byte>)>;

class Decompressor {
 public:
  // `engine` inflates gzip.
  Decompressor(Compression compression, ReadSome source, InflateEngine engine = default_inflate_engine());
  ~Decompressor();
  Decompressor(const Decompressor&) = delete;
  Decompressor& operator=(const Decompressor&) = delete;

  std::size_t read_some(std::span<std::byte> out);

 private:
  struct Codec;
  void detect();
  std::size_t fill();  // more compressed input; 0 at its end
  void more();         // more input after what is left unread; Error at its end
  void check_ratio();

  Compression compression_;
  InflateEngine engine_;
  ReadSome source_;
  std::unique_ptr<Codec> codec_;
  std::vector<std::byte> in_;
  std::size_t in_pos_ = 0, in_end_ = 0;
  bool source_done_ = false;
  std::uint64_t total_in_ = 0, total_out_ = 0;
};

}  // namespace cfs::oci
