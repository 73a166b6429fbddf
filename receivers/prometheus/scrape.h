#pragma once
// One scrape target's conversion of expositions to OTLP metrics, and the state it keeps
// between scrapes: start times of cumulative series (with reset detection) and the
// series of the last successful scrape (for staleness markers). No network here.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "collector/pdata/builders.h"
#include "receivers/prometheus/config.h"
#include "receivers/prometheus/parser.h"

namespace outrigger::receivers::prometheus {

inline constexpr char kScopeName[] = "outrigger/prometheus";

struct ScrapeResult {
  absl::Status status;     // OK: the scrape succeeded (up = 1)
  bool malformed = false;  // the exposition could not be parsed
  size_t samples = 0;      // samples in the exposition
  size_t series_added = 0;
  size_t stale = 0;        // staleness markers emitted
  size_t dropped = 0;      // samples of types OTLP has no place for (OpenMetrics gaugehistogram)
};

class TargetState {
 public:
  // `instance` is host:port (the __address__); `labels` are the target labels (a `job`
  // or `instance` among them overrides the job name or the address); `scheme` is the
  // target's (empty: the job's).
  TargetState(const ScrapeConfig& sc, const std::string& instance, const std::map<std::string, std::string>& labels,
              std::string_view scheme = {});

  // job, instance, server.address, server.port, url.scheme.
  const pdata::Attributes& Resource() const { return resource_; }
  const std::string& instance() const { return instance_; }

  // Converts one scrape into `b`: its series (unless it failed), staleness markers for
  // the series that ended, and the synthetic up/scrape_* gauges. `body` is the answer,
  // or why there is none; `scrape_ns` is when the scrape started.
  ScrapeResult Process(const absl::StatusOr<std::string>& body, uint64_t scrape_ns, double duration_seconds,
                       pdata::MetricsBuilder* b);
  // The same for a body in `format` (by the answer's Content-Type, see FormatOf).
  ScrapeResult Process(const absl::StatusOr<std::string>& body, Format format, uint64_t scrape_ns,
                       double duration_seconds, pdata::MetricsBuilder* b);
  // The target is gone: a staleness marker for every series of the last scrape and for
  // the synthetic gauges.
  void EmitStaleAll(uint64_t t, pdata::MetricsBuilder* b);


 private:
  enum class Kind { kGauge, kSum, kHistogram, kSummary, kUpDownSum };  // kUpDownSum: info, stateset
  struct Series {
    Kind kind;
    std::string name;
    pdata::Attributes attrs;
    uint64_t start_ns = 0;
    uint64_t last_ns = 0;
    double last = 0;  // counter value, or a histogram's/summary's count
    std::string unit;
  };
  // Attributes of a series: its labels (minus `drop`, empty values removed) merged with
  // the target labels per honor_labels; sorted.
  pdata::Attributes AttrsOf(const Labels& labels, std::string_view drop) const;
  // Start time of a cumulative series, updating the reset detection; `created_ns`
  // (OpenMetrics `_created`), when not 0, is the start time.
  uint64_t StartOf(Kind kind, const std::string& name, const pdata::Attributes& attrs, double value, uint64_t t,
                   std::map<std::string, Series>* next, uint64_t created_ns = 0, const std::string& unit = "");
  void Convert(const std::vector<Family>& families, uint64_t scrape_ns, pdata::MetricsBuilder* b,
                       std::map<std::string, Series>* next);
  void EmitStale(const Series& s, uint64_t t, pdata::MetricsBuilder* b) const;
  // metric_relabel_configs on each sample (its labels merged with the target labels as
  // Prometheus merges them, and __name__): dropped samples are removed, renamed ones
  // move to the family of their new name. Returns how many samples are left. AttrsOf
  // then takes the labels as they are.
  size_t RelabelSamples(std::vector<Family>* families) const;

  const ScrapeConfig& sc_;
  std::string job_, instance_;
  pdata::Attributes target_labels_;  // sorted, job and instance excluded
  pdata::Attributes resource_;
  std::map<std::string, Series> series_;  // of the last successful scrape, by key
};

}  // namespace outrigger::receivers::prometheus
