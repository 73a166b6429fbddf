#include "processors/memory_limiter/factory.h"

#include "processors/memory_limiter/config.h"
#include "processors/memory_limiter/memory_limiter_processor.h"

namespace outrigger::processors::memory_limiter {
namespace {

class Factory : public ProcessorFactory {
 public:
  std::string_view Type() const override { return "memory_limiter"; }
  std::set<Signal> Signals() const override { return {Signal::kTraces, Signal::kMetrics, Signal::kLogs}; }
  std::unique_ptr<ComponentConfig> CreateDefaultConfig() const override { return std::make_unique<Config>(); }
  absl::StatusOr<std::unique_ptr<Processor>> CreateProcessor(const CreateSettings& settings, const ComponentConfig& cfg,
                                                             Signal signal, Consumer* next) const override {
    auto limiter = SharedLimiter(settings, static_cast<const Config&>(cfg));
    if (!limiter.ok()) return limiter.status();
    return NewMemoryLimiterProcessor(settings, std::move(*limiter), signal, next);
  }
};

}  // namespace

std::unique_ptr<ProcessorFactory> NewFactory() { return std::make_unique<Factory>(); }

}  // namespace outrigger::processors::memory_limiter
