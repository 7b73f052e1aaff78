#include "repo/splitstream.h"

#include <zstd.h>

#include <cstring>
#include <memory>

#include "base/error.h"

namespace cfs::repo {
namespace {

// Header: magic[11] version flags:le16 algorithm lg_blocksize info:FileRange (32 bytes).
// Info: stream_refs, object_refs, stream, named_refs (FileRanges), content_type, stream_size.
constexpr std::size_t kHeaderSize = 32;
constexpr std::size_t kInfoSize = 4 * 16 + 8 + 8;

std::uint64_t le64_at(std::span<const std::byte> b, std::size_t at) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = v << 8 | std::to_integer<std::uint64_t>(b[at + static_cast<std::size_t>(i)]);
  return v;
}

// A [start, end) range of the file, checked against it.
std::span<const std::byte> section(std::span<const std::byte> file, std::span<const std::byte> ranges, std::size_t at,
                                   const char* what) {
  std::uint64_t start = le64_at(ranges, at), end = le64_at(ranges, at + 8);
  if (start > end || end > file.size()) throw_corrupt(std::string("splitstream: bad ") + what + " range");
  return file.subspan(static_cast<std::size_t>(start), static_cast<std::size_t>(end - start));
}

std::vector<Digest> digests(std::span<const std::byte> s, HashAlgorithm algorithm, const char* what) {
  std::size_t size = digest_size(algorithm);
  if (s.size() % size != 0) throw_corrupt(std::string("splitstream: ") + what + " is not a whole number of digests");
  std::vector<Digest> out;
  for (std::size_t at = 0; at < s.size(); at += size) {
    Digest d(algorithm);
    std::memcpy(d.data(), s.data() + at, size);
    out.push_back(d);
  }
  return out;
}

// All of a zstd section, bounded (named references are short).
std::string decompress(std::span<const std::byte> s) {
  constexpr std::size_t kMax = 64 << 20;
  std::unique_ptr<ZSTD_DCtx, decltype(&ZSTD_freeDCtx)> ctx(ZSTD_createDCtx(), ZSTD_freeDCtx);
  if (!ctx) throw Error(ENOMEM, "zstd");
  std::string out;
  ZSTD_inBuffer in{s.data(), s.size(), 0};
  std::vector<char> buf(ZSTD_DStreamOutSize());
  while (in.pos < in.size) {
    ZSTD_outBuffer o{buf.data(), buf.size(), 0};
    std::size_t r = ZSTD_decompressStream(ctx.get(), &o, &in);
    if (ZSTD_isError(r)) throw_corrupt(std::string("splitstream: named references: ") + ZSTD_getErrorName(r));
    out.append(buf.data(), o.pos);
    if (out.size() > kMax) throw_corrupt("splitstream: named references too large");
    if (r == 0 && in.pos == in.size) break;
    if (o.pos == 0 && in.pos == in.size) throw_corrupt("splitstream: truncated named references");
  }
  return out;
}

}  // namespace

SplitStreamRefs read_splitstream_refs(std::span<const std::byte> file, HashAlgorithm algorithm, bool with_names) {
  if (file.size() < kHeaderSize ||
      std::memcmp(file.data(), kSplitStreamMagic.data(), kSplitStreamMagic.size()) != 0) {
    throw_corrupt("not a splitstream");
  }
  auto byte = [&](std::size_t at) { return std::to_integer<std::uint8_t>(file[at]); };
  if (byte(11) != 0) throw_corrupt("splitstream: unknown version " + std::to_string(byte(11)));
  if (byte(14) != static_cast<std::uint8_t>(algorithm)) throw_corrupt("splitstream: another fs-verity algorithm");
  std::span<const std::byte> info = section(file, file.first(kHeaderSize), 16, "info");
  if (info.size() < kInfoSize) throw_corrupt("splitstream: info section too small");
  SplitStreamRefs r;
  r.stream_refs = digests(section(file, info, 0, "stream refs"), algorithm, "stream refs");
  r.object_refs = digests(section(file, info, 16, "object refs"), algorithm, "object refs");
  std::span<const std::byte> named = section(file, info, 48, "named refs");
  r.content_type = le64_at(info, 64);
  if (!with_names || named.empty()) return r;
  std::string text = decompress(named);
  for (std::size_t at = 0; at < text.size();) {
    std::size_t end = text.find('\0', at);
    if (end == std::string::npos) throw_corrupt("splitstream: unterminated named reference");
    std::string_view record(text.data() + at, end - at);
    std::size_t colon = record.find(':');
    std::size_t index = 0;
    if (colon == 0 || colon == std::string_view::npos) throw_corrupt("splitstream: bad named reference");
    for (char c : record.substr(0, colon)) {
      if (c < '0' || c > '9' || index > (SIZE_MAX - 9) / 10) throw_corrupt("splitstream: bad named reference index");
      index = index * 10 + static_cast<std::size_t>(c - '0');
    }
    if (index >= r.stream_refs.size()) throw_corrupt("splitstream: named reference out of range");
    r.named_refs.emplace_back(index, std::string(record.substr(colon + 1)));
    at = end + 1;
  }
  return r;
}

}  // namespace cfs::repo
