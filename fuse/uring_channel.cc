#include "fuse/uring_channel.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include <atomic>
#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

#include "base/error.h"
#include "base/unique_fd.h"
#include "fuse/protocol.h"
#include "fuse/uring_request.h"

#ifdef CFS_HAVE_URING
#include <liburing.h>
#endif

namespace cfs::fuse {
#ifndef CFS_HAVE_URING

std::optional<std::string> uring_unavailable() { return "built without liburing"; }

class UringChannel::Rings {};
UringChannel::UringChannel(DevFuseChannel& dev, int, std::size_t) : dev_(dev) {
  throw Error(EOPNOTSUPP, "built without liburing");
}
UringChannel::~UringChannel() = default;
void UringChannel::start(Handler, Failed) {}
void UringChannel::stop() {}
bool UringChannel::started() const { return false; }
std::size_t UringChannel::queue_count() const { return 0; }
std::uint64_t UringChannel::requests() const { return 0; }
void UringChannel::reply(std::uint64_t unique, int error, const void* data, std::size_t size) {
  dev_.reply(unique, error, data, size);
}

#else

namespace {

constexpr unsigned kDepth = 32;             // entries per queue: requests in flight per CPU
constexpr std::uint64_t kWakeTag = 1;       // the CQE of the queue's eventfd read (entries are pointers)
constexpr std::size_t kHeaderSize = 4096;   // a page: the kernel pins what it copies into

// Whether the fuse module's enable_uring parameter is on: nullopt when the kernel has none.
std::optional<bool> enable_uring_parameter() {
  UniqueFd fd(::open("/sys/module/fuse/parameters/enable_uring", O_RDONLY | O_CLOEXEC));
  if (!fd) return std::nullopt;
  char c = 0;
  if (::read(fd.get(), &c, 1) != 1) return false;
  return c == 'Y' || c == '1';
}

// The kernel's queue count: its possible CPUs ("0-3,8-11"), all of which need a registered
// queue before it sends anything over io_uring.
unsigned possible_cpus() {
  UniqueFd fd(::open("/sys/devices/system/cpu/possible", O_RDONLY | O_CLOEXEC));
  char buf[256] = {};
  ssize_t n = fd ? ::read(fd.get(), buf, sizeof buf - 1) : -1;
  if (n <= 0) return static_cast<unsigned>(std::max(1, ::get_nprocs_conf()));
  unsigned count = 0;
  for (char* p = buf;;) {
    char* end;
    unsigned long first = std::strtoul(p, &end, 10), last = first;
    if (end == p) break;
    if (*end == '-') last = std::strtoul(end + 1, &end, 10);
    if (last >= first) count += static_cast<unsigned>(last - first + 1);
    if (*end != ',') break;
    p = end + 1;
  }
  return std::max(1U, count);
}

// The ring parameters every queue uses: 128-byte SQEs carry the FUSE command.
int init_ring(io_uring& ring, unsigned entries) {
  io_uring_params params{};
  params.flags = IORING_SETUP_SQE128 | IORING_SETUP_CQSIZE;
  params.cq_entries = entries * 2;
  return io_uring_queue_init_params(entries, &ring, &params);
}

// Anonymous memory, touched only when used (a payload buffer holds at most one reply).
char* map_buffer(std::size_t size) {
  void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) throw_errno(errno, "io_uring buffers");
  return static_cast<char*>(p);
}

}  // namespace

std::optional<std::string> uring_unavailable() {
  std::optional<bool> enabled = enable_uring_parameter();
  if (!enabled) return "the kernel has no FUSE over io_uring (Linux 6.14+, CONFIG_FUSE_IO_URING)";
  if (!*enabled) return "FUSE over io_uring is off (/sys/module/fuse/parameters/enable_uring is N)";
  io_uring ring;
  if (int rc = init_ring(ring, 2); rc < 0) return std::string("io_uring: ") + std::strerror(-rc);
  io_uring_queue_exit(&ring);
  return std::nullopt;
}

class UringChannel::Rings {
 public:
  struct Queue;
  struct Entry {
    Queue* queue = nullptr;
    UringReqHeader* header = nullptr;  // kHeaderSize bytes, mapped
    char* payload = nullptr;           // payload_size bytes, mapped
    iovec iov[2]{};
    std::uint32_t last_cmd = kUringCmdRegister;
    std::uint64_t commit_id = 0;
    std::atomic<std::uint64_t> unique{0};  // the request it holds until answered; 0: none
    std::vector<char> request;             // the request made whole (queue thread only)
  };
  struct Queue {
    unsigned qid = 0;
    io_uring ring{};
    bool ring_ok = false;
    UniqueFd wake;  // an eventfd: replies from other threads, and stop()
    std::uint64_t wake_value = 0;
    std::vector<std::unique_ptr<Entry>> entries;
    std::mutex mutex;
    std::vector<Entry*> answered;  // replied, to be committed by the queue's thread
    std::thread thread;
  };

  Rings(DevFuseChannel& dev, int fuse_fd, std::size_t max_payload)
      : dev_(dev), fuse_fd_(fuse_fd), payload_size_(max_payload) {
    if (auto why = uring_unavailable()) throw Error(EOPNOTSUPP, *why);
    // The kernel has a queue per possible CPU and uses io_uring once each has an entry.
    for (unsigned qid = 0, n = possible_cpus(); qid < n; ++qid) {
      auto q = std::make_unique<Queue>();
      q->qid = qid;
      if (int rc = init_ring(q->ring, kDepth + 1); rc < 0) throw Error(-rc, std::string("io_uring: ") + std::strerror(-rc));
      q->ring_ok = true;
      q->wake = UniqueFd(::eventfd(0, EFD_CLOEXEC));
      if (!q->wake) throw_errno(errno, "eventfd");
      for (unsigned i = 0; i < kDepth; ++i) {
        auto e = std::make_unique<Entry>();
        e->queue = q.get();
        e->header = static_cast<UringReqHeader*>(static_cast<void*>(map_buffer(kHeaderSize)));
        e->payload = map_buffer(payload_size_);
        e->iov[0] = {e->header, sizeof(UringReqHeader)};
        e->iov[1] = {e->payload, payload_size_};
        q->entries.push_back(std::move(e));
      }
      queues_.push_back(std::move(q));
    }
  }

  ~Rings() {
    stop();
    for (auto& q : queues_) {
      if (q->ring_ok) io_uring_queue_exit(&q->ring);
      for (auto& e : q->entries) {
        ::munmap(e->header, kHeaderSize);
        ::munmap(e->payload, payload_size_);
      }
    }
  }

  void start(Handler handler, Failed failed) {
    handler_ = std::move(handler);
    failed_ = std::move(failed);
    started_ = true;
    for (auto& q : queues_) {
      Queue* queue = q.get();
      q->thread = std::thread([this, queue] { run(*queue); });
    }
  }

  void stop() {
    stopping_ = true;
    for (auto& q : queues_) wake(*q);
    for (auto& q : queues_) {
      if (q->thread.joinable()) q->thread.join();
    }
  }

  bool started() const { return started_; }
  std::uint64_t requests() const { return requests_; }
  std::size_t queue_count() const { return queues_.size(); }

  // The entry holding request `unique`, taken for its answer; null when no entry holds it.
  Entry* claim(std::uint64_t unique) {
    Entry* current = current_;
    if (current != nullptr && take(*current, unique)) return current;
    for (auto& q : queues_) {
      for (auto& e : q->entries) {
        if (take(*e, unique)) return e.get();
      }
    }
    return nullptr;
  }

  // Writes the answer into `e`'s buffers and has its queue's thread commit it.
  void answer(Entry& e, std::uint64_t unique, int error, const void* data, std::size_t size) {
    if (error != 0 || size > payload_size_) {
      if (error == 0) error = EIO;  // cannot happen: the INIT answer bounds every reply
      size = 0;
    }
    fuse_out_header out{};
    out.len = static_cast<std::uint32_t>(sizeof out + size);
    out.error = -error;
    out.unique = unique;
    std::memcpy(e.header->in_out, &out, sizeof out);
    if (size > 0) std::memcpy(e.payload, data, size);
    e.header->ent_in_out.payload_sz = static_cast<std::uint32_t>(size);
    Queue& q = *e.queue;
    {
      std::lock_guard lock(q.mutex);
      q.answered.push_back(&e);
    }
    if (current_queue_ != &q) wake(q);  // its own thread commits after the request returns
  }

 private:
  static bool take(Entry& e, std::uint64_t unique) {
    std::uint64_t expected = unique;
    return unique != 0 && e.unique.compare_exchange_strong(expected, 0);
  }

  static void wake(Queue& q) {
    std::uint64_t one = 1;
    while (::write(q.wake.get(), &one, sizeof one) < 0 && errno == EINTR) {
    }
  }

  void fail(const Queue& q, const std::string& why) noexcept {
    if (failing_.exchange(true)) return;  // one line: the first queue's
    try {
      if (failed_) failed_("io_uring queue " + std::to_string(q.qid) + ": " + why);
    } catch (...) {  // a log line that cannot be written is not the queue's concern
    }
  }

  // A free SQE. The ring has one per entry and one for the eventfd, each with at most one
  // command in flight, so there always is one; submitting makes room all the same.
  static io_uring_sqe* next_sqe(Queue& q) {
    for (;;) {
      if (io_uring_sqe* sqe = io_uring_get_sqe(&q.ring)) return sqe;
      io_uring_submit(&q.ring);
    }
  }

  void submit_cmd(Queue& q, Entry& e, std::uint32_t cmd) {
    io_uring_sqe* sqe = next_sqe(q);
    std::memset(static_cast<void*>(sqe), 0, 2 * sizeof *sqe);  // SQE128: the command area too
    e.last_cmd = cmd;
    sqe->opcode = IORING_OP_URING_CMD;
    sqe->fd = fuse_fd_;
    sqe->cmd_op = cmd;
    UringCmdReq req{};
    req.qid = static_cast<std::uint16_t>(q.qid);
    if (cmd == kUringCmdRegister) {
      sqe->addr = reinterpret_cast<std::uint64_t>(e.iov);  // NOLINT: the ABI takes an address
      sqe->len = 2;
    } else {
      req.commit_id = e.commit_id;
    }
    std::memcpy(sqe->cmd, &req, sizeof req);
    io_uring_sqe_set_data(sqe, &e);
  }

  void arm_wake(Queue& q) {
    io_uring_sqe* sqe = next_sqe(q);
    io_uring_prep_read(sqe, q.wake.get(), &q.wake_value, sizeof q.wake_value, 0);
    io_uring_sqe_set_data64(sqe, kWakeTag);
  }

  // One request the kernel put in `e`: made whole and handled; an answer comes through reply().
  void serve(Entry& e) {
    e.commit_id = e.header->ent_in_out.commit_id;
    fuse_in_header in;
    std::memcpy(&in, e.header->in_out, sizeof in);
    e.unique = in.unique;
    bool whole;
    try {
      whole = assemble_uring_request(*e.header, {e.payload, payload_size_}, e.request);
    } catch (const std::bad_alloc&) {
      whole = false;
    }
    if (!whole) {
      if (take(e, in.unique)) answer(e, in.unique, EIO, nullptr, 0);
      return;
    }
    ++requests_;
    current_ = &e;
    handler_(e.request.data(), e.request.size());  // answers whatever it throws
    current_ = nullptr;
  }

  // The queue's thread: registers its entries, then serves what the kernel puts in them and
  // commits the answers, until the session ends.
  void run(Queue& q) {
    cpu_set_t cpu;
    CPU_ZERO(&cpu);
    CPU_SET(q.qid, &cpu);
    ::sched_setaffinity(0, sizeof cpu, &cpu);  // best effort: the CPU whose requests it serves
    current_queue_ = &q;
    for (auto& e : q.entries) submit_cmd(q, *e, kUringCmdRegister);
    arm_wake(q);
    bool end = false;
    while (!end) {
      int rc = io_uring_submit_and_wait(&q.ring, 1);
      if (rc < 0 && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY) {
        fail(q, std::strerror(-rc));
        break;
      }
      unsigned head, seen = 0;
      io_uring_cqe* cqe;
      io_uring_for_each_cqe(&q.ring, head, cqe) {
        ++seen;
        if (!end) end = complete(q, *cqe);
      }
      io_uring_cq_advance(&q.ring, seen);
      std::vector<Entry*> answered;
      {
        std::lock_guard lock(q.mutex);
        answered.swap(q.answered);
      }
      for (Entry* e : answered) submit_cmd(q, *e, kUringCmdCommitAndFetch);
      if (stopping_) end = true;
    }
    current_queue_ = nullptr;
  }

  // One completion; true when the queue is done.
  bool complete(Queue& q, const io_uring_cqe& cqe) {
    if (io_uring_cqe_get_data64(&cqe) == kWakeTag) {
      if (stopping_) return true;
      arm_wake(q);
      return false;
    }
    Entry& e = *static_cast<Entry*>(io_uring_cqe_get_data(&cqe));
    switch (cqe.res) {
      case 0:
        serve(e);
        return false;
      case -EAGAIN:
      case -EINTR:
        submit_cmd(q, e, e.last_cmd);
        return false;
      case -ENOTCONN:
      case -ECONNABORTED:
      case -ECANCELED:
      case -ENODEV:
        return true;  // the session is over
      default:
        if (e.last_cmd == kUringCmdCommitAndFetch) {
          // The kernel no longer knew the request (it was aborted): the entry goes back.
          submit_cmd(q, e, kUringCmdRegister);
          return false;
        }
        fail(q, std::string("registration refused: ") + std::strerror(-cqe.res));
        return true;
    }
  }

  DevFuseChannel& dev_;
  const int fuse_fd_;
  const std::size_t payload_size_;
  std::vector<std::unique_ptr<Queue>> queues_;
  Handler handler_;
  std::atomic<bool> stopping_{false};
  Failed failed_;
  bool started_ = false;
  std::atomic<bool> failing_{false};
  std::atomic<std::uint64_t> requests_{0};
  static thread_local Entry* current_;        // the entry whose request this thread handles
  static thread_local Queue* current_queue_;  // the queue whose thread this is
};

thread_local UringChannel::Rings::Entry* UringChannel::Rings::current_ = nullptr;
thread_local UringChannel::Rings::Queue* UringChannel::Rings::current_queue_ = nullptr;

UringChannel::UringChannel(DevFuseChannel& dev, int fuse_fd, std::size_t max_payload)
    : dev_(dev), rings_(std::make_unique<Rings>(dev, fuse_fd, max_payload)) {}
UringChannel::~UringChannel() = default;
void UringChannel::start(Handler handler, Failed failed) { rings_->start(std::move(handler), std::move(failed)); }
void UringChannel::stop() { rings_->stop(); }
bool UringChannel::started() const { return rings_->started(); }
std::size_t UringChannel::queue_count() const { return rings_->queue_count(); }
std::uint64_t UringChannel::requests() const { return rings_->requests(); }

void UringChannel::reply(std::uint64_t unique, int error, const void* data, std::size_t size) {
  if (Rings::Entry* e = rings_->claim(unique)) {
    rings_->answer(*e, unique, error, data, size);
  } else {
    dev_.reply(unique, error, data, size);
  }
}

#endif

}  // namespace cfs::fuse
