#pragma once
// The OTLP/HTTP receiver's workers: a request is decoded and given to the pipeline
// (Consume, which may wait on a full exporter queue) on one of a few threads, never on
// the event loop, which serves every other server too (/metrics, health, StatsD). A
// request waits for a worker in a bounded queue; one that finds the queue full, or waits
// longer than max_wait, is refused (the receiver answers 503 with Retry-After) so that a
// slow pipeline turns into backpressure at once instead of into a stalled collector. While
// every worker has been on its request for longer than max_wait (the pipeline is stalled,
// e.g. a full exporter queue that blocks), new requests are refused without waiting.
// The threads exist only while there are requests (a WorkerSet): one starts when a
// request is queued and no idle one is there, up to `threads`, and one that found no
// request for idle_exit leaves, so an idle receiver holds none.

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/time/time.h"

namespace boost::asio {
class io_context;
}

namespace outrigger::receivers::otlp {

inline constexpr int kHttpWorkers = 4;
inline constexpr size_t kHttpMaxWaiting = 128;                 // requests waiting for a worker
inline constexpr uint64_t kHttpMaxWaitingBytes = 64ull << 20;  // their bodies, as received
inline constexpr absl::Duration kHttpMaxWait = absl::Seconds(1);
inline constexpr absl::Duration kHttpIdleExit = absl::Seconds(2);

class HttpWorkers {
 public:
  struct Limits {
    int threads = kHttpWorkers;
    size_t max_waiting = kHttpMaxWaiting;
    uint64_t max_waiting_bytes = kHttpMaxWaitingBytes;
    absl::Duration max_wait = kHttpMaxWait;
    absl::Duration idle_exit = kHttpIdleExit;  // a worker without a request leaves after it
  };
  HttpWorkers(boost::asio::io_context& io, Limits limits);
  ~HttpWorkers();  // Stop()

  // On the event loop. Queues `run` for a worker and returns true; `refuse` is called
  // instead (on the event loop, or by Stop) if no worker takes it within max_wait. False
  // at once (neither is called) when max_waiting requests or bytes already wait, when
  // the pipeline is stalled (see above), or after Stop.
  bool Submit(uint64_t bytes, std::function<void()> run, std::function<void()> refuse);

  // Refuses what waits, lets the requests that run finish, and joins the threads.
  void Stop();

  // Worker threads running now (idle ones included).
  size_t Threads() const;

  struct Core;

 private:
  std::shared_ptr<Core> core_;
};

}  // namespace outrigger::receivers::otlp
