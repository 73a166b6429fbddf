#include "processors/transform/transform_processor.h"

#include <atomic>

#include "collector/ottl/walk.h"
#include "collector/telemetry/telemetry.h"
#include "spdlog/spdlog.h"

namespace outrigger::processors::transform {
namespace {

class TransformProcessor : public Processor {
 public:
  TransformProcessor(const CreateSettings& settings, const Config& cfg, Signal signal, Consumer* next)
      : settings_(settings),
        groups_(cfg.For(signal)),
        error_mode_(cfg.error_mode),
        signal_(signal),
        next_(next),
        meter_(settings.telemetry->ForProcessor(settings.id, SignalName(signal))),
        errors_(&settings.telemetry->AddCounter(
            "outrigger_processor_transform_errors_total",
            "OTTL statements or conditions of the transform processor that failed on a record",
            {{"processor", settings.id.String()}, {"signal", std::string(SignalName(signal))}})) {}

  bool MutatesData() const override { return true; }

  absl::Status ConsumeTraces(pdata::Traces&& d) override { return Run(std::move(d), &ottl::WalkTraces<Fn&>); }
  absl::Status ConsumeMetrics(pdata::Metrics&& d) override { return Run(std::move(d), &ottl::WalkMetrics<Fn&>); }
  absl::Status ConsumeLogs(pdata::Logs&& d) override { return Run(std::move(d), &ottl::WalkLogs<Fn&>); }

 private:
  using Fn = std::function<absl::StatusOr<bool>(ottl::EvalContext&)>;

  // An error under `mode`: propagate returns it; ignore logs it; both count it.
  absl::Status OnError(ottl::ErrorMode mode, const absl::Status& st, const std::string& text) {
    uint64_t n = error_count_.fetch_add(1, std::memory_order_relaxed);
    errors_->Increment();
    if (mode == ottl::ErrorMode::kPropagate) {
      return absl::InvalidArgumentError(StrCat("transform: `", text, "`: ", ToStd(st.message())));
    }
    // Powers of two: the first errors, then fewer and fewer.
    if (mode == ottl::ErrorMode::kIgnore && (n & (n + 1)) == 0) {
      settings_.logger->warn("`{}` failed: {} ({} errors so far; error_mode ignore)", text, st.message(), n + 1);
    }
    return absl::OkStatus();
  }

  absl::StatusOr<bool> RunGroup(const Group& g, ottl::EvalContext& c) {
    ottl::ErrorMode mode = g.error_mode.value_or(error_mode_);
    if (!g.conditions.empty()) {
      bool any = false;
      for (const ottl::Condition& cond : g.conditions) {
        absl::StatusOr<bool> r = cond.Eval(c);
        if (!r.ok()) {
          if (absl::Status s = OnError(mode, r.status(), cond.text()); !s.ok()) return s;
          continue;
        }
        if (*r) {
          any = true;
          break;
        }
      }
      if (!any) return false;
    }
    for (const ottl::Statement& st : g.statements) {
      absl::Status s = st.Execute(c);
      if (!s.ok()) {
        if (absl::Status e = OnError(mode, s, st.text()); !e.ok()) return e;
      }
    }
    return false;
  }

  template <typename Data, typename Walk>
  absl::Status Run(Data&& d, Walk walk) {
    if (groups_.empty()) return next_->Consume(std::move(d));
    absl::Status err;
    d.ForEachMutableRequest([&](auto& req) {
      ottl::EvalContext c;
      for (const Group& g : groups_) {
        if (!err.ok()) return;
        Fn fn = [&](ottl::EvalContext& ec) { return RunGroup(g, ec); };
        err = walk(req, g.context, c, fn, nullptr);
      }
    });
    if (!err.ok()) {
      meter_.Dropped(signal_, d.ItemCount());
      return err;
    }
    return next_->Consume(std::move(d));
  }

  CreateSettings settings_;
  std::vector<Group> groups_;
  ottl::ErrorMode error_mode_;
  Signal signal_;
  Consumer* next_;
  ProcessorMeter meter_;
  prometheus::Counter* errors_;
  std::atomic<uint64_t> error_count_{0};
};

}  // namespace

std::unique_ptr<Processor> NewTransformProcessor(const CreateSettings& settings, const Config& cfg, Signal signal,
                                                 Consumer* next) {
  return std::make_unique<TransformProcessor>(settings, cfg, signal, next);
}

}  // namespace outrigger::processors::transform
