#include "receivers/otlp/http_workers.h"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/asio.hpp>
#include <cerrno>
#include <chrono>
#include <limits>
#include <optional>
#include <utility>

#include "absl/time/clock.h"
#include "collector/common/worker_set.h"

namespace outrigger::receivers::otlp {

namespace asio = boost::asio;

struct Job {
  uint64_t bytes = 0;
  std::function<void()> run, refuse;
  std::chrono::steady_clock::time_point queued;  // refused at queued + max_wait
  bool waiting = true;                           // guarded by Core::mu
};

struct HttpWorkers::Core {
  Core(asio::io_context& io, Limits limits)
      : io(io),
        limits(limits),
        timer(std::make_shared<asio::steady_timer>(io)),
        workers(
            static_cast<size_t>(std::max(limits.threads, 0)), limits.idle_exit, [this] { Work(); }, "otlp-http") {}
  asio::io_context& io;
  const Limits limits;
  // One timer for every waiting request (not one per request, which cost a kernel timer
  // update and a wakeup each): set for the oldest one's max_wait when a request is
  // queued and it is not set, and again when it fires while requests still wait. The
  // event loop's only; its wait holds it (Core may go from another thread).
  std::shared_ptr<asio::steady_timer> timer;
  bool timer_set = false;  // event loop only
  std::mutex mu;
  // Idle workers sleep on a futex word bumped for each queued request. Neither a
  // condition variable (glibc's marks the mutex contended when a waiter wakes: one more
  // futex call per request) nor std::counting_semaphore (libstdc++ spins on
  // sched_yield before it sleeps): one FUTEX_WAKE and one FUTEX_WAIT per request.
  std::atomic<uint32_t> wake_seq{0};
  std::atomic<int> sleepers{0};

  void Wake(int n) {
    wake_seq.fetch_add(1);
    if (sleepers.load() > 0)
      syscall(SYS_futex, reinterpret_cast<uint32_t*>(&wake_seq), FUTEX_WAKE_PRIVATE, n, nullptr, nullptr, 0);
  }
  // Sleeps unless wake_seq moved from `seen` (then returns at once), at most `limit`.
  // True if it slept that long.
  bool Sleep(uint32_t seen, absl::Duration limit) {
    const timespec ts = absl::ToTimespec(limit);
    sleepers.fetch_add(1);
    const long r =
        syscall(SYS_futex, reinterpret_cast<uint32_t*>(&wake_seq), FUTEX_WAIT_PRIVATE, seen, &ts, nullptr, 0);
    const bool timed_out = r != 0 && errno == ETIMEDOUT;
    sleepers.fetch_sub(1);
    return timed_out;
  }
  std::deque<std::shared_ptr<Job>> waiting ABSL_GUARDED_BY(mu);
  uint64_t waiting_bytes ABSL_GUARDED_BY(mu) = 0;
  bool stopped ABSL_GUARDED_BY(mu) = false;
  // Per worker slot (one per thread that may run): since when it runs its request
  // (InfiniteFuture when idle or when no thread has the slot), and whether a thread has it.
  std::vector<absl::Time> busy_since ABSL_GUARDED_BY(mu);
  std::vector<bool> slot_taken ABSL_GUARDED_BY(mu);
  WorkerSet workers;  // guarded by mu

  // Every thread has been running its request for longer than max_wait: the pipeline is
  // stalled, and a new request would only wait to be refused.
  bool Stalled() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    const absl::Time limit = absl::Now() - limits.max_wait;
    for (absl::Time t : busy_since) {
      if (t > limit) return false;
    }
    return !busy_since.empty();
  }

  // Takes `job` out of the queue if it still waits there; true if it did.
  bool Unqueue(const std::shared_ptr<Job>& job) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    if (!job->waiting) return false;
    job->waiting = false;
    waiting_bytes -= job->bytes;
    for (auto it = waiting.begin(); it != waiting.end(); ++it) {
      if (*it == job) {
        waiting.erase(it);
        break;
      }
    }
    return true;
  }

  // A worker thread (started by workers.Wake): runs queued requests, sleeps on the
  // futex word between them, and leaves after idle_exit without one.
  void Work() {
    std::unique_lock<std::mutex> lock(mu);
    size_t slot = 0;
    while (slot_taken[slot]) ++slot;  // workers.running() <= slots: one is free
    slot_taken[slot] = true;
    while (true) {
      if (!waiting.empty()) {
        std::shared_ptr<Job> job = std::move(waiting.front());
        waiting.pop_front();
        job->waiting = false;
        waiting_bytes -= job->bytes;
        std::function<void()> run = std::move(job->run);  // the job (kept by its timer) keeps no request
        job->refuse = nullptr;
        busy_since[slot] = absl::Now();
        lock.unlock();
        run();
        run = nullptr;
        lock.lock();
        busy_since[slot] = absl::InfiniteFuture();
        continue;
      }
      if (stopped) break;  // Stop joins the thread
      // Read with mu held after seeing no request: a request queued from now on moves
      // it, so Sleep returns at once instead of missing its wake-up.
      const uint32_t seen = wake_seq.load();
      workers.Sleeping();
      lock.unlock();
      const bool idle = Sleep(seen, workers.idle_exit());
      lock.lock();
      workers.Awake();
      if (idle && waiting.empty() && !stopped) {
        workers.Leave();
        break;
      }
    }
    slot_taken[slot] = false;
  }
};

// On the event loop: refuses what has waited max_wait, and sets the timer again for
// the oldest request still waiting.
static void Expire(const std::weak_ptr<HttpWorkers::Core>& weak) {
  auto core = weak.lock();
  if (!core) return;
  core->timer_set = false;
  std::vector<std::function<void()>> refused;
  std::optional<std::chrono::steady_clock::time_point> next;
  {
    std::lock_guard<std::mutex> lock(core->mu);
    const auto now = std::chrono::steady_clock::now();
    const auto max_wait = absl::ToChronoNanoseconds(core->limits.max_wait);
    while (!core->waiting.empty()) {
      std::shared_ptr<Job> job = core->waiting.front();
      if (job->queued + max_wait > now) {
        next = job->queued + max_wait;
        break;
      }
      core->Unqueue(job);
      refused.push_back(std::move(job->refuse));
      job->run = nullptr;
    }
  }
  if (next) {
    core->timer_set = true;
    core->timer->expires_at(*next);
    core->timer->async_wait([timer = core->timer, weak](const boost::system::error_code&) { Expire(weak); });
  }
  for (auto& r : refused) {
    if (r) r();
  }
}

HttpWorkers::HttpWorkers(asio::io_context& io, Limits limits) : core_(std::make_shared<Core>(io, limits)) {
  std::lock_guard<std::mutex> lock(core_->mu);
  core_->busy_since.assign(static_cast<size_t>(std::max(limits.threads, 0)), absl::InfiniteFuture());
  core_->slot_taken.assign(core_->busy_since.size(), false);
}

HttpWorkers::~HttpWorkers() { Stop(); }

bool HttpWorkers::Submit(uint64_t bytes, std::function<void()> run, std::function<void()> refuse) {
  auto job = std::make_shared<Job>();
  job->bytes = bytes;
  job->queued = std::chrono::steady_clock::now();
  job->run = std::move(run);
  job->refuse = std::move(refuse);
  {
    std::lock_guard<std::mutex> lock(core_->mu);
    const Limits& l = core_->limits;
    // One request larger than max_waiting_bytes still goes in when none waits.
    if (core_->stopped || core_->waiting.size() >= l.max_waiting || core_->Stalled() ||
        (!core_->waiting.empty() && core_->waiting_bytes + bytes > l.max_waiting_bytes)) {
      return false;
    }
    core_->waiting.push_back(job);
    core_->waiting_bytes += bytes;
    // A thread starts when none sleeps for this request (it then takes it on its own).
    core_->workers.Wake(core_->waiting.size());
  }
  core_->Wake(1);
  if (!core_->timer_set) {
    core_->timer_set = true;
    core_->timer->expires_at(job->queued + absl::ToChronoNanoseconds(core_->limits.max_wait));
    core_->timer->async_wait(
        [timer = core_->timer, weak = std::weak_ptr<Core>(core_)](const boost::system::error_code&) { Expire(weak); });
  }
  return true;
}

void HttpWorkers::Stop() {
  std::deque<std::shared_ptr<Job>> left;
  {
    std::lock_guard<std::mutex> lock(core_->mu);
    if (core_->stopped) return;
    core_->stopped = true;
    left.swap(core_->waiting);
    core_->waiting_bytes = 0;
    for (auto& j : left) j->waiting = false;
  }
  core_->Wake(std::numeric_limits<int>::max());
  for (auto& j : left) {
    j->run = nullptr;
    if (j->refuse) std::exchange(j->refuse, nullptr)();
  }
  core_->workers.JoinAll(core_->mu);
}

size_t HttpWorkers::Threads() const {
  std::lock_guard<std::mutex> lock(core_->mu);
  return core_->workers.running();
}

}  // namespace outrigger::receivers::otlp
