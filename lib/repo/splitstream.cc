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

// Where the header keeps the info range. composefs-rs before its header got repr(C) (bootc <=
// 1.15) wrote the same fields reordered: info[16] flags:le16 magic[11] version algorithm
// lg_blocksize. Both are read; only the current layout is written.
std::size_t checked_info_at(std::span<const std::byte> file, HashAlgorithm algorithm) {
  auto magic_at = [&](std::size_t at) {
    return file.size() >= kHeaderSize && std::memcmp(file.data() + at, kSplitStreamMagic.data(), kSplitStreamMagic.size()) == 0;
  };
  std::size_t fields = 0, info_at = 0;  // offsets of version (algorithm: +3 or +1) and info
  bool old = false;
  if (magic_at(0)) {
    fields = 11, info_at = 16;
  } else if (magic_at(18)) {
    fields = 29, info_at = 0, old = true;
  } else {
    throw_corrupt("not a splitstream");
  }
  auto byte = [&](std::size_t at) { return std::to_integer<std::uint8_t>(file[at]); };
  if (byte(fields) != 0) throw_corrupt("splitstream: unknown version " + std::to_string(byte(fields)));
  if (byte(fields + (old ? 1 : 3)) != static_cast<std::uint8_t>(algorithm)) {
    throw_corrupt("splitstream: another fs-verity algorithm");
  }
  return info_at;
}

}  // namespace

bool is_old_format_splitstream(std::span<const std::byte> file) {
  return file.size() >= kHeaderSize && std::memcmp(file.data(), kSplitStreamMagic.data(), kSplitStreamMagic.size()) != 0 &&
         std::memcmp(file.data() + 18, kSplitStreamMagic.data(), kSplitStreamMagic.size()) == 0;
}

SplitStreamRefs read_splitstream_refs(std::span<const std::byte> file, HashAlgorithm algorithm, bool with_names) {
  std::size_t info_at = checked_info_at(file, algorithm);
  std::span<const std::byte> info = section(file, file.first(kHeaderSize), info_at, "info");
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

namespace cfs::repo {
namespace {

void put_le64(std::vector<std::byte>& out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<std::byte>(v >> (8 * i)));
}

std::string key_of(const Digest& d) { return std::string(reinterpret_cast<const char*>(d.data()), d.size()); }

}  // namespace

std::uint64_t content_type_of(std::string_view eight_chars) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < 8 && i < eight_chars.size(); ++i) v |= std::uint64_t{static_cast<std::uint8_t>(eight_chars[i])} << (8 * i);
  return v;
}

// --- reading the stream ---

SplitStreamReader::SplitStreamReader(std::span<const std::byte> file, HashAlgorithm algorithm)
    : refs_(read_splitstream_refs(file, algorithm, true)), ctx_(ZSTD_createDCtx(), ZSTD_freeDCtx) {
  if (!ctx_) throw Error(ENOMEM, "zstd");
  std::span<const std::byte> info = section(file, file.first(kHeaderSize), checked_info_at(file, algorithm), "info");
  compressed_ = section(file, info, 32, "stream");
  stream_size_ = le64_at(info, 72);
  in_ = {compressed_.data(), compressed_.size(), 0};
}

SplitStreamReader::~SplitStreamReader() = default;

bool SplitStreamReader::fill(std::size_t n) {
  if (pos_ > 0 && pos_ == buf_.size()) {
    buf_.clear();
    pos_ = 0;
  }
  std::vector<std::byte>& chunk = chunk_;
  chunk.resize(ZSTD_DStreamOutSize());
  while (buf_.size() - pos_ < n) {
    if (in_.pos == in_.size) {
      if (buf_.size() == pos_) return false;
      throw_corrupt("splitstream: truncated stream");
    }
    ZSTD_outBuffer o{chunk.data(), chunk.size(), 0};
    std::size_t r = ZSTD_decompressStream(ctx_.get(), &o, &in_);
    if (ZSTD_isError(r)) throw_corrupt(std::string("splitstream: stream: ") + ZSTD_getErrorName(r));
    if (pos_ > 0) {  // keep the buffer small: drop what was consumed
      buf_.erase(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(pos_));
      pos_ = 0;
    }
    buf_.insert(buf_.end(), chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(o.pos));
    if (o.pos == 0 && in_.pos == in_.size && r != 0) throw_corrupt("splitstream: truncated stream");
  }
  return true;
}

void SplitStreamReader::start_chunk() {
  if (done_ || inline_left_ > 0 || external_) return;
  if (!fill(8)) {
    done_ = true;
    return;
  }
  std::uint64_t v = le64_at(std::span(buf_).subspan(pos_), 0);
  pos_ += 8;
  auto value = static_cast<std::int64_t>(v);
  if (value < 0) {
    if (value == INT64_MIN) throw_corrupt("splitstream: bad inline chunk length");
    inline_left_ = static_cast<std::uint64_t>(-value);
  } else {
    if (v >= refs_.object_refs.size()) throw_corrupt("splitstream: object reference out of range");
    external_ = static_cast<std::size_t>(v);
  }
}

std::size_t SplitStreamReader::read_inline(std::span<std::byte> out) {
  start_chunk();
  if (inline_left_ == 0 || out.empty()) return 0;
  std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(inline_left_, out.size()));
  if (buf_.size() == pos_ && !fill(1)) throw_corrupt("splitstream: truncated inline chunk");
  std::size_t n = std::min(want, buf_.size() - pos_);
  std::memcpy(out.data(), buf_.data() + pos_, n);
  pos_ += n;
  inline_left_ -= n;
  return n;
}

bool SplitStreamReader::at_external() {
  start_chunk();
  return external_.has_value();
}

Digest SplitStreamReader::next_external() {
  if (!at_external()) throw_corrupt("splitstream: inline data where an object was expected");
  Digest d = refs_.object_refs[*external_];
  external_.reset();
  return d;
}

// --- writing ---

SplitStreamWriter::SplitStreamWriter(HashAlgorithm algorithm, std::uint64_t content_type)
    : algorithm_(algorithm), content_type_(content_type), ctx_(ZSTD_createCCtx(), ZSTD_freeCCtx) {
  if (!ctx_) throw Error(ENOMEM, "zstd");
}

SplitStreamWriter::~SplitStreamWriter() = default;

void SplitStreamWriter::emit(std::span<const std::byte> bytes) {
  ZSTD_inBuffer in{bytes.data(), bytes.size(), 0};
  std::vector<std::byte>& out = out_;
  out.resize(ZSTD_CStreamOutSize());  // once: emit runs twice per object
  while (in.pos < in.size) {
    ZSTD_outBuffer o{out.data(), out.size(), 0};
    std::size_t r = ZSTD_compressStream2(ctx_.get(), &o, &in, ZSTD_e_continue);
    if (ZSTD_isError(r)) throw Error(EIO, std::string("zstd: ") + ZSTD_getErrorName(r));
    compressed_.insert(compressed_.end(), out.begin(), out.begin() + static_cast<std::ptrdiff_t>(o.pos));
  }
}

void SplitStreamWriter::flush_inline() {
  if (pending_.empty()) return;
  std::vector<std::byte> len;
  put_le64(len, static_cast<std::uint64_t>(-static_cast<std::int64_t>(pending_.size())));
  emit(len);
  emit(pending_);
  pending_.clear();
}

void SplitStreamWriter::write_inline(std::span<const std::byte> bytes) {
  pending_.insert(pending_.end(), bytes.begin(), bytes.end());
  stream_size_ += bytes.size();
  if (pending_.size() >= (1U << 20)) flush_inline();
}

void SplitStreamWriter::write_external(const Digest& object, std::uint64_t size) {
  flush_inline();
  auto [it, added] = object_index_.emplace(key_of(object), objects_.size());
  if (added) objects_.push_back(object);
  std::vector<std::byte> index;
  put_le64(index, it->second);
  emit(index);
  stream_size_ += size;
}

void SplitStreamWriter::add_named_ref(const std::string& name, const Digest& stream) {
  auto [it, added] = stream_index_.emplace(key_of(stream), streams_.size());
  if (added) streams_.push_back(stream);
  named_[name] = it->second;
}

std::vector<std::byte> SplitStreamWriter::finish() {
  flush_inline();
  std::vector<std::byte> out(ZSTD_CStreamOutSize());
  for (;;) {
    ZSTD_inBuffer in{nullptr, 0, 0};
    ZSTD_outBuffer o{out.data(), out.size(), 0};
    std::size_t r = ZSTD_compressStream2(ctx_.get(), &o, &in, ZSTD_e_end);
    if (ZSTD_isError(r)) throw Error(EIO, std::string("zstd: ") + ZSTD_getErrorName(r));
    compressed_.insert(compressed_.end(), out.begin(), out.begin() + static_cast<std::ptrdiff_t>(o.pos));
    if (r == 0) break;
  }
  std::string names;
  for (const auto& [name, index] : named_) names += std::to_string(index) + ":" + name + '\0';
  std::vector<std::byte> named_z;
  if (!names.empty()) {
    named_z.resize(ZSTD_compressBound(names.size()));
    std::size_t n = ZSTD_compress(named_z.data(), named_z.size(), names.data(), names.size(), 3);
    if (ZSTD_isError(n)) throw Error(EIO, std::string("zstd: ") + ZSTD_getErrorName(n));
    named_z.resize(n);
  }
  std::size_t size = digest_size(algorithm_);
  std::uint64_t at = kHeaderSize + kInfoSize;
  auto range = [&](std::vector<std::byte>& v, std::uint64_t len) {
    put_le64(v, at);
    put_le64(v, at + len);
    at += len;
  };
  std::vector<std::byte> file;
  file.reserve(kHeaderSize + kInfoSize + (objects_.size() + streams_.size()) * size + compressed_.size() + named_z.size());
  for (char c : kSplitStreamMagic) file.push_back(static_cast<std::byte>(c));
  file.insert(file.end(), {std::byte{0}, std::byte{0}, std::byte{0}, static_cast<std::byte>(algorithm_), std::byte{12}});
  put_le64(file, kHeaderSize);
  put_le64(file, kHeaderSize + kInfoSize);
  range(file, streams_.size() * size);
  range(file, objects_.size() * size);
  range(file, compressed_.size());
  range(file, named_z.size());
  put_le64(file, content_type_);
  put_le64(file, stream_size_);
  for (const Digest& d : streams_) file.insert(file.end(), reinterpret_cast<const std::byte*>(d.data()), reinterpret_cast<const std::byte*>(d.data()) + size);
  for (const Digest& d : objects_) file.insert(file.end(), reinterpret_cast<const std::byte*>(d.data()), reinterpret_cast<const std::byte*>(d.data()) + size);
  file.insert(file.end(), compressed_.begin(), compressed_.end());
  file.insert(file.end(), named_z.begin(), named_z.end());
  return file;
}

}  // namespace cfs::repo
