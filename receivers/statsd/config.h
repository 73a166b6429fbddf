#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "collector/component/factory.h"

namespace outrigger::receivers::statsd {

inline constexpr char kDefaultEndpoint[] = "127.0.0.1:8125";
inline constexpr absl::Duration kDefaultAggregationInterval = absl::Seconds(60);
inline constexpr int64_t kDefaultMaxSeriesPerMetric = 10000;
inline constexpr int kDefaultMaxConnections = 1000;
// Series (type + name + container id + tags) held at once, all names together. A series
// costs about 0.5 KiB while aggregated and as much again in the Metrics of a flush, so
// 100,000 is ~100 MiB at most: within a sidecar's usual memory limit, and far above
// what one application emits (a client sending a million distinct names is a bug or an
// attack, and then only the first 100,000 are kept).
inline constexpr int64_t kDefaultMaxSeries = 100000;
inline constexpr int kDefaultExpHistogramMaxSize = 160;

// How timings, histograms and distributions are reported.
struct TimerMapping {
  std::string statsd_type;              // timing | histogram | distribution
  std::string observer_type = "gauge";  // gauge (last value) | summary | histogram | disabled (dropped)
  std::vector<double> percentiles = {0, 10, 50, 90, 95, 100};  // summary
  int max_size = kDefaultExpHistogramMaxSize;                  // histogram: exponential buckets
  std::vector<double> explicit_buckets;                        // histogram: upper bounds; when set, explicit buckets
};

struct Config : ComponentConfig {
  std::string endpoint = kDefaultEndpoint;  // host:port, or a socket path for unixgram
  std::string transport = "udp";            // udp | tcp | unixgram (udp4/udp6/tcp4/tcp6 read as udp/tcp)
  uint32_t socket_permissions = 0622;       // unixgram: mode of the socket file (upstream's default)
  bool enable_simple_tags = false;          // accepted: tags without a value are always read (empty value)
  absl::Duration aggregation_interval = kDefaultAggregationInterval;
  bool enable_metric_type = false;                             // attribute metric_type on every point
  bool is_monotonic_counter = false;                           // counters as monotonic sums
  std::string aggregation_temporality = "delta";               // counters: delta | cumulative
  std::vector<TimerMapping> timer_histogram_mapping;           // default: gauge for all three
  int64_t max_series_per_metric = kDefaultMaxSeriesPerMetric;  // 0: no limit
  int64_t max_series = kDefaultMaxSeries;                      // ours, receiver-wide; 0: no limit
  uint64_t socket_buffer_size = 0;                             // SO_RCVBUF; 0: the system's default
  bool events_as_logs = true;                                  // DogStatsD events and service checks -> log records
  int64_t max_tcp_line_length = 65536;
  // tcp: open connections at most; at the limit the connection quiet for longest is
  // closed to make room (or, if none is quiet, the new one). 0: no limit.
  int max_connections = kDefaultMaxConnections;
  // tcp: a connection that sends nothing for this long is closed. 0 (default): never, as
  // a client whose quiet connection was closed loses the next line it writes.
  absl::Duration idle_timeout = absl::ZeroDuration();

  const TimerMapping& MappingFor(std::string_view statsd_type) const;
  void Decode(config::Node& node) override;
  absl::Status Validate() const override;
};

}  // namespace outrigger::receivers::statsd
