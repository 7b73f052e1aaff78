// Fuzz target: arbitrary bytes as a composefs-rs splitstream. Reading its references (with
// the named ones) must give references or an Error, never a crash; every named reference
// indexes an existing stream reference.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "base/error.h"
#include "repo/splitstream.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  for (cfs::HashAlgorithm a : {cfs::HashAlgorithm::kSha256, cfs::HashAlgorithm::kSha512}) {
    try {
      cfs::repo::SplitStreamRefs r =
          cfs::repo::read_splitstream_refs(std::as_bytes(std::span(data, size)), a, true);
      for (const auto& [index, name] : r.named_refs) {
        if (index >= r.stream_refs.size()) std::abort();
      }
    } catch (const cfs::Error&) {
    }
  }
  return 0;
}
