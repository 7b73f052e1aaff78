#include "oci/inflate.h"

#include <zlib.h>

#include <algorithm>
#include <cstdlib>
#include <string>

#include "base/error.h"

#if CFS_HAVE_ISAL
#include <isa-l/igzip_lib.h>
#endif

namespace cfs::oci {
namespace {

// Both libraries count in 32 bits.
unsigned clamp32(std::size_t n) {
  return static_cast<unsigned>(std::min<std::size_t>(n, 1U << 30));
}

class ZlibInflater final : public GzipInflater {
 public:
  ZlibInflater() {
    if (inflateInit2(&z_, 15 + 16) != Z_OK) throw Error(ENOMEM, "gzip: cannot initialise zlib");
  }
  ~ZlibInflater() override { inflateEnd(&z_); }

  Step inflate(std::span<const std::byte> in, std::span<std::byte> out) override {
    z_.next_in = reinterpret_cast<Bytef*>(const_cast<std::byte*>(in.data()));
    z_.avail_in = clamp32(in.size());
    z_.next_out = reinterpret_cast<Bytef*>(out.data());
    z_.avail_out = clamp32(out.size());
    unsigned in_before = z_.avail_in, out_before = z_.avail_out;
    int rc = ::inflate(&z_, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) {
      throw_corrupt(std::string("gzip layer: ") + (z_.msg != nullptr ? z_.msg : "corrupt stream"));
    }
    return {in_before - z_.avail_in, out_before - z_.avail_out, rc == Z_STREAM_END};
  }

  void next_member() override { inflateReset(&z_); }

 private:
  z_stream z_{};
};

#if CFS_HAVE_ISAL
class IsalInflater final : public GzipInflater {
 public:
  IsalInflater() : s_(std::make_unique<inflate_state>()) { next_member(); }

  Step inflate(std::span<const std::byte> in, std::span<std::byte> out) override {
    s_->next_in = reinterpret_cast<std::uint8_t*>(const_cast<std::byte*>(in.data()));
    s_->avail_in = clamp32(in.size());
    s_->next_out = reinterpret_cast<std::uint8_t*>(out.data());
    s_->avail_out = clamp32(out.size());
    unsigned in_before = s_->avail_in, out_before = s_->avail_out;
    int rc = isal_inflate(s_.get());
    if (rc < 0) throw_corrupt(std::string("gzip layer: ") + message(rc));
    return {in_before - s_->avail_in, out_before - s_->avail_out,
            s_->block_state == ISAL_BLOCK_FINISH};
  }

  void next_member() override {
    isal_inflate_init(s_.get());
    s_->crc_flag = ISAL_GZIP;  // parses the header, checks the trailer's CRC and size
  }

 private:
  static const char* message(int rc) {
    switch (rc) {
      case ISAL_INVALID_BLOCK:
        return "invalid block type";
      case ISAL_INVALID_SYMBOL:
        return "invalid code";
      case ISAL_INVALID_LOOKBACK:
        return "invalid distance too far back";
      case ISAL_INVALID_WRAPPER:
        return "incorrect header check";
      case ISAL_UNSUPPORTED_METHOD:
        return "unknown compression method";
      case ISAL_INCORRECT_CHECKSUM:
        return "incorrect data check";
      default:
        return "corrupt stream";
    }
  }

  std::unique_ptr<inflate_state> s_;  // about 40 KiB: not on the stack
};
#endif

}  // namespace

std::string_view inflate_engine_name(InflateEngine e) {
  return e == InflateEngine::kIsal ? "isal" : "zlib";
}

std::vector<InflateEngine> available_inflate_engines() {
#if CFS_HAVE_ISAL
  return {InflateEngine::kZlib, InflateEngine::kIsal};
#else
  return {InflateEngine::kZlib};
#endif
}

std::optional<InflateEngine> parse_inflate_engine(const char* name) {
  if (name == nullptr || *name == '\0') return std::nullopt;
  for (InflateEngine e : {InflateEngine::kZlib, InflateEngine::kIsal}) {
    if (inflate_engine_name(e) != name) continue;
    std::vector<InflateEngine> have = available_inflate_engines();
    if (std::find(have.begin(), have.end(), e) == have.end()) {
      throw Error(ENOTSUP, std::string("CFS_INFLATE=") + name + ": this build has no ISA-L");
    }
    return e;
  }
  throw Error(EINVAL, std::string("CFS_INFLATE=") + name + ": zlib or isal");
}

InflateEngine default_inflate_engine() {
  if (std::optional<InflateEngine> forced = parse_inflate_engine(std::getenv("CFS_INFLATE")))
    return *forced;
  return available_inflate_engines().back();
}

std::unique_ptr<GzipInflater> make_gzip_inflater(InflateEngine engine) {
#if CFS_HAVE_ISAL
  if (engine == InflateEngine::kIsal) return std::make_unique<IsalInflater>();
#endif
  (void)engine;
  return std::make_unique<ZlibInflater>();
}

}  // namespace cfs::oci
