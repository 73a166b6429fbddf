#pragma once
// Builders of pdata without protobuf, for receivers that make their own records
// (StatsD, Prometheus scrapes, log files): one resource and one scope per build.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "collector/pdata/pdata.h"

namespace outrigger::pdata {

using Attributes = std::vector<std::pair<std::string, std::string>>;

enum class Temporality { kDelta = 1, kCumulative = 2 };

struct HistogramPoint {
  uint64_t count = 0;
  double sum = 0, min = 0, max = 0;
  std::vector<double> bounds;           // explicit buckets: upper bounds
  std::vector<uint64_t> bucket_counts;  // bounds.size() + 1
  bool has_min_max = true;              // false: min and max are left unset (e.g. scraped)
};

struct ExponentialHistogramPoint {
  uint64_t count = 0, zero_count = 0;
  double sum = 0, min = 0, max = 0;
  int32_t scale = 0;
  int32_t positive_offset = 0, negative_offset = 0;
  std::vector<uint64_t> positive, negative;
};

struct SummaryPoint {
  uint64_t count = 0;
  double sum = 0;
  std::vector<std::pair<double, double>> quantiles;  // (quantile in [0,1], value)
};

class MetricsBuilder {
 public:
  MetricsBuilder(const Attributes& resource, const std::string& scope_name, const std::string& scope_version);
  ~MetricsBuilder();

  // `no_recorded_value` sets the point's NO_RECORDED_VALUE flag (a staleness marker: the
  // series ended; the value is ignored by consumers).
  void Gauge(const std::string& name, const std::string& unit, const Attributes& attrs, double value,
             uint64_t time_ns, bool no_recorded_value = false);
  void Sum(const std::string& name, const std::string& unit, const Attributes& attrs, double value,
           uint64_t start_ns, uint64_t time_ns, bool monotonic, Temporality t, bool no_recorded_value = false);
  void Histogram(const std::string& name, const std::string& unit, const Attributes& attrs,
                 const HistogramPoint& p, uint64_t start_ns, uint64_t time_ns, Temporality t,
                 bool no_recorded_value = false);
  void ExponentialHistogram(const std::string& name, const std::string& unit, const Attributes& attrs,
                            const ExponentialHistogramPoint& p, uint64_t start_ns, uint64_t time_ns, Temporality t);
  void Summary(const std::string& name, const std::string& unit, const Attributes& attrs, const SummaryPoint& p,
               uint64_t start_ns, uint64_t time_ns, bool no_recorded_value = false);

  size_t points() const { return points_; }
  // The metrics built so far; the builder is empty afterwards.
  Metrics Build();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  size_t points_ = 0;
};

// Log records under one resource and scope.
class LogsBuilder {
 public:
  LogsBuilder(const Attributes& resource, const std::string& scope_name);
  ~LogsBuilder();
  // severity_number: OTLP SeverityNumber (9 INFO, 13 WARN, 17 ERROR, ...).
  void Add(const std::string& body, int severity_number, const std::string& severity_text, const Attributes& attrs,
           uint64_t time_ns);
  size_t records() const { return records_; }
  Logs Build();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  size_t records_ = 0;
};

}  // namespace outrigger::pdata
