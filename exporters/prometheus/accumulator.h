#pragma once
// The state behind /metrics: every series the exporter has seen, translated to
// Prometheus (names, labels, cumulative values), and its rendering as Prometheus text
// 0.0.4 or OpenMetrics 1.0. Thread-safe: Add() runs on pipeline threads, Render() on
// the event loop.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/time/time.h"
#include "collector/pdata/pdata.h"
#include "collector/prometheus/naming.h"
#include "exporters/prometheus/config.h"

namespace spdlog {
class logger;
}
namespace opentelemetry::proto::metrics::v1 {
class Metric;
}

namespace outrigger::exporters::prometheus {

enum class Format { kText, kOpenMetrics };
using prom::Escaping;
enum class MetricType { kCounter, kGauge, kHistogram, kSummary };

class Accumulator {
 public:
  using Clock = std::function<absl::Time()>;

  struct AddResult {
    size_t taken = 0;    // data points stored, updated or removed (staleness)
    size_t dropped = 0;  // data points that cannot be exported (see README)
  };

  // `clock` is for tests (expiry); `logger` may be null.
  Accumulator(const Config& cfg, std::shared_ptr<spdlog::logger> logger, Clock clock = &absl::Now);
  ~Accumulator();

  AddResult Add(const pdata::Metrics& data);
  // Drops expired series first. `escaping`: how names outside the legacy character set
  // are written (only UTF-8 translation strategies keep such names; allow-utf-8 quotes
  // them, the others rewrite them, prom::EscapeName).
  std::string Render(Format format, Escaping escaping = Escaping::kUnderscores);
  size_t SeriesCount();

  // Exposed for tests.
  struct Series;
  struct Family;

 private:
  struct Scope;
  struct MetricAdder;
  // With mu_ held.
  void AddMetric(const opentelemetry::proto::metrics::v1::Metric& m, const Scope& scope, absl::Time now,
                 AddResult* res);
  Family* FamilyFor(const std::string& name, MetricType type, const std::string& help);
  void Sweep(absl::Time now);
  void WarnOnce(const std::string& name, const std::string& message);

  const Config cfg_;
  const prom::TranslationStrategy strategy_;
  const std::string namespace_;  // as the strategy makes it
  std::shared_ptr<spdlog::logger> logger_;
  Clock clock_;
  std::vector<std::pair<std::string, std::string>> const_labels_;  // escaped values

  std::mutex mu_;
  // By name, so rendering is sorted.
  std::map<std::string, Family, std::less<>> families_ ABSL_GUARDED_BY(mu_);
  absl::Time last_sweep_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  // Names already warned about (bounded).
  std::set<std::string, std::less<>> warned_ ABSL_GUARDED_BY(mu_);
  size_t last_render_size_ ABSL_GUARDED_BY(mu_) = 0;
};

// What a scraper's Accept header asks for.
struct Negotiation {
  bool open_metrics = false;  // OpenMetrics 1.0 preferred to text/plain
  // The `escaping=` parameter of the preferred OpenMetrics and text ranges, if any (and known).
  std::optional<Escaping> om_escaping, text_escaping;
  // The preferred text range asked for text format version 1.0.0 (the one with UTF-8
  // names; what Prometheus 3 asks for).
  bool text_v1 = false;
};
Negotiation Negotiate(std::string_view accept);
// Negotiate(accept).open_metrics.
bool AcceptsOpenMetrics(std::string_view accept);

}  // namespace outrigger::exporters::prometheus
