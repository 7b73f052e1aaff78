#include "oci/decompress.h"

#include <zstd.h>

#include <cstring>
#include <string>

#include "base/error.h"

namespace cfs::oci {
namespace {

constexpr std::size_t kInput = 128 * 1024;
// One bound for every codec: past kBombFloor bytes out, at most kBombRatio bytes out per byte
// in. Real layers compress 2-10:1 (source trees and text a little more), nowhere near 100:1
// over a whole layer; a bomb is nearly all one repeated byte and runs at deflate's ceiling
// (about 1032:1) or far beyond it with zstd. The bound must sit well below deflate's ceiling or
// it never fires for gzip (2000:1 did not: a 1.1 MB layer wrote 1.1 GiB). The floor lets a small
// layer of zeros through (a preallocated file) while costing at most 64 MiB of disk; beyond
// it a layer costs at most 100 times its download.
constexpr std::uint64_t kBombFloor = 64 << 20;
constexpr std::uint64_t kBombRatio = 100;

[[noreturn]] void bad(const std::string& what) { throw_corrupt(what); }

}  // namespace

struct Decompressor::Codec {
  std::unique_ptr<GzipInflater> gz;
  bool gz_member_done = false;
  ZSTD_DCtx* zstd = nullptr;
  bool zstd_frame_open = false;
  ~Codec() {
    if (zstd != nullptr) ZSTD_freeDCtx(zstd);
  }
};

Decompressor::Decompressor(Compression compression, ReadSome source, InflateEngine engine)
    : compression_(compression),
      engine_(engine),
      source_(std::move(source)),
      codec_(std::make_unique<Codec>()),
      in_(kInput) {}

Decompressor::~Decompressor() = default;

std::size_t Decompressor::fill() {
  if (in_pos_ < in_end_) return in_end_ - in_pos_;
  if (source_done_) return 0;
  in_pos_ = 0;
  in_end_ = source_(in_);
  total_in_ += in_end_;
  if (in_end_ == 0) source_done_ = true;
  return in_end_;
}

void Decompressor::more() {
  std::size_t kept = in_end_ - in_pos_;
  std::memmove(in_.data(), in_.data() + in_pos_, kept);
  in_pos_ = 0;
  std::size_t n = source_done_ ? 0 : source_(std::span(in_).subspan(kept));
  total_in_ += n;
  in_end_ = kept + n;
  if (n == 0) bad("gzip layer: truncated stream");
}

void Decompressor::detect() {
  std::size_t have = 0;  // up to 4 bytes at the front of in_, however the source splits them
  while (have < 4 && !source_done_) {
    std::size_t n = source_(std::span(in_).subspan(have, 4 - have));
    total_in_ += n;
    if (n == 0) source_done_ = true;
    have += n;
  }
  in_pos_ = 0;
  in_end_ = have;
  auto b = [&](std::size_t i) { return i < have ? std::to_integer<unsigned>(in_[i]) : 0x100U; };
  if (b(0) == 0x1f && b(1) == 0x8b) compression_ = Compression::kGzip;
  else if (b(0) == 0x28 && b(1) == 0xb5 && b(2) == 0x2f && b(3) == 0xfd) compression_ = Compression::kZstd;
  else compression_ = Compression::kNone;
}

void Decompressor::check_ratio() {
  if (total_out_ > kBombFloor && total_out_ / kBombRatio > total_in_) {
    bad("layer decompresses to more than " + std::to_string(kBombRatio) + " times its size (a decompression bomb?)");
  }
}

std::size_t Decompressor::read_some(std::span<std::byte> out) {
  if (out.empty()) return 0;
  if (compression_ == Compression::kAuto) detect();
  Codec& c = *codec_;
  for (;;) {
    std::size_t produced = 0;
    if (compression_ == Compression::kNone) {
      std::size_t avail = fill();
      if (avail == 0) return 0;
      produced = std::min(avail, out.size());
      std::memcpy(out.data(), in_.data() + in_pos_, produced);
      in_pos_ += produced;
      total_out_ += produced;
      return produced;
    }
    std::size_t avail = fill();
    if (compression_ == Compression::kGzip) {
      if (!c.gz) {
        c.gz = make_gzip_inflater(engine_);
        if (avail == 0) bad("gzip layer: empty stream");
      }
      if (c.gz_member_done) {
        if (avail == 0) return 0;  // the last member ended with the input
        c.gz->next_member();       // another member follows (eStargz, pigz)
        c.gz_member_done = false;
      }
      if (avail == 0) bad("gzip layer: truncated stream");
      GzipInflater::Step step = c.gz->inflate(std::span(in_).subspan(in_pos_, avail), out);
      in_pos_ += step.consumed;
      produced = step.produced;
      c.gz_member_done = step.member_end;
      if (step.consumed == 0 && produced == 0 && !step.member_end) more();  // it needs more than it has
    } else {
      if (c.zstd == nullptr) {
        c.zstd = ZSTD_createDCtx();
        if (c.zstd == nullptr) throw Error(ENOMEM, "zstd: cannot initialise");
        ZSTD_DCtx_setParameter(c.zstd, ZSTD_d_windowLogMax, 27);  // bounded memory: 128 MiB windows at most
        if (avail == 0) bad("zstd layer: empty stream");
      }
      if (avail == 0) {
        if (c.zstd_frame_open) bad("zstd layer: truncated stream");
        return 0;
      }
      ZSTD_inBuffer in{in_.data() + in_pos_, avail, 0};
      ZSTD_outBuffer o{out.data(), out.size(), 0};
      std::size_t rc = ZSTD_decompressStream(c.zstd, &o, &in);
      if (ZSTD_isError(rc)) bad(std::string("zstd layer: ") + ZSTD_getErrorName(rc));
      in_pos_ += in.pos;
      produced = o.pos;
      c.zstd_frame_open = rc != 0;
    }
    total_out_ += produced;
    check_ratio();
    if (produced > 0) return produced;
  }
}

}  // namespace cfs::oci
