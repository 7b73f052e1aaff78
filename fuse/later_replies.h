// Requests answered later, by threads of their own: an open whose object must first be read
// and verified (seconds for a multi-GiB object; a network fetch next) waits here while the
// workers go on answering stat, readdir and reads. A FUSE_INTERRUPT for a waiting request
// wins: the caller answers it EINTR and its late answer is dropped. Nothing a request's work
// or answer throws leaves a worker: the request is answered with its errno (ENOMEM, EIO…)
// instead, and the worker goes on. Layer: fuse.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

namespace cfs::fuse {

class LaterReplies {
 public:
  // The slow part of a request; returns what answers it (called unless interrupted meanwhile;
  // dropping it must release whatever it holds).
  using Work = std::function<std::function<void()>()>;

  // How a request whose work or answer threw is answered: with `error`.
  using Fail = std::function<void(std::uint64_t unique, int error)>;

  explicit LaterReplies(Fail fail) : fail_(std::move(fail)) {}
  ~LaterReplies() { stop(); }
  void start(unsigned threads);
  void stop();  // finishes what is queued, then joins

  // Queues `work` for request `unique`; false when that request was interrupted already (an
  // interrupt can overtake the request it names): the caller answers it EINTR.
  bool add(std::uint64_t unique, Work work);
  // A FUSE_INTERRUPT for `unique`. True: it was waiting here and will not be answered by its
  // work; the caller answers it EINTR. False: not (or no longer) here; remembered for a
  // while in case its add() is still to come.
  bool interrupt(std::uint64_t unique);

  std::size_t waiting() const;

 private:
  struct Job {
    std::uint64_t unique;
    Work work;
  };
  void run();
  void answer(Job& job) noexcept;
  bool claim(std::uint64_t unique);  // removes it; false if interrupted

  Fail fail_;
  mutable std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<Job> queue_;
  std::unordered_map<std::uint64_t, bool> interrupted_;  // every request here: interrupted?
  std::deque<std::uint64_t> early_interrupts_;           // the last few unknown ones
  bool closed_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace cfs::fuse
