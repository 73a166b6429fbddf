#pragma once
// The shared exporter plumbing: bounded queue -> retry with exponential backoff and
// jitter (honouring the server's retry delay) -> per-request timeout -> Push. An exporter
// implements only Pusher; everything else, including its metrics, comes from here.
//
// Defaults lose nothing: a full queue blocks the caller (up to `timeout`, then answers
// UNAVAILABLE so the caller keeps the data and pushes back further up); dropping when
// full happens only with sending_queue.block_on_overflow: false, and is counted.

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "collector/common/worker_set.h"
#include "collector/component/factory.h"
#include "collector/exporterhelper/backoff.h"
#include "collector/storage/segment_log.h"
#include "collector/telemetry/telemetry.h"

namespace outrigger::exporterhelper {

inline constexpr int kDefaultNumConsumers = 2;
inline constexpr int64_t kDefaultQueueSizeItems = 32768;
inline constexpr int64_t kDefaultQueueSizeRequests = 1000;
inline constexpr absl::Duration kDefaultTimeout = absl::Seconds(5);
// A full queue with block_on_overflow holds its caller for `timeout`, but never longer
// than this (elasticsearch's timeout is 90 s): the caller is a receiver's thread, which
// shutdown waits for, and its client is better told "not now" (UNAVAILABLE) soon.
inline constexpr absl::Duration kMaxBlockOnOverflow = absl::Seconds(5);
// A queue consumer with nothing to send for this long leaves; the next request starts
// one again (an idle exporter holds no thread).
inline constexpr absl::Duration kConsumerIdleExit = absl::Seconds(2);

// Batching in the queue (the OpenTelemetry Collector's sending_queue.batch): a consumer
// that takes a request smaller than min_size merges the requests of the same signal that
// follow it, waiting up to flush_timeout for more, before it sends. Data waits in the
// queue, never in the exporter, so nothing is acknowledged that a queue would not hold.
struct BatchConfig {
  bool enabled = false;     // on when the `batch` key is present (or an exporter enables it)
  bool configured = false;  // the `batch` key was present (so an exporter keeps its settings)
  absl::Duration flush_timeout = absl::Milliseconds(200);
  std::string sizer = "items";  // items | bytes (encoded OTLP size)
  int64_t min_size = 8192;
  int64_t max_size = 0;  // 0: no limit
};

struct QueueConfig {
  bool enabled = true;
  int num_consumers = kDefaultNumConsumers;
  // What queue_size counts: "items" (spans, data points, log records: bounds memory
  // whatever the batch sizes) or "requests" (the OpenTelemetry Collector's default).
  std::string sizer = "items";
  int64_t queue_size = 0;  // 0: 32768 items, or 1000 requests
  bool block_on_overflow = true;
  // The id of a storage extension (file_storage): the queue is kept on disk, replayed at
  // start, and what is unsent at shutdown stays there for the next start.
  std::string storage;
  BatchConfig batch;
  int64_t Capacity() const {
    if (queue_size > 0) return queue_size;
    return sizer == "requests" ? kDefaultQueueSizeRequests : kDefaultQueueSizeItems;
  }
};

// The keys every queued exporter accepts: sending_queue, retry_on_failure, timeout.
struct HelperConfig {
  QueueConfig sending_queue;
  RetryConfig retry_on_failure;
  absl::Duration timeout = kDefaultTimeout;
  void Decode(config::Node& node);
  absl::Status Validate() const;
};

// A retryable status can carry the delay the server asked for.
absl::Status WithRetryDelay(absl::Status status, absl::Duration delay);
std::optional<absl::Duration> RetryDelay(const absl::Status& status);
bool IsRetryable(const absl::Status& status);

// For a Pusher answering a push OK (or retryable) of which some items were dropped for
// good — rejected one by one by the backend, or impossible to translate: the helper then
// counts them as dropped, not sent. Per thread: the helper calls Push* on the thread that
// counts the outcome. Each item is reported at most once over the attempts of a push.
void ReportDropped(size_t items);
// For a Pusher answering a push with a retryable error although some of its items were
// delivered (a partial bulk success): it resends only the others when the helper retries,
// and the helper counts these as sent, not dropped, if it gives up. Same rules as
// ReportDropped (per thread; each item at most once over the attempts of a push).
void ReportDelivered(size_t items);

// What an exporter implements.
class Pusher {
 public:
  virtual ~Pusher() = default;
  virtual absl::Status Start(Host& host) { return absl::OkStatus(); }
  // Shutdown has begun and must end by `deadline`: a pusher that waits inside a push (its
  // own retries) gives up by then. Called before the pushes in flight are waited for.
  virtual void BeginShutdown(absl::Time deadline) {}
  virtual absl::Status Shutdown() { return absl::OkStatus(); }
  // Sends one request; returns by `deadline`. Retryable: UNAVAILABLE, RESOURCE_EXHAUSTED,
  // DEADLINE_EXCEEDED, ABORTED (optionally WithRetryDelay). Anything else is permanent.
  virtual absl::Status PushTraces(const pdata::Traces& d, absl::Time deadline);
  virtual absl::Status PushMetrics(const pdata::Metrics& d, absl::Time deadline);
  virtual absl::Status PushLogs(const pdata::Logs& d, absl::Time deadline);
};

// A Pusher written once for the three signals: `Derived` defines
//   template <typename D> absl::Status Send(Signal s, const D& data, absl::Time deadline);
template <typename Derived>
class SignalPusher : public Pusher {
 public:
  absl::Status PushTraces(const pdata::Traces& d, absl::Time deadline) override {
    return static_cast<Derived*>(this)->Send(Signal::kTraces, d, deadline);
  }
  absl::Status PushMetrics(const pdata::Metrics& d, absl::Time deadline) override {
    return static_cast<Derived*>(this)->Send(Signal::kMetrics, d, deadline);
  }
  absl::Status PushLogs(const pdata::Logs& d, absl::Time deadline) override {
    return static_cast<Derived*>(this)->Send(Signal::kLogs, d, deadline);
  }
};

class QueuedExporter : public Exporter {
 public:
  QueuedExporter(const CreateSettings& settings, HelperConfig cfg, std::unique_ptr<Pusher> pusher);
  ~QueuedExporter() override;

  absl::Status Start(Host& host) override;
  absl::Status Shutdown(absl::Time deadline) override;
  absl::Status ConsumeTraces(pdata::Traces&& d) override { return Enqueue(std::move(d)); }
  absl::Status ConsumeMetrics(pdata::Metrics&& d) override { return Enqueue(std::move(d)); }
  absl::Status ConsumeLogs(pdata::Logs&& d) override { return Enqueue(std::move(d)); }

  // In the sizer's unit (items or requests).
  size_t QueueSize() const;

 private:
  using Item = std::variant<pdata::Traces, pdata::Metrics, pdata::Logs>;
  absl::Status Enqueue(Item item);
  // The persistent queue (sending_queue.storage): Enqueue writes the request to the
  // store before it answers OK; a worker takes it from there, and it is acknowledged
  // (removed) only once pushed or refused for good.
  absl::Status OpenStorage(Host& host);
  absl::Status EnqueueStored(Item item, int64_t units, std::unique_lock<std::mutex>& lock);
  struct StoredBatch {
    Item item;
    std::vector<storage::Position> positions;  // the records it was made of
  };
  // Like TakeBatch, from the store. Empty positions: nothing could be read.
  StoredBatch TakeStored(std::unique_lock<std::mutex>& lock);
  // Reads the store's next record into lookahead_; false if there is none.
  bool PeekStored() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void StoredWorker();
  void UpdateStorageMetrics() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Takes the front request; with batching, merges what follows (see BatchConfig).
  // Called with `lock` held; may wait on it.
  Item TakeBatch(std::unique_lock<std::mutex>& lock);
  void Dequeued(const Item& item);
  // Sends with retries; returns the final status (OK, or why the item was dropped).
  absl::Status SendWithRetry(const Item& item);
  absl::Status PushOnce(const Item& item, absl::Time deadline);
  void Worker();
  // Sleeps for `d` before the next attempt. Once shutdown has begun, an attempt that
  // would start too late to end by the deadline is moved earlier, so that the last one
  // fits before it (see SendWithRetry); false when no attempt fits any more.
  bool SleepBeforeRetry(absl::Duration d);

  CreateSettings settings_;
  HelperConfig cfg_;
  std::unique_ptr<Pusher> pusher_;
  ExporterMeter meter_;

  mutable std::mutex mu_;
  std::condition_variable not_empty_, not_full_, wake_;
  std::deque<Item> queue_ ABSL_GUARDED_BY(mu_);
  int64_t queued_units_ ABSL_GUARDED_BY(mu_) = 0;  // in the sizer's unit
  int in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  absl::Time deadline_ ABSL_GUARDED_BY(mu_) = absl::InfiniteFuture();
  bool joined_ ABSL_GUARDED_BY(mu_) = false;  // Shutdown joined the consumers
  // The queue's consumers, started with the work (at most num_consumers) and gone after
  // kConsumerIdleExit without any; joined by Shutdown.
  WorkerSet workers_{static_cast<size_t>(std::max(cfg_.sending_queue.num_consumers, 1)), kConsumerIdleExit,
                     [this] { log_ ? StoredWorker() : Worker(); }, "exporter"};

  // With sending_queue.storage (null otherwise; set by Start, closed by Shutdown).
  std::unique_ptr<storage::SegmentLog> log_;
  struct Record {
    std::string payload;  // signal (1 byte), items (4, little-endian), OTLP protobuf
    storage::Position pos;
  };
  std::optional<Record> lookahead_ ABSL_GUARDED_BY(mu_);  // the store's next record, read ahead
  int64_t stored_requests_ ABSL_GUARDED_BY(mu_) = 0;      // in the store, not yet taken
  int appending_ ABSL_GUARDED_BY(mu_) = 0;                // Enqueues writing to the store
  uint64_t corrupt_seen_ = 0;                             // by UpdateStorageMetrics
  absl::Time last_store_error_log_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  prometheus::Counter* storage_corrupt_ = nullptr;
  prometheus::Counter* storage_write_errors_ = nullptr;
  prometheus::Gauge* storage_bytes_ = nullptr;
};

}  // namespace outrigger::exporterhelper

namespace outrigger::exporterhelper {

// The factory of an exporter made of a Pusher `P` (constructed from CreateSettings and
// its config `Cfg`) on the shared helper. `Cfg` has a `HelperConfig helper` member.
template <typename Cfg, typename P>
class PushExporterFactory : public ExporterFactory {
 public:
  PushExporterFactory(std::string type, std::set<Signal> signals, std::vector<std::string_view> aliases = {})
      : type_(std::move(type)), signals_(std::move(signals)), aliases_(std::move(aliases)) {}
  std::string_view Type() const override { return type_; }
  std::vector<std::string_view> Aliases() const override { return aliases_; }
  std::set<Signal> Signals() const override { return signals_; }
  std::unique_ptr<ComponentConfig> CreateDefaultConfig() const override { return std::make_unique<Cfg>(); }
  absl::StatusOr<std::unique_ptr<Exporter>> CreateExporter(const CreateSettings& settings,
                                                           const ComponentConfig& cfg) const override {
    const auto& c = static_cast<const Cfg&>(cfg);
    return std::unique_ptr<Exporter>(
        std::make_unique<QueuedExporter>(settings, c.helper, std::make_unique<P>(settings, c)));
  }

 private:
  std::string type_;
  std::set<Signal> signals_;
  std::vector<std::string_view> aliases_;
};

}  // namespace outrigger::exporterhelper
