// gzip inflation, one member at a time, by one of two engines: ISA-L's igzip (about 4x zlib's
// speed on x86-64, where a pull's single core spent most of its time in zlib) or zlib (every
// architecture; the fallback where ISA-L is not built in). The engine is ISA-L when built in,
// or what CFS_INFLATE=zlib|isal names (tests run both). Layer: oci. Not thread-safe: one
// GzipInflater per stream.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace cfs::oci {

enum class InflateEngine { kZlib, kIsal };

std::string_view inflate_engine_name(InflateEngine e);
// The engines this build has (zlib always).
std::vector<InflateEngine> available_inflate_engines();
// The engine a CFS_INFLATE value names; Error for a name that is none, or one not built in.
// Empty or null: nullopt (the default).
std::optional<InflateEngine> parse_inflate_engine(const char* name);
// CFS_INFLATE when set, else the fastest built in.
InflateEngine default_inflate_engine();

class GzipInflater {
 public:
  struct Step {
    std::size_t consumed = 0, produced = 0;
    bool member_end = false;  // the member's trailer is read and its CRC and size checked
  };
  virtual ~GzipInflater() = default;
  // Inflates from `in` into `out`. Error (kCorrupt) for a corrupt member.
  virtual Step inflate(std::span<const std::byte> in, std::span<std::byte> out) = 0;
  // Starts over for the next member (after member_end).
  virtual void next_member() = 0;
};

std::unique_ptr<GzipInflater> make_gzip_inflater(InflateEngine engine);

}  // namespace cfs::oci
