#include "processors/memory_limiter/memory_limiter_processor.h"

#include <map>
#include <mutex>
#include <tuple>

#include "absl/strings/str_join.h"
#include "collector/telemetry/telemetry.h"
#include "spdlog/spdlog.h"

namespace outrigger::processors::memory_limiter {
namespace {

class MemoryLimiterProcessor : public Processor, public AdmissionProvider {
 public:
  MemoryLimiterProcessor(const CreateSettings& settings, std::shared_ptr<memory::MemoryLimiter> limiter, Signal signal,
                         Consumer* next)
      : limiter_(std::move(limiter)),
        signal_(signal),
        next_(next),
        refused_(&settings.telemetry->AddCounter(
            "outrigger_memory_limiter_refused_items_total",
            "Items (spans, data points, log records) the memory_limiter processor refused above the soft limit",
            {{"processor", settings.id.String()}, {"signal", std::string(SignalName(signal))}})) {}

  absl::Status Start(Host&) override {
    if (!started_) limiter_->Start();
    started_ = true;
    return absl::OkStatus();
  }
  absl::Status Shutdown(absl::Time) override {
    if (started_) limiter_->Stop();
    started_ = false;
    return absl::OkStatus();
  }

  absl::Status ConsumeTraces(pdata::Traces&& d) override { return Do(std::move(d)); }
  absl::Status ConsumeMetrics(pdata::Metrics&& d) override { return Do(std::move(d)); }
  absl::Status ConsumeLogs(pdata::Logs&& d) override { return Do(std::move(d)); }
  AdmissionControl* admission() override { return limiter_.get(); }

 private:
  template <typename T>
  absl::Status Do(T&& d) {
    if (absl::Status st = limiter_->Refusal(); !st.ok()) {
      refused_->Increment(static_cast<double>(d.ItemCount()));
      return st;
    }
    return next_->Consume(std::move(d));
  }

  std::shared_ptr<memory::MemoryLimiter> limiter_;
  Signal signal_;
  Consumer* next_;
  prometheus::Counter* refused_;
  bool started_ = false;
};

struct Key {
  std::string id;
  Telemetry* telemetry;
  uint64_t hard, spike;
  int64_t interval_ns;
  auto operator<=>(const Key&) const = default;
};

}  // namespace

absl::StatusOr<std::shared_ptr<memory::MemoryLimiter>> SharedLimiter(const CreateSettings& settings, const Config& cfg,
                                                                     std::function<uint64_t()> read_usage) {
  auto limits = cfg.Resolve([] { return memory::AvailableMemory(); });
  if (!limits.ok()) return limits.status();
  static std::mutex mu;
  static std::map<Key, std::weak_ptr<memory::MemoryLimiter>> limiters;
  std::lock_guard<std::mutex> lock(mu);
  for (auto it = limiters.begin(); it != limiters.end();) {
    it = it->second.expired() ? limiters.erase(it) : std::next(it);
  }
  Key key{settings.id.String(), settings.telemetry, limits->hard, limits->spike,
          absl::ToInt64Nanoseconds(cfg.check_interval)};
  const bool shared = !read_usage;  // a test's own reader gets a limiter of its own
  if (shared) {
    if (auto have = limiters[key].lock()) return have;
  }
  if (!cfg.ignored.empty()) {
    settings.logger->warn(
        "{} ignored: Outrigger has no garbage collector to tune; above the limits it gives freed "
        "memory back to the system (malloc_trim) instead",
        absl::StrJoin(cfg.ignored, ", "));
  }
  memory::MemoryLimiter::Options o;
  o.limits = *limits;
  o.check_interval = cfg.check_interval;
  o.read_usage = std::move(read_usage);
  o.name = settings.id.String();
  o.telemetry = settings.telemetry;
  o.logger = settings.logger;
  auto limiter = std::make_shared<memory::MemoryLimiter>(std::move(o));
  if (shared) limiters[key] = limiter;
  settings.logger->info("memory limit {} MiB, soft limit {} MiB (spike {} MiB), checked every {}",
                        limits->hard / memory::kMiB, limits->soft() / memory::kMiB, limits->spike / memory::kMiB,
                        absl::FormatDuration(cfg.check_interval));
  return limiter;
}

std::unique_ptr<Processor> NewMemoryLimiterProcessor(const CreateSettings& settings,
                                                     std::shared_ptr<memory::MemoryLimiter> limiter, Signal signal,
                                                     Consumer* next) {
  return std::make_unique<MemoryLimiterProcessor>(settings, std::move(limiter), signal, next);
}

}  // namespace outrigger::processors::memory_limiter
