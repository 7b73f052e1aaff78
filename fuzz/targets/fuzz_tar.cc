// Fuzz target: arbitrary bytes as an OCI layer blob (gzip, zstd or plain, sniffed), read by the
// tar reader with composefs-rs's rules, merged into a tree, transformed and written as an image:
// entries or an Error, never a crash, a hang or unbounded memory.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include "base/error.h"
#include "oci/decompress.h"
#include "oci/merge.h"
#include "oci/tar.h"
#include "oci/transform.h"
#include "writer/writer.h"

namespace {

class Input final : public cfs::oci::TarInput {
 public:
  explicit Input(cfs::oci::Decompressor& d) : d_(d) {}
  std::size_t read_some(std::span<std::byte> buf) override { return d_.read_some(buf); }
  cfs::oci::FileBody body(const std::string&, std::uint64_t size) override {
    cfs::oci::FileBody b;
    if (size > (1 << 20)) throw cfs::Error(EFBIG, "fuzz: large body");
    b.bytes.resize(size);
    cfs::oci::read_exact(*this, std::as_writable_bytes(std::span(b.bytes)));
    return b;
  }

 private:
  cfs::oci::Decompressor& d_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::size_t at = 0;
  cfs::oci::Decompressor d(cfs::oci::Compression::kAuto, [&](std::span<std::byte> buf) {
    std::size_t n = std::min(buf.size(), size - at);
    if (n > 0) std::memcpy(buf.data(), data + at, n);  // data is null for an empty input
    at += n;
    return n;
  });
  Input in(d);
  try {
    cfs::tree::Tree tree;
    cfs::oci::LayerMerger merger(tree);
    cfs::oci::TarReader reader(in);
    std::size_t entries = 0;
    while (auto e = reader.next()) {
      if (++entries > 100000) return 0;
      merger.apply(*e);
    }
    merger.finish();
    cfs::oci::transform_for_oci(tree, {});
    cfs::writer::write_to_vector(tree, {1, 1});
  } catch (const cfs::Error&) {
  }
  return 0;
}
