#include "connectors/span_metrics/config.h"

#include <set>

#include "collector/common/strings.h"

namespace outrigger::connectors::span_metrics {
namespace {

void ReadDimensions(config::Node& node, std::string_view key, std::vector<Dimension>* out) {
  if (!node.Has(key)) return;
  out->clear();
  for (config::Node* item : node.ReadMappings(key)) {
    Dimension d;
    item->Read("name", &d.name);
    if (item->Has("default")) {
      std::string def;
      item->Read("default", &def);
      d.default_value = def;
    }
    item->Read("glob", &d.glob);
    if (d.name.empty() == d.glob.empty()) {
      item->Error("a dimension needs exactly one of 'name' (with an optional 'default') or 'glob'");
      continue;
    }
    if (!d.glob.empty() && d.default_value) {
      item->ErrorAt("default", "'default' goes with 'name', not with 'glob'");
      continue;
    }
    out->push_back(std::move(d));
  }
}

void ReadBuckets(config::Node& node, std::optional<std::vector<absl::Duration>>* out) {
  if (!node.Has("buckets")) return;
  std::vector<absl::Duration> buckets;
  for (config::Node* item : node.Value("buckets").Items()) {
    std::string s;
    if (!item->As(&s)) continue;
    std::string why;
    const std::optional<absl::Duration> d = config::ParseDuration(s, &why);
    if (!d || *d <= absl::ZeroDuration()) {
      item->Error(StrCat("expected a positive duration such as \"100us\", \"2ms\" or \"1s\", got \"", s, "\" (",
                         d ? "not positive" : why, ")"));
      continue;
    }
    buckets.push_back(*d);
  }
  *out = std::move(buckets);
}

absl::Status CheckDimensions(const std::vector<Dimension>& dims, std::set<std::string>* names, std::string_view what) {
  for (const Dimension& d : dims) {
    if (d.name.empty()) continue;
    if (!names->insert(d.name).second) {
      return absl::InvalidArgumentError(StrCat(what, ": duplicate dimension name ", d.name));
    }
  }
  return absl::OkStatus();
}

}  // namespace

void Config::Decode(config::Node& node) {
  ReadDimensions(node, "dimensions", &dimensions);
  ReadDimensions(node, "calls_dimensions", &calls_dimensions);
  node.Read("exclude_dimensions", &exclude_dimensions);
  node.Read("dimensions_cache_size", &dimensions_cache_size);
  node.Read("resource_metrics_cache_size", &resource_metrics_cache_size);
  node.Read("resource_metrics_key_attributes", &resource_metrics_key_attributes);
  node.ReadEnum("aggregation_temporality", &aggregation_temporality, {kCumulative, kDelta});

  config::Node& h = node.Child("histogram");
  h.Read("disable", &histogram.disable);
  h.ReadEnum("unit", &histogram.unit, {"ms", "s"});
  if (h.Has("explicit")) {
    histogram.explicit_given = true;
    ReadBuckets(h.Child("explicit"), &histogram.buckets);
  }
  if (h.Has("exponential")) {
    histogram.exponential = true;
    h.Child("exponential").Read("max_size", &histogram.max_size);
  }
  ReadDimensions(h, "dimensions", &histogram.dimensions);

  node.Read("metrics_flush_interval", &metrics_flush_interval);
  node.Read("metrics_expiration", &metrics_expiration);
  node.Read("series_expiration", &series_expiration);
  node.Read("metric_timestamp_cache_size", &metric_timestamp_cache_size);
  // Upstream's current place for it (the top-level key is its older one).
  node.Child("delta_temporality").Read("metric_timestamp_cache_size", &metric_timestamp_cache_size);
  node.Read("namespace", &name_space);

  config::Node& e = node.Child("exemplars");
  e.Read("enabled", &exemplars.enabled);
  e.Read("max_per_data_point", &exemplars.max_per_data_point);

  config::Node& ev = node.Child("events");
  ev.Read("enabled", &events.enabled);
  ReadDimensions(ev, "dimensions", &events.dimensions);

  node.Read("include_instrumentation_scope", &include_instrumentation_scope);
  node.Read("aggregation_cardinality_limit", &aggregation_cardinality_limit);
  node.Read("add_resource_attributes", &add_resource_attributes);
  node.Unsupported("enable_metrics_sampling_method",
                   "spans are counted one each (no adjusted counts from sampling thresholds); put span_metrics "
                   "before any sampling processor so that it sees every span");
  // The spanmetrics *processor*'s options, which the connector dropped.
  node.Unsupported("metrics_exporter", "a connector feeds the metrics pipelines that list it as a receiver");
  node.Unsupported("latency_histogram_buckets", "use histogram.explicit.buckets");
}

absl::Status Config::Validate() const {
  std::set<std::string> names = {"service.name", "span.name", "span.kind", "status.code"};
  if (auto st = CheckDimensions(dimensions, &names, "dimensions"); !st.ok()) return st;
  {
    std::set<std::string> calls = names;
    if (auto st = CheckDimensions(calls_dimensions, &calls, "calls_dimensions"); !st.ok()) return st;
    std::set<std::string> hist = names;
    if (auto st = CheckDimensions(histogram.dimensions, &hist, "histogram.dimensions"); !st.ok()) return st;
  }
  if (events.enabled) {
    if (events.dimensions.empty()) return absl::InvalidArgumentError("events: no dimensions configured for events");
    std::set<std::string> ev = names;
    if (auto st = CheckDimensions(events.dimensions, &ev, "events.dimensions"); !st.ok()) return st;
  }
  for (const std::string& x : exclude_dimensions) {
    if (x != "service.name" && x != "span.name" && x != "span.kind" && x != "status.code") {
      return absl::InvalidArgumentError(StrCat("exclude_dimensions: '", x,
                                               "' is not a default dimension (service.name, span.name, span.kind, "
                                               "status.code); to leave out a configured one, remove it from "
                                               "dimensions"));
    }
  }
  if (histogram.exponential && histogram.explicit_given) {
    return absl::InvalidArgumentError("histogram: use either `explicit` or `exponential` buckets histogram");
  }
  if (histogram.exponential && (histogram.max_size < 2 || histogram.max_size > 16384)) {
    return absl::InvalidArgumentError(
        StrCat("histogram.exponential.max_size must be between 2 and 16384, got ", histogram.max_size));
  }
  if (histogram.buckets) {
    for (size_t i = 1; i < histogram.buckets->size(); ++i) {
      if ((*histogram.buckets)[i] <= (*histogram.buckets)[i - 1]) {
        return absl::InvalidArgumentError("histogram.explicit.buckets must be in increasing order");
      }
    }
  }
  if (metrics_flush_interval < kMinFlushInterval) {
    return absl::InvalidArgumentError("metrics_flush_interval must be at least 10ms (a flush runs on the event loop)");
  }
  if (dimensions_cache_size <= 0) {
    return absl::InvalidArgumentError(StrCat("invalid dimensions_cache_size: ", dimensions_cache_size,
                                             ", the maximum number of the items in the cache should be positive"));
  }
  if (resource_metrics_cache_size <= 0) {
    return absl::InvalidArgumentError(
        StrCat("invalid resource_metrics_cache_size: ", resource_metrics_cache_size, ", it should be positive"));
  }
  if (delta() && metric_timestamp_cache_size <= 0) {
    return absl::InvalidArgumentError(StrCat("invalid metric_timestamp_cache_size: ", metric_timestamp_cache_size,
                                             ", the maximum number of the items in the cache should be positive"));
  }
  if (aggregation_cardinality_limit < 0) {
    return absl::InvalidArgumentError(StrCat("invalid aggregation_cardinality_limit: ", aggregation_cardinality_limit,
                                             ", the limit should be positive (0: no limit)"));
  }
  if (exemplars.max_per_data_point < 0) {
    return absl::InvalidArgumentError("exemplars.max_per_data_point must be positive (0: no limit)");
  }
  return absl::OkStatus();
}

std::vector<double> Config::Bounds() const {
  const double per_unit = histogram.unit == "s" ? 1e9 : 1e6;  // nanoseconds per unit
  std::vector<double> out;
  if (histogram.buckets) {
    for (absl::Duration d : *histogram.buckets)
      out.push_back(static_cast<double>(absl::ToInt64Nanoseconds(d)) / per_unit);
    return out;
  }
  for (double ms : kDefaultBucketsMs) out.push_back(histogram.unit == "s" ? ms / 1000 : ms);
  return out;
}

}  // namespace outrigger::connectors::span_metrics
