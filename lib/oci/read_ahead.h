// A stage of a pull on its own thread: reads `source` (download, blob hash, inflate) ahead of
// the reader (tar parsing), so that the two overlap. Memory is bounded: at most `max_chunks`
// chunks of `chunk` bytes wait. An Error thrown by `source` reaches the reader where it
// happened in the stream, after the bytes before it. Layer: oci. One reader thread.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <span>
#include <thread>
#include <vector>

#include "oci/decompress.h"

namespace cfs::oci {

class ReadAhead {
 public:
  explicit ReadAhead(ReadSome source, std::size_t chunk = 1 << 20, std::size_t max_chunks = 8);
  // Stops the thread (after the read of `source` under way) and waits for it.
  ~ReadAhead();
  ReadAhead(const ReadAhead&) = delete;
  ReadAhead& operator=(const ReadAhead&) = delete;

  // As `source` would: up to out.size() bytes, 0 at the end; rethrows its Error.
  std::size_t read_some(std::span<std::byte> out);
  // Waits for the thread to end; after read_some() returned 0, what `source` touched is the
  // caller's again.
  void finish();

 private:
  struct Chunk {
    std::unique_ptr<std::byte[]> data;
    std::size_t size = 0;
  };
  void run();

  ReadSome source_;
  std::size_t chunk_, max_chunks_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Chunk> full_;    // read, waiting for the reader
  std::vector<Chunk> spare_;  // read by the reader, for reuse
  std::size_t allocated_ = 0, front_used_ = 0;
  bool done_ = false, stop_ = false;
  std::exception_ptr error_;  // set with done_
  std::thread thread_;        // last: starts when everything above is ready
};

}  // namespace cfs::oci
