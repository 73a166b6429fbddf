#include "processors/filter/filter_processor.h"

#include <atomic>

#include "collector/ottl/walk.h"
#include "collector/telemetry/telemetry.h"
#include "spdlog/spdlog.h"

namespace outrigger::processors::filter {
namespace {

// A condition with the counter of the records it dropped.
struct Rule {
  ottl::Condition cond;
  prometheus::Counter* filtered;
};

class FilterProcessor : public Processor {
 public:
  FilterProcessor(const CreateSettings& settings, const Config& cfg, Signal signal, Consumer* next)
      : settings_(settings), error_mode_(cfg.error_mode), signal_(signal), next_(next) {
    auto rules = [&](const std::vector<ottl::Condition>& conds, std::string_view ctx) {
      std::vector<Rule> out;
      for (const ottl::Condition& c : conds) {
        out.push_back(Rule{c, &settings.telemetry->AddCounter(
                                  "outrigger_processor_filter_filtered_total",
                                  "Items (spans, span events, data points, log records) the filter processor dropped, "
                                  "by the condition that matched",
                                  {{"processor", settings.id.String()},
                                   {"signal", std::string(SignalName(signal))},
                                   {"reason", StrCat(ctx, ": ", c.text())}})});
      }
      return out;
    };
    first_ = signal == Signal::kTraces    ? rules(cfg.span, "span")
             : signal == Signal::kMetrics ? rules(cfg.metric, "metric")
                                          : rules(cfg.log_record, "log_record");
    first_ctx_ = signal == Signal::kTraces    ? ottl::ContextKind::kSpan
                 : signal == Signal::kMetrics ? ottl::ContextKind::kMetric
                                              : ottl::ContextKind::kLog;
    if (signal == Signal::kTraces) second_ = rules(cfg.spanevent, "spanevent");
    if (signal == Signal::kMetrics) second_ = rules(cfg.datapoint, "datapoint");
    second_ctx_ = signal == Signal::kTraces ? ottl::ContextKind::kSpanEvent : ottl::ContextKind::kDataPoint;
    if (!cfg.Legacy(signal).empty()) {
      auto m = filterset::Matcher::Compile(cfg.Legacy(signal), signal);
      if (m.ok()) {  // Validate() compiled it already
        legacy_ = std::make_unique<filterset::Matcher>(std::move(*m));
        legacy_filtered_ = &settings.telemetry->AddCounter(
            "outrigger_processor_filter_filtered_total",
            "Items (spans, span events, data points, log records) the filter processor dropped, by the condition "
            "that matched",
            {{"processor", settings.id.String()},
             {"signal", std::string(SignalName(signal))},
             {"reason", "include/exclude"}});
      }
    }
    errors_ = &settings.telemetry->AddCounter(
        "outrigger_processor_filter_errors_total", "OTTL conditions of the filter processor that failed on a record",
        {{"processor", settings.id.String()}, {"signal", std::string(SignalName(signal))}});
  }

  bool MutatesData() const override { return true; }

  absl::Status ConsumeTraces(pdata::Traces&& d) override { return Run(std::move(d), &ottl::WalkTraces<Fn&>); }
  absl::Status ConsumeMetrics(pdata::Metrics&& d) override { return Run(std::move(d), &ottl::WalkMetrics<Fn&>); }
  absl::Status ConsumeLogs(pdata::Logs&& d) override { return Run(std::move(d), &ottl::WalkLogs<Fn&>); }

 private:
  using Fn = std::function<absl::StatusOr<bool>(ottl::EvalContext&)>;

  // True if a rule matches; a failing condition counts as not matching unless the
  // error mode is propagate.
  absl::StatusOr<bool> Match(const std::vector<Rule>& rules, ottl::EvalContext& c, ottl::ContextKind ctx) {
    for (const Rule& r : rules) {
      absl::StatusOr<bool> m = r.cond.Eval(c);
      if (!m.ok()) {
        uint64_t n = error_count_.fetch_add(1, std::memory_order_relaxed);
        errors_->Increment();
        if (error_mode_ == ottl::ErrorMode::kPropagate) {
          return absl::InvalidArgumentError(StrCat("filter: `", r.cond.text(), "`: ", ToStd(m.status().message())));
        }
        if (error_mode_ == ottl::ErrorMode::kIgnore && (n & (n + 1)) == 0) {
          settings_.logger->warn("`{}` failed: {} ({} errors so far; error_mode ignore)", r.cond.text(),
                                 m.status().message(), n + 1);
        }
        continue;
      }
      if (*m) {
        size_t items = ctx == ottl::ContextKind::kMetric ? pdata::MetricPoints(*c.metric) : 1;
        r.filtered->Increment(static_cast<double>(items));
        return true;
      }
    }
    return false;
  }

  // The include/exclude form: true drops the record.
  bool Legacy(ottl::EvalContext& c) {
    bool skip = false;
    size_t items = 1;
    switch (signal_) {
      case Signal::kTraces:
        skip = legacy_->SkipSpan(*c.resource, *c.scope, *c.span);
        break;
      case Signal::kMetrics:
        skip = legacy_->SkipMetric(*c.resource, *c.metric);
        items = pdata::MetricPoints(*c.metric);
        break;
      case Signal::kLogs:
        skip = legacy_->SkipLog(*c.resource, *c.scope, *c.log);
        break;
    }
    if (skip) legacy_filtered_->Increment(static_cast<double>(items));
    return skip;
  }

  template <typename Data, typename Walk>
  absl::Status Run(Data&& d, Walk walk) {
    if (first_.empty() && second_.empty() && !legacy_) return next_->Consume(std::move(d));
    absl::Status err;
    d.ForEachMutableRequest([&](auto& req) {
      ottl::EvalContext c;
      if (legacy_) {
        Fn fn = [&](ottl::EvalContext& ec) -> absl::StatusOr<bool> { return Legacy(ec); };
        err = walk(req, first_ctx_, c, fn, nullptr);
      }
      if (!first_.empty() && err.ok()) {
        Fn fn = [&](ottl::EvalContext& ec) { return Match(first_, ec, first_ctx_); };
        err = walk(req, first_ctx_, c, fn, nullptr);
      }
      if (!second_.empty() && err.ok()) {
        Fn fn = [&](ottl::EvalContext& ec) { return Match(second_, ec, second_ctx_); };
        err = walk(req, second_ctx_, c, fn, nullptr);
      }
    });
    if (!err.ok()) return err;
    if (d.ItemCount() == 0) return absl::OkStatus();  // everything was filtered out
    return next_->Consume(std::move(d));
  }

  CreateSettings settings_;
  ottl::ErrorMode error_mode_;
  Signal signal_;
  Consumer* next_;
  std::vector<Rule> first_, second_;
  ottl::ContextKind first_ctx_, second_ctx_;
  std::unique_ptr<filterset::Matcher> legacy_;
  prometheus::Counter* legacy_filtered_ = nullptr;
  prometheus::Counter* errors_;
  std::atomic<uint64_t> error_count_{0};
};

}  // namespace

std::unique_ptr<Processor> NewFilterProcessor(const CreateSettings& settings, const Config& cfg, Signal signal,
                                              Consumer* next) {
  return std::make_unique<FilterProcessor>(settings, cfg, signal, next);
}

}  // namespace outrigger::processors::filter
