#include "receivers/statsd/config.h"

#include <algorithm>

#include "collector/http/server.h"

namespace outrigger::receivers::statsd {

const TimerMapping& Config::MappingFor(std::string_view statsd_type) const {
  static const TimerMapping kGauge;
  static const TimerMapping kDisabled = [] {
    TimerMapping m;
    m.observer_type = "disabled";
    return m;
  }();
  // As upstream: without timer_histogram_mapping the three types are gauges (its default
  // list); a list replaces that default, and a type it does not name is disabled.
  if (timer_histogram_mapping.empty()) return kGauge;
  for (const auto& m : timer_histogram_mapping) {
    if (m.statsd_type == statsd_type) return m;
  }
  return kDisabled;
}

void Config::Decode(config::Node& node) {
  node.Read("endpoint", &endpoint);
  node.ReadEnum("transport", &transport, {"udp", "tcp", "unixgram", "udp4", "udp6", "tcp4", "tcp6"});
  // The address family comes from the endpoint's address (an IPv4 or IPv6 literal or name).
  if (transport == "udp4" || transport == "udp6") transport = "udp";
  if (transport == "tcp4" || transport == "tcp6") transport = "tcp";
  if (node.Has("socket_permissions")) {
    std::string mode;
    node.Read("socket_permissions", &mode);
    std::string_view m = mode;
    if (m.size() > 2 && m[0] == '0' && (m[1] == 'o' || m[1] == 'O')) m.remove_prefix(2);
    uint32_t v = 0;
    bool ok = !m.empty() && m.size() <= 4;
    for (char c : m) {
      ok = ok && c >= '0' && c <= '7';
      v = v * 8 + static_cast<uint32_t>(c - '0');
    }
    if (ok && v <= 0777) {
      socket_permissions = v;
    } else {
      node.ErrorAt("socket_permissions", StrCat("\"", mode, "\" is not an octal file mode (such as 0622)"));
    }
  }
  node.Read("enable_simple_tags", &enable_simple_tags);
  node.Unsupported("enable_ip_only_aggregation",
                   "remove it: this receiver aggregates the lines of all clients together (no per-address split)");
  node.Read("aggregation_interval", &aggregation_interval);
  node.Read("enable_metric_type", &enable_metric_type);
  node.Read("is_monotonic_counter", &is_monotonic_counter);
  node.ReadEnum("aggregation_temporality", &aggregation_temporality, {"delta", "cumulative"});
  node.Read("max_series_per_metric", &max_series_per_metric);
  node.Read("max_series", &max_series);
  node.ReadBytes("socket_buffer_size", &socket_buffer_size);
  node.Read("events_as_logs", &events_as_logs);
  node.Read("max_tcp_line_length", &max_tcp_line_length);
  node.Read("max_connections", &max_connections);
  node.Read("idle_timeout", &idle_timeout);
  for (config::Node* item_ptr : node.ReadMappings("timer_histogram_mapping")) {
    config::Node& item = *item_ptr;
    TimerMapping m;
    item.ReadEnum("statsd_type", &m.statsd_type, {"timing", "timer", "histogram", "distribution"});
    if (m.statsd_type == "timer") m.statsd_type = "timing";
    item.ReadEnum("observer_type", &m.observer_type, {"gauge", "summary", "histogram", "disabled"});
    config::Node& summary = item.Child("summary");
    std::vector<std::string> pcts;
    summary.Read("percentiles", &pcts);
    if (!pcts.empty()) {
      m.percentiles.clear();
      for (const auto& p : pcts) {
        double v;
        if (!absl::SimpleAtod(p, &v) || v < 0 || v > 100) {
          summary.ErrorAt("percentiles", StrCat("\"", p, "\" is not a percentile between 0 and 100"));
          continue;
        }
        m.percentiles.push_back(v);
      }
    }
    config::Node& hist = item.Child("histogram");
    hist.Read("max_size", &m.max_size);
    std::vector<std::string> buckets;
    hist.Read("explicit_buckets", &buckets);
    for (const auto& b : buckets) {
      double v;
      if (!absl::SimpleAtod(b, &v)) {
        hist.ErrorAt("explicit_buckets", StrCat("\"", b, "\" is not a number"));
        continue;
      }
      m.explicit_buckets.push_back(v);
    }
    // Upstream refuses histogram options on another observer (they would not be used).
    if (item.Has("histogram") && m.observer_type != "histogram") {
      item.ErrorAt("histogram", "histogram configuration requires observer_type: histogram");
    }
    if (m.statsd_type.empty()) item.Error("statsd_type is required (timing, histogram or distribution)");
    timer_histogram_mapping.push_back(std::move(m));
  }
}

absl::Status Config::Validate() const {
  if (transport != "unixgram") {
    if (auto hp = http::ParseEndpoint(endpoint); !hp.ok()) return hp.status();
  } else if (endpoint.empty() || endpoint[0] != '/') {
    return absl::InvalidArgumentError("with transport unixgram, endpoint is the socket's absolute path");
  }
  if (aggregation_interval <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("aggregation_interval must be positive");
  }
  if (max_series_per_metric < 0) return absl::InvalidArgumentError("max_series_per_metric must not be negative");
  if (max_series < 0) return absl::InvalidArgumentError("max_series must not be negative");
  if (max_connections < 0) return absl::InvalidArgumentError("max_connections must not be negative");
  for (const auto& m : timer_histogram_mapping) {
    if (m.max_size < 2 || m.max_size > 16384) {
      return absl::InvalidArgumentError("histogram.max_size must be between 2 and 16384");
    }
    if (!std::is_sorted(m.explicit_buckets.begin(), m.explicit_buckets.end()) ||
        std::adjacent_find(m.explicit_buckets.begin(), m.explicit_buckets.end()) != m.explicit_buckets.end()) {
      return absl::InvalidArgumentError("histogram.explicit_buckets must be strictly increasing");
    }
    int n = 0;
    for (const auto& o : timer_histogram_mapping) n += o.statsd_type == m.statsd_type;
    if (n > 1) return absl::InvalidArgumentError(StrCat("statsd_type ", m.statsd_type, " is mapped twice"));
  }
  return absl::OkStatus();
}

}  // namespace outrigger::receivers::statsd
