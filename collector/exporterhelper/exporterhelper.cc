#include "collector/exporterhelper/exporterhelper.h"

#include <algorithm>
#include <array>

#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "spdlog/spdlog.h"

namespace outrigger::exporterhelper {

namespace {
constexpr char kRetryDelayPayload[] = "type.outrigger.dev/retry-delay-ns";

Signal SignalOf(const std::variant<pdata::Traces, pdata::Metrics, pdata::Logs>& item) {
  return static_cast<Signal>(item.index());
}

thread_local size_t t_reported_dropped = 0;    // ReportDropped() during the current push
thread_local size_t t_reported_delivered = 0;  // ReportDelivered() during the current push

// Shutdown: a retry is made no later than this before the deadline (or half the time
// left, if less), so that it has time to end; with less than kMinLastAttempt left, none.
constexpr absl::Duration kMinLastAttempt = absl::Milliseconds(20);
}  // namespace

void ReportDropped(size_t items) { t_reported_dropped += items; }
void ReportDelivered(size_t items) { t_reported_delivered += items; }

void HelperConfig::Decode(config::Node& node) {
  auto& q = node.Child("sending_queue");
  q.Read("enabled", &sending_queue.enabled);
  q.Read("num_consumers", &sending_queue.num_consumers);
  q.ReadEnum("sizer", &sending_queue.sizer, {"items", "requests"});
  q.Read("queue_size", &sending_queue.queue_size);
  q.Read("block_on_overflow", &sending_queue.block_on_overflow);
  if (q.Has("batch")) {
    auto& b = q.Child("batch");
    sending_queue.batch.enabled = true;
    sending_queue.batch.configured = true;
    b.Read("enabled", &sending_queue.batch.enabled);
    b.Read("flush_timeout", &sending_queue.batch.flush_timeout);
    b.ReadEnum("sizer", &sending_queue.batch.sizer, {"items", "bytes"});
    b.Read("min_size", &sending_queue.batch.min_size);
    b.Read("max_size", &sending_queue.batch.max_size);
  }
  auto& r = node.Child("retry_on_failure");
  r.Read("enabled", &retry_on_failure.enabled);
  r.Read("initial_interval", &retry_on_failure.initial_interval);
  r.Read("randomization_factor", &retry_on_failure.randomization_factor);
  r.Read("multiplier", &retry_on_failure.multiplier);
  r.Read("max_interval", &retry_on_failure.max_interval);
  r.Read("max_elapsed_time", &retry_on_failure.max_elapsed_time);
  node.Read("timeout", &timeout);
}

absl::Status HelperConfig::Validate() const {
  if (sending_queue.enabled && sending_queue.queue_size < 0) {
    return absl::InvalidArgumentError("sending_queue.queue_size must be positive (or 0 for the default)");
  }
  if (sending_queue.enabled && sending_queue.num_consumers <= 0) {
    return absl::InvalidArgumentError("sending_queue.num_consumers must be positive");
  }
  if (const auto& b = sending_queue.batch; sending_queue.enabled && b.enabled) {
    if (b.flush_timeout <= absl::ZeroDuration()) {
      return absl::InvalidArgumentError("sending_queue.batch.flush_timeout must be positive");
    }
    if (b.min_size < 0 || b.max_size < 0) {
      return absl::InvalidArgumentError("sending_queue.batch.min_size and max_size must not be negative");
    }
    if (b.max_size > 0 && b.max_size < b.min_size) {
      return absl::InvalidArgumentError("sending_queue.batch.max_size must be at least min_size (or 0: no limit)");
    }
  }
  if (retry_on_failure.multiplier < 1) {
    return absl::InvalidArgumentError("retry_on_failure.multiplier must be at least 1");
  }
  if (retry_on_failure.randomization_factor < 0 || retry_on_failure.randomization_factor >= 1) {
    return absl::InvalidArgumentError("retry_on_failure.randomization_factor must be in [0, 1)");
  }
  if (retry_on_failure.enabled && retry_on_failure.initial_interval <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("retry_on_failure.initial_interval must be positive");
  }
  if (retry_on_failure.enabled && retry_on_failure.max_interval < retry_on_failure.initial_interval) {
    return absl::InvalidArgumentError("retry_on_failure.max_interval must be at least initial_interval");
  }
  if (timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("timeout must be positive");
  }
  return absl::OkStatus();
}

absl::Status WithRetryDelay(absl::Status status, absl::Duration delay) {
  status.SetPayload(kRetryDelayPayload, absl::Cord(StrCat(absl::ToInt64Nanoseconds(delay))));
  return status;
}

std::optional<absl::Duration> RetryDelay(const absl::Status& status) {
  auto p = status.GetPayload(kRetryDelayPayload);
  int64_t ns;
  if (!p || !absl::SimpleAtoi(std::string(*p), &ns)) return std::nullopt;
  return absl::Nanoseconds(ns);
}

bool IsRetryable(const absl::Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kResourceExhausted:
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kAborted:
      return true;
    default:
      return false;
  }
}

absl::Status Pusher::PushTraces(const pdata::Traces&, absl::Time) {
  return absl::UnimplementedError("this exporter does not export traces");
}
absl::Status Pusher::PushMetrics(const pdata::Metrics&, absl::Time) {
  return absl::UnimplementedError("this exporter does not export metrics");
}
absl::Status Pusher::PushLogs(const pdata::Logs&, absl::Time) {
  return absl::UnimplementedError("this exporter does not export logs");
}

QueuedExporter::QueuedExporter(const CreateSettings& settings, HelperConfig cfg, std::unique_ptr<Pusher> pusher)
    : settings_(settings), cfg_(cfg), pusher_(std::move(pusher)), meter_(settings.telemetry->ForExporter(settings.id)) {
  meter_.QueueCapacity(cfg_.sending_queue.enabled ? static_cast<double>(cfg_.sending_queue.Capacity()) : 0);
}

QueuedExporter::~QueuedExporter() { (void)Shutdown(absl::Now()); }

absl::Status QueuedExporter::Start(Host& host) {
  auto st = pusher_->Start(host);
  if (!st.ok()) return st;
  std::lock_guard<std::mutex> lock(mu_);
  started_ = true;
  if (cfg_.sending_queue.enabled) {
    for (int i = 0; i < cfg_.sending_queue.num_consumers; ++i) {
      workers_.emplace_back([this] { Worker(); });
    }
  }
  return absl::OkStatus();
}

size_t QueuedExporter::QueueSize() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<size_t>(queued_units_);
}

absl::Status QueuedExporter::PushOnce(const Item& item, absl::Time deadline) {
  return std::visit(
      [&](const auto& d) -> absl::Status {
        using T = std::decay_t<decltype(d)>;
        if constexpr (std::is_same_v<T, pdata::Traces>) return pusher_->PushTraces(d, deadline);
        if constexpr (std::is_same_v<T, pdata::Metrics>) return pusher_->PushMetrics(d, deadline);
        if constexpr (std::is_same_v<T, pdata::Logs>) return pusher_->PushLogs(d, deadline);
      },
      item);
}

size_t ItemsOf(const std::variant<pdata::Traces, pdata::Metrics, pdata::Logs>& item) {
  return std::visit([](const auto& d) { return d.ItemCount(); }, item);
}

bool QueuedExporter::SleepBeforeRetry(absl::Duration d, bool* moved) {
  std::unique_lock<std::mutex> lock(mu_);
  const absl::Time until = absl::Now() + d;
  absl::Time wake = until;
  bool checked = false;  // against the shutdown deadline (once it is known)
  while (true) {
    if (stopping_ && !checked) {
      checked = true;
      // The attempt needs time to end by the deadline: min(timeout, half of what is left
      // from now). If `until` leaves less, the attempt is made earlier, at the latest
      // moment that leaves it that much.
      const absl::Time now = absl::Now();
      const absl::Duration left = deadline_ - now;
      if (left < kMinLastAttempt) return false;
      const absl::Time latest = deadline_ - std::min(cfg_.timeout, left / 2);
      if (until > latest) {
        if (*moved) return false;  // a moved attempt was made already: it was the last one
        *moved = true;
        wake = latest;
      }
    }
    const absl::Time now = absl::Now();
    if (now >= wake) return true;
    // Woken early by Shutdown (stopping_ set): recompute with the deadline.
    wake_.wait_for(lock, absl::ToChronoNanoseconds(wake - now));
  }
}

absl::Status QueuedExporter::SendWithRetry(const Item& item) {
  const Signal sig = SignalOf(item);
  const size_t n = ItemsOf(item);
  Backoff backoff(cfg_.retry_on_failure);
  const absl::Time first = absl::Now();
  // Over all attempts: items the pusher dropped for good (ReportDropped) and items it
  // delivered although the push failed (ReportDelivered). Counted once, at the end, so
  // that a request given up counts as dropped only what was not delivered.
  size_t dropped = 0, delivered = 0;
  bool moved = false;  // the last attempt before the shutdown deadline was brought forward
  auto give_up = [&](const absl::Status& st, const std::string& why) {
    const size_t lost = n - delivered;
    if (delivered > 0) meter_.Sent(sig, delivered);
    meter_.Dropped(sig, lost);
    settings_.logger->error("dropping {} {}{}: {}: {}", lost, ItemNoun(sig),
                            delivered > 0 ? StrCat(" (", delivered, " more of the request were delivered)") : "", why,
                            st.ToString());
  };
  while (true) {
    absl::Time deadline = absl::Now() + cfg_.timeout;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) deadline = std::min(deadline, deadline_);
    }
    t_reported_dropped = 0;
    t_reported_delivered = 0;
    absl::Status st = PushOnce(item, deadline);
    dropped = std::min(n, dropped + t_reported_dropped);
    delivered = std::min(n - dropped, delivered + t_reported_delivered);
    if (st.ok()) {
      meter_.Sent(sig, n - dropped);
      if (dropped > 0) meter_.Dropped(sig, dropped);
      return st;
    }
    meter_.Failed(sig, n - dropped - delivered);
    if (!IsRetryable(st) || !cfg_.retry_on_failure.enabled) {
      give_up(st, IsRetryable(st) ? "retryable error, but retries are disabled" : "permanent error, not retried");
      return st;
    }
    auto delay = backoff.Next(absl::Now() - first, RetryDelay(st));
    if (!delay) {
      give_up(st, StrCat("still failing after ", absl::FormatDuration(absl::Now() - first), " of retries"));
      return st;
    }
    settings_.logger->warn("export of {} {} failed, retrying in {}: {}", n - dropped - delivered, ItemNoun(sig),
                           absl::FormatDuration(*delay), st.ToString());
    meter_.Retried();
    if (!SleepBeforeRetry(*delay, &moved)) {
      give_up(st, "shutdown deadline reached while retrying");
      return absl::DeadlineExceededError("shutdown deadline reached");
    }
  }
}

absl::Status QueuedExporter::Enqueue(Item item) {
  const Signal sig = SignalOf(item);
  const size_t n = ItemsOf(item);
  if (n == 0) return absl::OkStatus();
  if (!cfg_.sending_queue.enabled) {
    // No queue: send in the caller's thread, with retries.
    auto st = SendWithRetry(item);
    return st.ok() ? st : absl::OkStatus();  // counted and logged as dropped already
  }
  std::unique_lock<std::mutex> lock(mu_);
  if (stopping_) {
    return absl::UnavailableError("exporter is shutting down");
  }
  const int64_t cap = cfg_.sending_queue.Capacity();
  const int64_t units = cfg_.sending_queue.sizer == "items" ? static_cast<int64_t>(n) : 1;
  // A request larger than the whole queue still goes in when the queue is empty.
  auto fits = [&] { return queue_.empty() || queued_units_ + units <= cap; };
  if (!fits()) {
    if (!cfg_.sending_queue.block_on_overflow) {
      lock.unlock();
      meter_.Dropped(sig, n);
      settings_.logger->error("sending queue full ({} {}): dropping {} {}", cap, cfg_.sending_queue.sizer, n,
                              ItemNoun(sig));
      return absl::ResourceExhaustedError("sending queue is full");
    }
    bool room = not_full_.wait_for(lock, absl::ToChronoNanoseconds(std::min(cfg_.timeout, kMaxBlockOnOverflow)),
                                   [&] { return fits() || stopping_; });
    if (!room || stopping_) {
      return absl::UnavailableError(
          StrCat("sending queue of ", settings_.id.String(), " is full; the backend is slower than the input"));
    }
  }
  queue_.push_back(std::move(item));
  queued_units_ += units;
  meter_.QueueSize(static_cast<double>(queued_units_));
  not_empty_.notify_one();
  return absl::OkStatus();
}

void QueuedExporter::Worker() {
  while (true) {
    std::unique_lock<std::mutex> lock(mu_);
    not_empty_.wait(lock, [&] { return !queue_.empty() || stopping_; });
    if (queue_.empty()) return;  // stopping and drained
    if (stopping_ && absl::Now() >= deadline_) {
      // Out of time: what is left is dropped, and said so.
      std::array<size_t, 3> items{}, requests{};
      while (!queue_.empty()) {
        Item it = std::move(queue_.front());
        queue_.pop_front();
        const Signal sig = SignalOf(it);
        meter_.Dropped(sig, ItemsOf(it));
        items[static_cast<size_t>(sig)] += ItemsOf(it);
        ++requests[static_cast<size_t>(sig)];
      }
      queued_units_ = 0;
      meter_.QueueSize(0);
      for (Signal sig : kAllSignals) {
        const size_t i = static_cast<size_t>(sig);
        if (requests[i] == 0) continue;
        settings_.logger->error("dropping {} {}: {} queued requests not sent by the shutdown deadline", items[i],
                                ItemNoun(sig), requests[i]);
      }
      not_full_.notify_all();
      return;
    }
    Item item = TakeBatch(lock);
    ++in_flight_;
    lock.unlock();
    (void)SendWithRetry(item);
    lock.lock();
    --in_flight_;
  }
}

void QueuedExporter::Dequeued(const Item& item) {
  queued_units_ -= cfg_.sending_queue.sizer == "items" ? static_cast<int64_t>(ItemsOf(item)) : 1;
  meter_.QueueSize(static_cast<double>(queued_units_));
  not_full_.notify_all();
}

QueuedExporter::Item QueuedExporter::TakeBatch(std::unique_lock<std::mutex>& lock) {
  Item item = std::move(queue_.front());
  queue_.pop_front();
  Dequeued(item);
  const BatchConfig& b = cfg_.sending_queue.batch;
  if (!b.enabled) return item;
  auto size_of = [&](const Item& it) -> int64_t {
    if (b.sizer == "bytes") return static_cast<int64_t>(std::visit([](const auto& d) { return d.ByteSize(); }, it));
    return static_cast<int64_t>(ItemsOf(it));
  };
  int64_t size = size_of(item);
  const auto flush_at = std::chrono::steady_clock::now() + absl::ToChronoNanoseconds(b.flush_timeout);
  bool full = false;  // the next request would pass max_size
  while (size < b.min_size && !full) {
    // Merge what is queued behind it: same signal, within max_size.
    while (size < b.min_size && !queue_.empty() && queue_.front().index() == item.index()) {
      const int64_t next = size_of(queue_.front());
      if (b.max_size > 0 && size + next > b.max_size) {
        full = true;
        break;
      }
      Item front = std::move(queue_.front());
      queue_.pop_front();
      Dequeued(front);
      std::visit([&](auto& d) { d.Append(std::move(std::get<std::decay_t<decltype(d)>>(front))); }, item);
      size += next;
    }
    if (full || size >= b.min_size || !queue_.empty() || stopping_) break;  // full, another signal next, or stopping
    if (not_empty_.wait_until(lock, flush_at) == std::cv_status::timeout && queue_.empty()) break;
  }
  // The notification that woke this consumer may have been for a request it leaves in the
  // queue (another signal, or beyond max_size): pass it on to an idle one.
  if (!queue_.empty()) not_empty_.notify_one();
  return item;
}

absl::Status QueuedExporter::Shutdown(absl::Time deadline) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ && workers_.empty()) return absl::OkStatus();
    stopping_ = true;
    deadline_ = deadline;
  }
  pusher_->BeginShutdown(deadline);
  not_empty_.notify_all();
  not_full_.notify_all();
  wake_.notify_all();
  for (auto& t : workers_) t.join();
  workers_.clear();
  bool was_started;
  {
    std::lock_guard<std::mutex> lock(mu_);
    was_started = started_;
    started_ = false;
  }
  return was_started ? pusher_->Shutdown() : absl::OkStatus();
}

}  // namespace outrigger::exporterhelper
