#pragma once
// One scrape target's conversion of expositions to OTLP metrics, and the state it keeps
// between scrapes: start times of cumulative series (with reset detection) and the
// series of the last successful scrape (for staleness markers). No network here.

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "collector/pdata/builders.h"
#include "receivers/prometheus/config.h"
#include "receivers/prometheus/parser.h"

namespace outrigger::receivers::prometheus {

inline constexpr char kScopeName[] = "outrigger/prometheus";
// With metric_relabel_configs, a scrape with more than this many times sample_limit
// samples (before relabeling) fails without being parsed.
inline constexpr size_t kRelabelSampleFactor = 10;

struct ScrapeResult {
  absl::Status status;     // OK: the scrape succeeded (up = 1)
  bool malformed = false;  // the exposition could not be parsed
  size_t samples = 0;      // samples in the exposition
  size_t series_added = 0;
  size_t stale = 0;    // staleness markers emitted
  size_t dropped = 0;  // samples of types OTLP has no place for (OpenMetrics gaugehistogram)
  // The limit the scrape exceeded (sample_limit, label_limit, ...), or empty.
  std::string_view limit;
};

// Sample lines of an exposition (neither blank nor comments), counted without parsing up
// to `stop_after` + 1: enough to know that sample_limit is exceeded.
size_t CountSampleLines(std::string_view text, size_t stop_after);

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
  // The last Process's # HELP texts as the descriptions of its metrics in `m` (what
  // `b` built). MetricsBuilder has no descriptions; a scrape's are set here.
  void AddDescriptions(pdata::Metrics* m) const;

 private:
  enum class Kind { kGauge, kSum, kHistogram, kSummary, kUpDownSum };  // kUpDownSum: info, stateset
  using AttrViews = std::vector<pdata::AttributeView>;
  // A series of the last successful scrape (and, during one, of this scrape so far).
  struct Series {
    std::string key;                       // kind, name and sorted attributes, encoded (EncodeKey)
    size_t hash = 0;                       // of `key`
    uint32_t next_same_hash = UINT32_MAX;  // the series before it with the same hash
    uint64_t start_ns = 0;
    uint64_t last_ns = 0;
    double last = 0;  // counter value, or a histogram's/summary's count
    std::string unit;
    uint64_t scrape = 0;  // the last scrape (scrape_) that had it
    // As the scrape before had it (valid when `had_before`): a series seen twice in one
    // scrape is compared with that, not with itself.
    bool had_before = false;
    uint64_t before_start_ns = 0, before_last_ns = 0;
    double before_last = 0;
  };

  // Attributes of a series: its labels (minus `drop`, empty values removed) merged with
  // the target labels per honor_labels; sorted. Views into `labels` and this object.
  // `L`: Labels or LabelViews.
  template <typename L>
  void AttrsOf(const L& labels, std::string_view drop, AttrViews* out) const;
  // Records a series of this scrape (the state of the next one) and returns the start
  // time of a cumulative series, with reset detection; `created_ns` (OpenMetrics
  // `_created`), when not 0, is the start time.
  uint64_t StartOf(Kind kind, std::string_view name, std::span<const pdata::AttributeView> attrs, double value,
                   uint64_t t, uint64_t created_ns, std::string_view unit);
  // `F`: Family or FamilyView.
  template <typename F>
  void Convert(const std::vector<F>& families, uint64_t scrape_ns, pdata::MetricsBuilder* b);
  // Convert, by family type; `unit` is the family's OTLP unit.
  template <typename F>
  void ConvertCounter(const F& f, const std::string& unit, uint64_t scrape_ns, pdata::MetricsBuilder* b);
  template <typename F>  // gauge, untyped
  void ConvertGauge(const F& f, const std::string& unit, uint64_t scrape_ns, pdata::MetricsBuilder* b);
  template <typename F>  // info, stateset
  void ConvertUpDownSum(const F& f, const std::string& unit, uint64_t scrape_ns, pdata::MetricsBuilder* b);
  template <typename F>
  void ConvertHistogram(const F& f, const std::string& unit, uint64_t scrape_ns, pdata::MetricsBuilder* b);
  template <typename F>
  void ConvertSummary(const F& f, const std::string& unit, uint64_t scrape_ns, pdata::MetricsBuilder* b);
  // The family's HELP for the metric `name` (the OTLP description; AddDescriptions).
  void Describe(std::string_view name, std::string_view help);
  // The name a metric is given: `name` itself, or with trim_metric_suffixes its type
  // and unit suffixes trimmed (`prom_unit`: the OpenMetrics # UNIT).
  std::string_view OutName(std::string_view name, bool sum, std::string_view prom_unit) const;
  // use_start_time_metric: the value of the first sample matching
  // start_time_metric_regex, in ns; 0 if off or absent.
  template <typename F>
  uint64_t StartTimeMetric(const std::vector<F>& families) const;
  // A sample's time: its own if honor_timestamps (and it has one), else the scrape's.
  template <typename S>
  uint64_t TimeOf(const S& s, uint64_t scrape_ns) const;
  // Counts the samples of `families` into `r`, applies sample_limit (after relabeling,
  // if `relabel`), converts.
  template <typename F>
  void ConvertChecked(std::vector<F>* families, bool relabel, uint64_t scrape_ns, pdata::MetricsBuilder* b,
                      ScrapeResult* r);
  // label_limit, label_name_length_limit and label_value_length_limit on every sample
  // (with the target labels it gets, and __name__, as Prometheus counts them);
  // `relabeled`: the samples' labels already include the target labels.
  template <typename F>
  absl::Status CheckLabelLimits(const std::vector<F>& families, bool relabeled) const;
  void EmitStale(const Series& s, uint64_t t, pdata::MetricsBuilder* b) const;
  // Staleness markers for the series of the last scrape that are not in this one (all
  // of them if `all`), in the order of their keys; removes them.
  void EmitStaleSeries(uint64_t t, bool all, pdata::MetricsBuilder* b, ScrapeResult* r);
  // metric_relabel_configs on each sample (its labels merged with the target labels as
  // Prometheus merges them, and __name__): dropped samples are removed, renamed ones
  // move to the family of their new name. Returns how many samples are left. AttrsOf
  // then takes the labels as they are.
  size_t RelabelSamples(std::vector<Family>* families) const;

  const ScrapeConfig& sc_;
  std::string job_, instance_;
  pdata::Attributes target_labels_;          // sorted, job and instance excluded
  std::vector<std::string> exported_names_;  // "exported_" + name of job, instance, target_labels_
  pdata::Attributes resource_;
  // The series in the order of the last scrape (usually the order of the next one:
  // `cursor_` is where the next series is expected), with an index by hash.
  std::vector<Series> series_;
  absl::flat_hash_map<size_t, uint32_t> index_;  // hash -> the last series with it
  size_t cursor_ = 0;
  uint64_t scrape_ = 0;           // scrapes so far
  size_t touched_ = 0;            // series of this scrape so far
  size_t added_ = 0;              // of them, new ones
  uint64_t start_metric_ns_ = 0;  // of this scrape (use_start_time_metric), or 0
  // (metric name, HELP) of this scrape's metrics that have one, for AddDescriptions.
  std::vector<std::pair<std::string, std::string>> descriptions_;
  // Buffers reused from sample to sample.
  AttrViews attrs_;
  std::string key_;
};

}  // namespace outrigger::receivers::prometheus
