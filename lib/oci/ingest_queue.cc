#include "oci/ingest_queue.h"

#include <algorithm>
#include <cstring>

#include "base/error.h"

namespace cfs::oci {

IngestQueue::IngestQueue(store::ObjectStore& store, std::function<void(std::span<const std::byte>)> inline_out,
                         std::function<void(const store::ObjectStore::Ingested&, std::uint64_t)> external_out,
                         unsigned share)
    : store_(store),
      inline_out_(std::move(inline_out)),
      external_out_(std::move(external_out)),
      max_in_flight_(kMaxInFlight / std::max(1U, share)) {
  unsigned n = std::max(1U, std::thread::hardware_concurrency() / std::max(1U, share));
  for (unsigned i = 0; i < n; ++i) workers_.emplace_back([this] { work(); });
}

IngestQueue::~IngestQueue() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
    tasks_.clear();  // abandoned on failure: their futures report broken promises, unread
  }
  wake_.notify_all();
  for (std::thread& t : workers_) t.join();
}

void IngestQueue::work() {
  for (;;) {
    std::packaged_task<store::ObjectStore::Ingested()> task;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return stop_ || !tasks_.empty(); });
      if (stop_) return;
      task = std::move(tasks_.front());
      tasks_.pop_front();
    }
    task();
  }
}

void IngestQueue::add_inline(std::span<const std::byte> bytes) {
  if (items_.empty()) {
    inline_out_(bytes);
    return;
  }
  if (auto* last = std::get_if<std::vector<std::byte>>(&items_.back())) {
    last->insert(last->end(), bytes.begin(), bytes.end());
  } else {
    items_.emplace_back(std::vector<std::byte>(bytes.begin(), bytes.end()));
  }
  in_flight_ += bytes.size();
  retire(false);
}

void IngestQueue::add_body(std::vector<std::byte> body, std::string context) {
  std::uint64_t size = body.size();
  std::packaged_task<store::ObjectStore::Ingested()> task([this, data = std::move(body)] {
    std::size_t at = 0;
    return store_.ingest_stream([&](std::span<std::byte> buf) {
      std::size_t n = std::min(buf.size(), data.size() - at);
      std::memcpy(buf.data(), data.data() + at, n);
      at += n;
      return n;
    });
  });
  items_.emplace_back(Body{task.get_future(), size, std::move(context)});
  {
    std::lock_guard lock(mutex_);
    tasks_.push_back(std::move(task));
  }
  wake_.notify_one();
  in_flight_ += size;
  retire(false);
}

void IngestQueue::drain() { retire(true); }

void IngestQueue::retire(bool all) {
  while (!items_.empty()) {
    Item& head = items_.front();
    if (auto* bytes = std::get_if<std::vector<std::byte>>(&head)) {
      inline_out_(*bytes);
      in_flight_ -= bytes->size();
    } else {
      Body& b = std::get<Body>(head);
      bool ready = b.result.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
      if (!ready && !all && in_flight_ <= max_in_flight_) return;
      // Waits; rethrows the worker's failure.
      external_out_(with_context(b.context, [&] { return b.result.get(); }), b.size);
      in_flight_ -= b.size;
    }
    items_.pop_front();
  }
}

}  // namespace cfs::oci
