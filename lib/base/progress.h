// Progress: counters a long operation advances and another thread may watch (a progress line
// on a terminal). Layer: base.
#pragma once

#include <atomic>
#include <cstdint>

namespace cfs {

struct Progress {
  std::atomic<std::uint64_t> files_total{0}, bytes_total{0};  // grow while work is found
  std::atomic<std::uint64_t> files_done{0}, bytes_done{0};
};

}  // namespace cfs

#include <chrono>
#include <mutex>
#include <string>
#include <vector>

namespace cfs {

// One row per part of a long operation (a layer of a pull): its bytes as they arrive and how it
// ended, for one progress line each. Rows are added and advanced from any thread.
class ProgressRows {
 public:
  enum class State { kWaiting, kRunning, kDone, kSkipped };
  struct Row {
    std::string name;
    std::uint64_t total = 0, done = 0;
    State state = State::kWaiting;
    std::chrono::steady_clock::time_point started{};
  };

  std::size_t add(std::string name, std::uint64_t total, State state) {
    std::lock_guard lock(mutex_);
    rows_.push_back({std::move(name), total, 0, state});
    return rows_.size() - 1;
  }
  void advance(std::size_t row, std::int64_t bytes) {
    std::lock_guard lock(mutex_);
    Row& r = rows_.at(row);
    if (r.state == State::kWaiting) r.state = State::kRunning, r.started = std::chrono::steady_clock::now();
    r.done = static_cast<std::uint64_t>(static_cast<std::int64_t>(r.done) + bytes);
  }
  void finish(std::size_t row) {
    std::lock_guard lock(mutex_);
    rows_.at(row).state = State::kDone;
  }
  std::vector<Row> snapshot() const {
    std::lock_guard lock(mutex_);
    return rows_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<Row> rows_;
};

}  // namespace cfs
