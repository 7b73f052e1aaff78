#include "fuse/later_replies.h"

#include <algorithm>

#include "fuse/reply_errno.h"

namespace cfs::fuse {
namespace {
constexpr std::size_t kEarlyInterrupts = 64;
}

void LaterReplies::start(unsigned threads) {
  std::lock_guard lock(mutex_);
  closed_ = false;
  for (unsigned i = 0; i < threads; ++i) threads_.emplace_back([this] { run(); });
}

void LaterReplies::stop() {
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
    threads = std::move(threads_);
    threads_.clear();
  }
  ready_.notify_all();
  for (auto& t : threads) t.join();
}

bool LaterReplies::add(std::uint64_t unique, Work work) {
  {
    std::lock_guard lock(mutex_);
    auto early = std::find(early_interrupts_.begin(), early_interrupts_.end(), unique);
    if (early != early_interrupts_.end()) {
      early_interrupts_.erase(early);
      return false;
    }
    interrupted_[unique] = false;
    queue_.push_back({unique, std::move(work)});
  }
  ready_.notify_one();
  return true;
}

bool LaterReplies::interrupt(std::uint64_t unique) {
  std::lock_guard lock(mutex_);
  auto it = interrupted_.find(unique);
  if (it != interrupted_.end()) {
    if (it->second) return false;  // answered EINTR already
    it->second = true;
    return true;
  }
  early_interrupts_.push_back(unique);
  if (early_interrupts_.size() > kEarlyInterrupts) early_interrupts_.pop_front();
  return false;
}

std::size_t LaterReplies::waiting() const {
  std::lock_guard lock(mutex_);
  return interrupted_.size();
}

bool LaterReplies::claim(std::uint64_t unique) {
  std::lock_guard lock(mutex_);
  auto it = interrupted_.find(unique);
  bool wanted = it != interrupted_.end() && !it->second;
  if (it != interrupted_.end()) interrupted_.erase(it);
  return wanted;
}

void LaterReplies::run() {
  for (;;) {
    Job job;
    {
      std::unique_lock lock(mutex_);
      ready_.wait(lock, [this] { return closed_ || !queue_.empty(); });
      if (queue_.empty()) return;
      job = std::move(queue_.front());
      queue_.pop_front();
      if (interrupted_[job.unique]) {  // interrupted while queued: its work is not done
        interrupted_.erase(job.unique);
        continue;
      }
    }
    answer(job);
  }
}

// The thread's boundary: a throw is answered with its errno, and the worker lives on.
void LaterReplies::answer(Job& job) noexcept {
  std::function<void()> answer;
  int error = 0;
  try {
    answer = job.work();
  } catch (...) {
    error = reply_errno_of_current_exception();
  }
  if (!claim(job.unique)) return;  // interrupted: answered EINTR already
  try {
    if (error == 0 && answer) answer();  // an answer replies last: a throw means no reply yet
  } catch (...) {
    error = reply_errno_of_current_exception();
  }
  if (error != 0) fail_(job.unique, error);
}

}  // namespace cfs::fuse
