#include "processors/batch/batch_processor.h"

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "collector/exporterhelper/exporterhelper.h"
#include "collector/telemetry/telemetry.h"
#include "spdlog/spdlog.h"

namespace outrigger::processors::batch {
namespace {

constexpr absl::Duration kMinRetryDelay = absl::Milliseconds(50);
constexpr absl::Duration kMaxRetryDelay = absl::Seconds(5);

template <typename T>
class BatchProcessor : public Processor {
 public:
  BatchProcessor(const CreateSettings& settings, const Config& cfg, Signal signal, Consumer* next)
      : settings_(settings),
        cfg_(cfg),
        signal_(signal),
        next_(next),
        meter_(settings.telemetry->ForProcessor(settings.id, SignalName(signal))) {}

  ~BatchProcessor() override { (void)Shutdown(absl::Now()); }

  absl::Status Start(Host&) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (!worker_.joinable()) worker_ = std::thread([this] { Run(); });
    return absl::OkStatus();
  }

  absl::Status Shutdown(absl::Time deadline) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
      deadline_ = deadline;
    }
    cv_.notify_all();
    if (worker_.joinable()) worker_.join();
    // Never started, or out of time: whatever is left is dropped, and counted.
    std::lock_guard<std::mutex> lock(mu_);
    if (pending_items_ > 0) {
      meter_.Dropped(signal_, pending_items_);
      settings_.logger->error("dropped {} {} at shutdown: the deadline passed before they could be sent",
                              pending_items_, ItemNoun(signal_));
      pending_ = T();
      pending_items_ = 0;
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
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return absl::UnavailableError("batch processor is shutting down");
      if (pending_items_ > 0 && pending_items_ + n > cfg_.PendingLimit()) {
        return absl::ResourceExhaustedError(
            StrCat("batch processor ", settings_.id.String(), " holds ", pending_items_, " ",
                   ItemNoun(signal_), " that the exporters have not taken yet"));
      }
      if (pending_items_ == 0) first_pending_ = absl::Now();
      pending_.Append(std::move(d));
      pending_items_ += n;
      if (pending_items_ >= cfg_.send_batch_size || cfg_.timeout == absl::ZeroDuration() || pending_items_ == n) {
        cv_.notify_one();
      }
      return absl::OkStatus();
    }
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
                   (pending_items_ >= cfg_.send_batch_size || now >= first_pending_ + cfg_.timeout)) {
          break;
        }
        absl::Time wake = absl::InfiniteFuture();
        if (pending_items_ > 0) wake = std::max(first_pending_ + cfg_.timeout, retry_at);
        if (stopping_) wake = std::min(std::max(retry_at, now), deadline_);
        if (wake == absl::InfiniteFuture()) {
          cv_.wait(lock);
        } else {
          cv_.wait_for(lock, absl::ToChronoNanoseconds(std::max(wake - now, absl::ZeroDuration())));
        }
      }
      const bool by_size = pending_items_ >= cfg_.send_batch_size;
      T batch;
      if (cfg_.send_batch_max_size > 0 && pending_items_ > cfg_.send_batch_max_size) {
        batch = pending_.SplitFront(cfg_.send_batch_max_size);
      } else {
        batch = std::move(pending_);
        pending_ = T();
      }
      const size_t n = batch.ItemCount();
      pending_items_ -= n;
      const absl::Time batch_first = first_pending_;
      if (pending_items_ > 0) first_pending_ = absl::Now();
      lock.unlock();

      absl::Status st = next_->Consume(batch.Clone());
      lock.lock();
      if (st.ok()) {
        meter_.BatchSize(n);
        meter_.BatchTrigger(by_size);
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

  std::mutex mu_;
  std::condition_variable cv_;
  T pending_;
  size_t pending_items_ = 0;
  absl::Time first_pending_;
  bool stopping_ = false;
  absl::Time deadline_ = absl::InfiniteFuture();
  std::thread worker_;
};

}  // namespace

std::unique_ptr<Processor> NewBatchProcessor(const CreateSettings& settings, const Config& cfg, Signal signal,
                                             Consumer* next) {
  switch (signal) {
    case Signal::kTraces: return std::make_unique<BatchProcessor<pdata::Traces>>(settings, cfg, signal, next);
    case Signal::kMetrics: return std::make_unique<BatchProcessor<pdata::Metrics>>(settings, cfg, signal, next);
    case Signal::kLogs: return std::make_unique<BatchProcessor<pdata::Logs>>(settings, cfg, signal, next);
  }
  return nullptr;
}

}  // namespace outrigger::processors::batch
