#include "processors/batch/batch_processor.h"

#include <chrono>
#include <condition_variable>
#include <mutex>

#include "absl/base/thread_annotations.h"
#include "collector/common/worker_set.h"
#include "collector/exporterhelper/exporterhelper.h"
#include "collector/telemetry/telemetry.h"
#include "spdlog/spdlog.h"

namespace outrigger::processors::batch {
namespace {

constexpr absl::Duration kMinRetryDelay = absl::Milliseconds(50);
constexpr absl::Duration kMaxRetryDelay = absl::Seconds(5);
// The sending thread leaves after this long with nothing held, and comes back with the
// next item: an idle pipeline holds no thread.
constexpr absl::Duration kIdleExit = absl::Seconds(2);

// The batch processor's own metrics, beside the dropped counts every processor has.
class BatchMeter {
 public:
  BatchMeter(Telemetry& t, const ComponentId& id, std::string_view signal) {
    ::prometheus::Labels labels{{"processor", id.String()}, {"signal", std::string(signal)}};
    size_ = &t.AddHistogram("outrigger_processor_batch_send_size", "Items per batch the batch processor sent", labels,
                            {10,   25,   50,   75,   100,  250,  500,   750,   1000,  2000,  3000,
                             4000, 5000, 6000, 7000, 8000, 9000, 10000, 20000, 30000, 50000, 100000});
    auto trigger = [&](const char* what) {
      auto l = labels;
      l["trigger"] = what;
      return &t.AddCounter("outrigger_processor_batch_sends_total",
                           "Batches sent, by what triggered them (size or timeout)", l);
    };
    by_size_ = trigger("size");
    by_timeout_ = trigger("timeout");
    // Upstream's names, for service.telemetry.metrics.naming: otelcol.
    auto upstream = [&](const char* from, const char* label, const char* value, const char* to) {
      OtelcolName n;
      n.from = from;
      n.label = label;
      n.value = value;
      n.to = to;
      n.keep_labels = {"processor"};
      t.AddOtelcolName(std::move(n));
    };
    upstream("outrigger_processor_batch_send_size", "", "", "otelcol_processor_batch_batch_send_size");
    upstream("outrigger_processor_batch_sends_total", "trigger", "size",
             "otelcol_processor_batch_batch_size_trigger_send");
    upstream("outrigger_processor_batch_sends_total", "trigger", "timeout",
             "otelcol_processor_batch_timeout_trigger_send");
  }

  // A batch of `n` items was sent, because the size was reached or the timeout passed.
  void Sent(size_t n, bool by_size) {
    size_->Observe(static_cast<double>(n));
    (by_size ? by_size_ : by_timeout_)->Increment();
  }

 private:
  ::prometheus::Histogram* size_;
  ::prometheus::Counter* by_size_;
  ::prometheus::Counter* by_timeout_;
};

template <typename T>
class BatchProcessor : public Processor {
 public:
  BatchProcessor(const CreateSettings& settings, const Config& cfg, Signal signal, Consumer* next)
      : settings_(settings),
        cfg_(cfg),
        signal_(signal),
        next_(next),
        meter_(settings.telemetry->ForProcessor(settings.id, SignalName(signal))),
        batch_meter_(*settings.telemetry, settings.id, SignalName(signal)),
        over_bytes_(&settings.telemetry->AddCounter(
            "outrigger_processor_batch_refused_over_bytes_total",
            "Items the batch processor refused (backpressure) because max_pending_bytes were held",
            {{"processor", settings.id.String()}, {"signal", std::string(SignalName(signal))}})) {}

  ~BatchProcessor() override { (void)Shutdown(absl::Now()); }

  absl::Status Start(Host&) override { return absl::OkStatus(); }  // the sender starts with the first item

  absl::Status Shutdown(absl::Time deadline) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
      deadline_ = deadline;
    }
    cv_.notify_all();
    sender_.JoinAll(mu_);
    // Out of time: whatever is left is dropped, and counted.
    std::lock_guard<std::mutex> lock(mu_);
    if (pending_items_ > 0) {
      meter_.Dropped(signal_, pending_items_);
      settings_.logger->error("dropped {} {} at shutdown: the deadline passed before they could be sent",
                              pending_items_, ItemNoun(signal_));
      pending_ = T();
      pending_items_ = 0;
      pending_bytes_ = 0;
    }
    return absl::OkStatus();
  }

  absl::Status ConsumeTraces(pdata::Traces&& d) override { return Add(std::move(d)); }
  absl::Status ConsumeMetrics(pdata::Metrics&& d) override { return Add(std::move(d)); }
  absl::Status ConsumeLogs(pdata::Logs&& d) override { return Add(std::move(d)); }
  bool MutatesData() const override { return false; }

 private:
  template <typename D>
  absl::Status Add(D&& d) {
    if constexpr (!std::is_same_v<D, T>) {
      return absl::InternalError("batch processor fed the wrong signal");
    } else {
      const size_t n = d.ItemCount();
      if (n == 0) return absl::OkStatus();
      const size_t bytes = cfg_.max_pending_bytes > 0 ? d.ByteSize() : 0;  // outside the lock
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return absl::UnavailableError("batch processor is shutting down");
      if (pending_items_ > 0 && pending_items_ + n > cfg_.PendingLimit()) {
        return absl::ResourceExhaustedError(StrCat("batch processor ", settings_.id.String(), " holds ", pending_items_,
                                                   " ", ItemNoun(signal_), " that the exporters have not taken yet"));
      }
      if (pending_items_ > 0 && cfg_.max_pending_bytes > 0 && pending_bytes_ + bytes > cfg_.max_pending_bytes) {
        over_bytes_->Increment(static_cast<double>(n));
        return absl::ResourceExhaustedError(StrCat("batch processor ", settings_.id.String(), " holds ", pending_bytes_,
                                                   " bytes (max_pending_bytes ", cfg_.max_pending_bytes,
                                                   ") that the exporters have not taken yet"));
      }
      if (pending_items_ == 0) first_pending_ = absl::Now();
      pending_.Append(std::move(d));
      pending_items_ += n;
      pending_bytes_ += bytes;
      // The first item wakes the sender to time the batch from it. (Upstream's ticker, a
      // batch `timeout` after the previous send, would spare that wake-up but makes more,
      // smaller batches: measured under the sidecar bench, 10 instead of ~8 exports/s, and
      // an export costs several times a wake-up.)
      if (pending_items_ >= cfg_.send_batch_size || BytesFull() || cfg_.timeout == absl::ZeroDuration() ||
          pending_items_ == n) {
        sender_.Wake(cv_);
      }
      return absl::OkStatus();
    }
  }

  // Half of max_pending_bytes held: a batch goes at once (room for the next).
  bool BytesFull() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return cfg_.max_pending_bytes > 0 && pending_bytes_ >= cfg_.max_pending_bytes / 2;
  }

  void Run() {
    absl::Duration retry_delay = kMinRetryDelay;
    absl::Time retry_at = absl::InfinitePast();
    std::unique_lock<std::mutex> lock(mu_);
    while (true) {
      // Wait for a reason to send.
      while (true) {
        absl::Time now = absl::Now();
        if (stopping_) {
          if (pending_items_ == 0 || now >= deadline_) return;
          if (now >= retry_at) break;
        } else if (pending_items_ > 0 && now >= retry_at &&
                   (pending_items_ >= cfg_.send_batch_size || BytesFull() || now >= first_pending_ + cfg_.timeout)) {
          break;
        }
        absl::Time wake = absl::InfiniteFuture();
        if (pending_items_ > 0) wake = std::max(first_pending_ + cfg_.timeout, retry_at);
        if (stopping_) wake = std::min(std::max(retry_at, now), deadline_);
        if (wake == absl::InfiniteFuture()) {
          // Nothing held: wait for an item, or leave (Add starts a sender again).
          if (!sender_.Wait(lock, cv_, [&] { return pending_items_ > 0 || stopping_; })) return;
        } else {
          cv_.wait_for(lock, absl::ToChronoNanoseconds(std::max(wake - now, absl::ZeroDuration())));
        }
      }
      const bool by_size = pending_items_ >= cfg_.send_batch_size || BytesFull();
      T batch;
      size_t batch_bytes = pending_bytes_;
      if (cfg_.send_batch_max_size > 0 && pending_items_ > cfg_.send_batch_max_size) {
        batch = pending_.SplitFront(cfg_.send_batch_max_size);
        if (cfg_.max_pending_bytes > 0) batch_bytes = std::min(batch_bytes, batch.ByteSize());
      } else {
        batch = std::move(pending_);
        pending_ = T();
      }
      const size_t n = batch.ItemCount();
      pending_items_ -= n;
      pending_bytes_ = pending_items_ == 0 ? 0 : pending_bytes_ - batch_bytes;
      const absl::Time batch_first = first_pending_;
      if (pending_items_ > 0) first_pending_ = absl::Now();
      lock.unlock();

      absl::Status st = next_->Consume(batch.Clone());
      lock.lock();
      if (st.ok()) {
        batch_meter_.Sent(n, by_size);
        retry_delay = kMinRetryDelay;
        retry_at = absl::InfinitePast();
        continue;
      }
      if (exporterhelper::IsRetryable(st)) {
        // Keep it, in order, and try again shortly; meanwhile new data is refused once
        // max_pending_items are held.
        batch.Append(std::move(pending_));
        pending_ = std::move(batch);
        pending_items_ += n;
        pending_bytes_ += batch_bytes;
        first_pending_ = batch_first;
        retry_at = absl::Now() + retry_delay;
        settings_.logger->debug("next consumer pushed back ({}); retrying in {}", st.ToString(),
                                absl::FormatDuration(retry_delay));
        retry_delay = std::min(retry_delay * 2, kMaxRetryDelay);
        continue;
      }
      meter_.Dropped(signal_, n);
      settings_.logger->error("dropped a batch of {} {}: permanent error downstream: {}", n, ItemNoun(signal_),
                              st.ToString());
    }
  }

  CreateSettings settings_;
  Config cfg_;
  Signal signal_;
  Consumer* next_;
  ProcessorMeter meter_;
  BatchMeter batch_meter_;
  ::prometheus::Counter* over_bytes_;

  std::mutex mu_;
  std::condition_variable cv_;
  T pending_ ABSL_GUARDED_BY(mu_);
  size_t pending_items_ ABSL_GUARDED_BY(mu_) = 0;
  size_t pending_bytes_ ABSL_GUARDED_BY(mu_) = 0;  // encoded size of pending_ (with max_pending_bytes)
  absl::Time first_pending_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  absl::Time deadline_ ABSL_GUARDED_BY(mu_) = absl::InfiniteFuture();
  // The one sending thread, there only while items are held (or a retry is pending).
  WorkerSet sender_{1, kIdleExit, [this] { Run(); }, "batch"};
};

}  // namespace

std::unique_ptr<Processor> NewBatchProcessor(const CreateSettings& settings, const Config& cfg, Signal signal,
                                             Consumer* next) {
  switch (signal) {
    case Signal::kTraces:
      return std::make_unique<BatchProcessor<pdata::Traces>>(settings, cfg, signal, next);
    case Signal::kMetrics:
      return std::make_unique<BatchProcessor<pdata::Metrics>>(settings, cfg, signal, next);
    case Signal::kLogs:
      return std::make_unique<BatchProcessor<pdata::Logs>>(settings, cfg, signal, next);
  }
  return nullptr;
}

}  // namespace outrigger::processors::batch
