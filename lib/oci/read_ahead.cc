#include "oci/read_ahead.h"

#include <algorithm>
#include <cstring>

namespace cfs::oci {

ReadAhead::ReadAhead(ReadSome source, std::size_t chunk, std::size_t max_chunks)
    : source_(std::move(source)),
      chunk_(chunk),
      max_chunks_(std::max<std::size_t>(max_chunks, 1)),
      thread_([this] { run(); }) {}

ReadAhead::~ReadAhead() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  changed_.notify_all();
  finish();
}

void ReadAhead::finish() {
  if (thread_.joinable()) thread_.join();
}

void ReadAhead::run() {
  try {
    for (;;) {
      Chunk c;
      {
        std::unique_lock lock(mutex_);
        changed_.wait(lock, [&] { return stop_ || !spare_.empty() || allocated_ < max_chunks_; });
        if (stop_) return;
        if (!spare_.empty()) {
          c = std::move(spare_.back());
          spare_.pop_back();
        } else {
          ++allocated_;
        }
      }
      if (!c.data) c.data = std::make_unique_for_overwrite<std::byte[]>(chunk_);
      c.size = source_(std::span(c.data.get(), chunk_));
      std::lock_guard lock(mutex_);
      if (c.size == 0) {
        done_ = true;
      } else {
        full_.push_back(std::move(c));
      }
      changed_.notify_all();
      if (done_) return;
    }
  } catch (...) {
    std::lock_guard lock(mutex_);
    error_ = std::current_exception();
    done_ = true;
    changed_.notify_all();
  }
}

std::size_t ReadAhead::read_some(std::span<std::byte> out) {
  if (out.empty()) return 0;
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [&] { return !full_.empty() || done_; });
  if (full_.empty()) {
    if (error_) std::rethrow_exception(error_);
    return 0;
  }
  std::size_t n = 0;  // as much as is waiting and fits, across chunks
  while (n < out.size() && !full_.empty()) {
    Chunk& front = full_.front();
    std::size_t take = std::min(out.size() - n, front.size - front_used_);
    std::memcpy(out.data() + n, front.data.get() + front_used_, take);
    n += take;
    front_used_ += take;
    if (front_used_ == front.size) {
      spare_.push_back(std::move(front));
      full_.pop_front();
      front_used_ = 0;
      changed_.notify_all();
    }
  }
  return n;
}

}  // namespace cfs::oci
