#pragma once
// pdata::Metrics -> Prometheus remote write 1.0 time series, and their split into
// WriteRequests. See README.md for the mapping and for what is dropped.

#include <cstdint>
#include <string>
#include <vector>

#include "collector/pdata/pdata.h"
#include "exporters/prometheusremotewrite/config.h"
#include "prometheusremotewrite/remote_write.pb.h"

namespace outrigger::exporters::prometheusremotewrite {

// Prometheus's staleness marker (value/value.go StaleNaN).
inline constexpr uint64_t kStaleNaNBits = 0x7ff0000000000002ULL;
double StaleNaN();
bool IsStaleNaN(double v);

struct Translation {
  // One entry per distinct label set, samples in timestamp order, labels sorted by name.
  std::vector<::prometheus::TimeSeries> series;
  std::vector<::prometheus::MetricMetadata> metadata;  // one per family, when send_metadata
  size_t points = 0;                                   // data points translated
  size_t dropped = 0;  // data points that cannot be remote-written (delta, exponential, ...)
  // Why points were dropped: metric name -> reason (for logging), bounded.
  std::vector<std::pair<std::string, std::string>> drop_reasons;
};

Translation Translate(const pdata::Metrics& data, const Config& cfg, int64_t now_ms);

// Splits into requests of at most `max_samples` samples and about `max_bytes`
// uncompressed bytes (one series larger than that still goes, alone). Metadata goes
// into the first request.
std::vector<::prometheus::WriteRequest> Split(Translation&& t, int64_t max_samples, uint64_t max_bytes);

}  // namespace outrigger::exporters::prometheusremotewrite
