#include "receivers/otlp/http_workers.h"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio.hpp>
#include <chrono>
#include <limits>
#include <optional>
#include <utility>

#include "absl/time/clock.h"

namespace outrigger::receivers::otlp {

namespace asio = boost::asio;

struct Job {
  uint64_t bytes = 0;
  std::function<void()> run, refuse;
  std::chrono::steady_clock::time_point queued;  // refused at queued + max_wait
  bool waiting = true;                           // guarded by Core::mu
};

struct HttpWorkers::Core {
  Core(asio::io_context& io, Limits limits) : io(io), limits(limits), timer(std::make_shared<asio::steady_timer>(io)) {}
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
  // Sleeps unless wake_seq moved from `seen` (then returns at once).
  void Sleep(uint32_t seen) {
    sleepers.fetch_add(1);
    syscall(SYS_futex, reinterpret_cast<uint32_t*>(&wake_seq), FUTEX_WAIT_PRIVATE, seen, nullptr, nullptr, 0);
    sleepers.fetch_sub(1);
  }
  std::deque<std::shared_ptr<Job>> waiting ABSL_GUARDED_BY(mu);
  uint64_t waiting_bytes ABSL_GUARDED_BY(mu) = 0;
  bool stopped ABSL_GUARDED_BY(mu) = false;
  // Per thread: since when it runs its request (InfiniteFuture when idle).
  std::vector<absl::Time> busy_since ABSL_GUARDED_BY(mu);

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

  void Work(size_t index) {
    while (true) {
      const uint32_t seen = wake_seq.load();
      std::function<void()> run;
      {
        std::lock_guard<std::mutex> lock(mu);
        if (!waiting.empty()) {
          std::shared_ptr<Job> job = std::move(waiting.front());
          waiting.pop_front();
          job->waiting = false;
          waiting_bytes -= job->bytes;
          run = std::move(job->run);  // the job (kept by its timer) keeps no request
          job->refuse = nullptr;
          busy_since[index] = absl::Now();
        } else if (stopped) {
          return;
        }
      }
      if (!run) {
        Sleep(seen);
        continue;
      }
      run();
      std::lock_guard<std::mutex> lock(mu);
      busy_since[index] = absl::InfiniteFuture();
    }
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
  {
    std::lock_guard<std::mutex> lock(core_->mu);
    core_->busy_since.assign(static_cast<size_t>(limits.threads), absl::InfiniteFuture());
  }
  for (int i = 0; i < limits.threads; ++i) {
    threads_.emplace_back([core = core_, i] { core->Work(static_cast<size_t>(i)); });
  }
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
  for (auto& t : threads_) t.join();
  threads_.clear();
}

}  // namespace outrigger::receivers::otlp
