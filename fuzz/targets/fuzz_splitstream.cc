// Fuzz target: arbitrary bytes as a composefs-rs splitstream. Reading its references (with
// the named ones) and its chunks must give them or an Error, never a crash; every named
// reference indexes an existing stream reference.
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
      cfs::repo::SplitStreamReader reader(std::as_bytes(std::span(data, size)), a);  // the chunks too
      std::byte buf[4096];
      for (int chunks = 0; chunks < 100000; ++chunks) {
        if (reader.read_inline(buf) != 0) continue;
        if (!reader.at_external()) break;
        reader.next_external();
      }
    } catch (const cfs::Error&) {
    }
  }
  return 0;
}
