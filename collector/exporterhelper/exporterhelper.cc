#include "collector/exporterhelper/exporterhelper.h"

#include <algorithm>
#include <array>

#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "collector/storage/storage.h"
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

// What SendWithRetry returns for a request of the persistent queue it gave up on at the
// shutdown deadline: the worker leaves it unacknowledged in the store.
constexpr char kKeptPayload[] = "type.outrigger.dev/kept-in-storage";
absl::Status KeptInStorage() {
  absl::Status st = absl::DeadlineExceededError("shutdown deadline reached; kept in storage");
  st.SetPayload(kKeptPayload, absl::Cord("1"));
  return st;
}
bool IsKeptInStorage(const absl::Status& st) { return st.GetPayload(kKeptPayload).has_value(); }

using AnyData = std::variant<pdata::Traces, pdata::Metrics, pdata::Logs>;
template <typename D>
absl::Status DecodeAs(std::string_view proto, bool append, AnyData* out) {
  auto d = D::FromProto(proto);
  if (!d.ok()) return d.status();
  if (append) {
    std::get<D>(*out).Append(std::move(*d));
  } else {
    *out = std::move(*d);
  }
  return absl::OkStatus();
}
// Decodes a stored request into *out, or appends it to *out (of the same signal).
absl::Status DecodeRecord(Signal sig, std::string_view proto, bool append, AnyData* out) {
  switch (sig) {
    case Signal::kTraces:
      return DecodeAs<pdata::Traces>(proto, append, out);
    case Signal::kMetrics:
      return DecodeAs<pdata::Metrics>(proto, append, out);
    case Signal::kLogs:
      return DecodeAs<pdata::Logs>(proto, append, out);
  }
  return absl::InternalError("unknown signal");
}

// A record of the persistent queue: signal (1 byte), items (4 bytes, little-endian), then
// the request as OTLP protobuf.
constexpr size_t kRecordHeader = 5;
template <typename D>
void EncodeRecord(Signal sig, const D& d, std::string* out) {
  const auto items = static_cast<uint32_t>(d.ItemCount());
  out->push_back(static_cast<char>(sig));
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>((items >> (8 * i)) & 0xff));
  d.AppendProtoTo(out);
}
// False if the record is too short or names no signal.
bool RecordHeader(std::string_view p, Signal* sig, uint32_t* items) {
  if (p.size() < kRecordHeader || static_cast<unsigned char>(p[0]) > 2) return false;
  *sig = static_cast<Signal>(p[0]);
  *items = 0;
  for (int i = 0; i < 4; ++i) *items |= static_cast<uint32_t>(static_cast<unsigned char>(p[1 + i])) << (8 * i);
  return true;
}
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
  q.Read("storage", &sending_queue.storage);
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
  if (!sending_queue.enabled && !sending_queue.storage.empty()) {
    return absl::InvalidArgumentError("sending_queue.storage needs the sending queue (sending_queue.enabled: true)");
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
  if (cfg_.sending_queue.enabled && !cfg_.sending_queue.storage.empty()) {
    if (st = OpenStorage(host); !st.ok()) return st;
  }
  std::lock_guard<std::mutex> lock(mu_);
  started_ = true;
  joined_ = false;
  // Consumers start with the work (up to num_consumers): here only for requests stored
  // by a previous run.
  if (log_ && stored_requests_ > 0) workers_.Wake(not_empty_, static_cast<size_t>(stored_requests_));
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

bool QueuedExporter::SleepBeforeRetry(absl::Duration d) {
  std::unique_lock<std::mutex> lock(mu_);
  const absl::Time until = absl::Now() + d;
  absl::Time wake = until;
  bool checked = false;  // against the shutdown deadline (once it is known)
  while (true) {
    if (stopping_ && !checked) {
      checked = true;
      // The attempt needs time to end by the deadline: min(timeout, half of what is left
      // from now). If `until` leaves less, the attempt is made earlier, at the latest
      // moment that leaves it that much. Every retry may be moved so: each one leaves
      // the next at most half the time left, so they end once less than kMinLastAttempt
      // is left (a rule of "move one only" gave up with seconds still left when the
      // backoff's jitter put two retries late).
      const absl::Time now = absl::Now();
      const absl::Duration left = deadline_ - now;
      if (left < kMinLastAttempt) return false;
      const absl::Time latest = deadline_ - std::min(cfg_.timeout, left / 2);
      if (until > latest) wake = latest;
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
    if (!SleepBeforeRetry(*delay)) {
      if (log_) {  // persistent queue: not acknowledged, so it is sent after the next start
        settings_.logger->warn("shutdown deadline reached while retrying: {} {} stay in {} for the next start", n,
                               ItemNoun(sig), cfg_.sending_queue.storage);
        return KeptInStorage();
      }
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
  auto fits = [&] { return (log_ ? stored_requests_ == 0 : queue_.empty()) || queued_units_ + units <= cap; };
  if (!fits()) {
    if (!cfg_.sending_queue.block_on_overflow) {
      lock.unlock();
      meter_.EnqueueFailed(sig, n);
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
  if (log_) return EnqueueStored(std::move(item), units, lock);
  queue_.push_back(std::move(item));
  queued_units_ += units;
  meter_.QueueSize(static_cast<double>(queued_units_));
  workers_.Wake(not_empty_, queue_.size());
  return absl::OkStatus();
}

void QueuedExporter::Worker() {
  while (true) {
    std::unique_lock<std::mutex> lock(mu_);
    if (!workers_.Wait(lock, not_empty_, [&] { return !queue_.empty() || stopping_; })) return;  // idle
    if (queue_.empty()) return;                                                                  // stopping and drained
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
  // queue (another signal, or beyond max_size): pass it on to an idle one, or a new one.
  if (!queue_.empty()) workers_.Wake(not_empty_, queue_.size());
  return item;
}

absl::Status QueuedExporter::Shutdown(absl::Time deadline) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ && joined_) return absl::OkStatus();
    stopping_ = true;
    deadline_ = deadline;
  }
  pusher_->BeginShutdown(deadline);
  not_empty_.notify_all();
  not_full_.notify_all();
  wake_.notify_all();
  workers_.JoinAll(mu_);
  bool was_started;
  {
    std::unique_lock<std::mutex> lock(mu_);
    joined_ = true;
    was_started = started_;
    started_ = false;
    if (log_) {
      // What is still stored (unsent, or read ahead and not taken) stays for the next start.
      not_full_.wait(lock, [&] { return appending_ == 0; });
      if (stored_requests_ > 0) {
        settings_.logger->warn("shutting down with {} requests ({} {}) unsent: they stay in {} for the next start",
                               stored_requests_, queued_units_, cfg_.sending_queue.sizer, cfg_.sending_queue.storage);
      }
      lookahead_.reset();
      log_.reset();
    }
  }
  return was_started ? pusher_->Shutdown() : absl::OkStatus();
}

// ---- The persistent queue (sending_queue.storage) ----

absl::Status QueuedExporter::OpenStorage(Host& host) {
  const std::string& id = cfg_.sending_queue.storage;
  auto* ext = dynamic_cast<storage::StorageExtension*>(host.GetExtension(id));
  if (ext == nullptr) {
    return absl::FailedPreconditionError(StrCat("sending_queue.storage: \"", id,
                                                "\" is not a storage extension (such as file_storage) listed in ",
                                                "service.extensions"));
  }
  int64_t requests = 0, units = 0;
  const bool by_items = cfg_.sending_queue.sizer == "items";
  auto log = ext->OpenLog("exporter", settings_.id.String(), [&](std::string_view p) {
    Signal sig;
    uint32_t items;
    ++requests;
    if (RecordHeader(p, &sig, &items)) units += by_items ? items : 1;
  });
  if (!log.ok()) {
    return absl::Status(log.status().code(), StrCat("sending_queue.storage \"", id, "\": ", log.status().message()));
  }
  auto& reg = settings_.telemetry;
  prometheus::Labels labels{{"exporter", settings_.id.String()}};
  storage_corrupt_ = &reg->AddCounter("outrigger_exporter_storage_corrupt_records_total",
                                      "Damaged records of the persistent queue, skipped", labels);
  storage_write_errors_ =
      &reg->AddCounter("outrigger_exporter_storage_write_errors_total",
                       "Requests the persistent queue could not store (disk full, I/O error)", labels);
  storage_bytes_ = &reg->AddGauge("outrigger_exporter_storage_bytes", "Bytes of the persistent queue's files", labels);
  std::lock_guard<std::mutex> lock(mu_);
  log_ = std::move(*log);
  stored_requests_ = requests;
  queued_units_ = units;
  meter_.QueueSize(static_cast<double>(queued_units_));
  auto stats = log_->Stats();
  storage_bytes_->Set(static_cast<double>(stats.bytes));
  if (stats.torn_tails > 0) {
    settings_.logger->warn("{}: cut off a record torn by a crash (it was never acknowledged to the sender)",
                           log_->directory());
  }
  if (requests > 0) {
    settings_.logger->info("replaying {} requests ({} {}) from {}", requests, units, cfg_.sending_queue.sizer,
                           log_->directory());
  }
  return absl::OkStatus();
}

absl::Status QueuedExporter::EnqueueStored(Item item, int64_t units, std::unique_lock<std::mutex>& lock) {
  // Reserve the room, then write outside the lock (workers keep taking meanwhile).
  queued_units_ += units;
  ++appending_;
  lock.unlock();
  std::string payload;
  std::visit([&](const auto& d) { EncodeRecord(SignalOf(item), d, &payload); }, item);
  absl::Status st = log_->Append(payload);
  lock.lock();
  --appending_;
  if (!st.ok()) {
    queued_units_ -= units;
    not_full_.notify_all();
    storage_write_errors_->Increment();
    const absl::Time now = absl::Now();
    if (now - last_store_error_log_ >= absl::Seconds(10)) {
      last_store_error_log_ = now;
      settings_.logger->error("sending_queue.storage {}: refusing data: {}", cfg_.sending_queue.storage, st.message());
    }
    // Retryable either way: the caller keeps its data and pushes back.
    return absl::ResourceExhaustedError(StrCat("persistent queue of ", settings_.id.String(), ": ", st.message()));
  }
  ++stored_requests_;
  meter_.QueueSize(static_cast<double>(queued_units_));
  if (stopping_) not_full_.notify_all();  // Shutdown waits for appending_ to reach 0
  workers_.Wake(not_empty_, static_cast<size_t>(stored_requests_));
  return absl::OkStatus();
}

bool QueuedExporter::PeekStored() {
  if (lookahead_) return true;
  Record r;
  if (!log_->Next(&r.payload, &r.pos)) {
    // Nothing left to read (the count was off only if a damaged record was skipped).
    stored_requests_ = 0;
    return false;
  }
  lookahead_ = std::move(r);
  return true;
}

QueuedExporter::StoredBatch QueuedExporter::TakeStored(std::unique_lock<std::mutex>& lock) {
  StoredBatch out;
  const BatchConfig& b = cfg_.sending_queue.batch;
  const bool by_items = cfg_.sending_queue.sizer == "items";
  int64_t size = 0;
  bool have = false;
  const auto flush_at = std::chrono::steady_clock::now() + absl::ToChronoNanoseconds(b.flush_timeout);
  while (true) {
    if (stored_requests_ == 0 || !PeekStored()) {
      if (!have || !b.enabled || size >= b.min_size || stopping_) break;
      if (not_empty_.wait_until(lock, flush_at) == std::cv_status::timeout && stored_requests_ == 0) break;
      continue;
    }
    Signal sig;
    uint32_t items;
    const std::string& p = lookahead_->payload;
    if (!RecordHeader(p, &sig, &items)) {
      // Checksummed, so written by something else than this version: dropped, said so.
      settings_.logger->error("{}: dropping a stored record that is not a request ({} bytes)", log_->directory(),
                              p.size());
      log_->Ack(lookahead_->pos);
      lookahead_.reset();
      --stored_requests_;
      continue;
    }
    if (have && sig != SignalOf(out.item)) break;  // another signal: the next batch
    const int64_t next = b.sizer == "bytes" ? static_cast<int64_t>(p.size() - kRecordHeader) : items;
    if (have && b.max_size > 0 && size + next > b.max_size) break;
    std::string_view proto(p.data() + kRecordHeader, p.size() - kRecordHeader);
    absl::Status st = DecodeRecord(sig, proto, have, &out.item);
    queued_units_ -= by_items ? items : 1;
    --stored_requests_;
    meter_.QueueSize(static_cast<double>(queued_units_));
    not_full_.notify_all();
    if (!st.ok()) {
      meter_.Dropped(sig, items);
      settings_.logger->error("{}: dropping a stored request of {} {} that does not decode: {}", log_->directory(),
                              items, ItemNoun(sig), st.message());
      log_->Ack(lookahead_->pos);
      lookahead_.reset();
      continue;
    }
    out.positions.push_back(lookahead_->pos);
    lookahead_.reset();
    have = true;
    size += next;
    if (!b.enabled || size >= b.min_size) break;
  }
  if (stored_requests_ > 0) workers_.Wake(not_empty_, static_cast<size_t>(stored_requests_));
  return out;
}

void QueuedExporter::StoredWorker() {
  while (true) {
    std::unique_lock<std::mutex> lock(mu_);
    if (!workers_.Wait(lock, not_empty_, [&] { return stored_requests_ > 0 || stopping_; })) return;  // idle
    if (stored_requests_ == 0) return;                  // stopping and drained
    if (stopping_ && absl::Now() >= deadline_) return;  // out of time: the rest stays stored
    StoredBatch batch = TakeStored(lock);
    if (batch.positions.empty()) continue;
    ++in_flight_;
    lock.unlock();
    absl::Status st = SendWithRetry(batch.item);
    if (!IsKeptInStorage(st)) {
      // Sent, or dropped for good (counted by SendWithRetry): either way it leaves the store.
      for (const auto& pos : batch.positions) log_->Ack(pos);
    }
    lock.lock();
    UpdateStorageMetrics();
    --in_flight_;
  }
}

void QueuedExporter::UpdateStorageMetrics() {
  auto stats = log_->Stats();
  storage_bytes_->Set(static_cast<double>(stats.bytes));
  if (stats.corrupt_records > corrupt_seen_) {
    storage_corrupt_->Increment(static_cast<double>(stats.corrupt_records - corrupt_seen_));
    settings_.logger->error("{}: skipped {} damaged records (checksum or framing); the rest is delivered",
                            log_->directory(), stats.corrupt_records - corrupt_seen_);
    corrupt_seen_ = stats.corrupt_records;
  }
}

}  // namespace outrigger::exporterhelper
