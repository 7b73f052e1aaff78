// Stores a layer's file bodies on worker threads while the layer is still being read (the
// reader decompresses and hashes the tar on one core; hashing and writing objects take the
// others), and hands the results back in stream order, so the layer's splitstream is the same
// as a sequential import's. Memory is bounded: at most kMaxInFlight bytes of bodies wait.
// Layers imported at once share the machine: each queue takes 1/`share` of the workers and of
// the bytes in flight, so a pull's threads and memory do not grow with its layers. Layer: oci.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <thread>
#include <variant>
#include <vector>

#include "store/store.h"

namespace cfs::oci {

class IngestQueue {
 public:
  static constexpr std::uint64_t kMaxInFlight = 32 << 20;
  static constexpr std::uint64_t kMaxBuffered = 8 << 20;  // larger bodies are streamed in place

  // `inline_out` and `external_out` receive the stream in order.
  IngestQueue(store::ObjectStore& store, std::function<void(std::span<const std::byte>)> inline_out,
              std::function<void(const store::ObjectStore::Ingested&, std::uint64_t size)> external_out,
              unsigned share = 1);
  ~IngestQueue();
  IngestQueue(const IngestQueue&) = delete;
  IngestQueue& operator=(const IngestQueue&) = delete;

  void add_inline(std::span<const std::byte> bytes);
  // A body read whole into memory, stored by a worker; a failure to store it is rethrown
  // with `context` around it.
  void add_body(std::vector<std::byte> body, std::string context);
  // Retires everything queued (rethrowing a worker's failure); then the caller may write in
  // order itself.
  void drain();

 private:
  struct Body {
    std::future<store::ObjectStore::Ingested> result;
    std::uint64_t size;
    std::string context;
  };
  using Item = std::variant<std::vector<std::byte>, Body>;
  void retire(bool all);
  void work();

  store::ObjectStore& store_;
  std::function<void(std::span<const std::byte>)> inline_out_;
  std::function<void(const store::ObjectStore::Ingested&, std::uint64_t)> external_out_;
  std::deque<Item> items_;
  std::uint64_t in_flight_ = 0;
  std::uint64_t max_in_flight_;

  std::mutex mutex_;  // tasks_, stop_
  std::condition_variable wake_;
  std::deque<std::packaged_task<store::ObjectStore::Ingested()>> tasks_;
  bool stop_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace cfs::oci
