#include "exporters/debug/describe.h"

#include "absl/strings/escaping.h"
#include "collector/common/strings.h"
#include "nlohmann/json.hpp"
#include "opentelemetry/proto/collector/logs/v1/logs_service.pb.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"

namespace outrigger::exporters::debug {
namespace {

namespace tpb = opentelemetry::proto::collector::trace::v1;
namespace mpb = opentelemetry::proto::collector::metrics::v1;
namespace lpb = opentelemetry::proto::collector::logs::v1;
namespace metricspb = opentelemetry::proto::metrics::v1;

using pdata::MetricPoints;

template <typename D>
std::string Header(const D& d, std::string_view what, std::string_view noun) {
  return StrCat(what, ": ", d.ResourceCount(), " resources, ", d.ItemCount(), " ", noun);
}

template <typename D>
void DetailedJson(const D& d, std::vector<std::string>* out) {
  nlohmann::json j = nlohmann::json::parse(d.ToJson(), nullptr, false);
  out->push_back(j.dump(2));
}

}  // namespace

std::vector<std::string> Describe(const pdata::Traces& d, Verbosity v) {
  std::vector<std::string> out{Header(d, "Traces", "spans")};
  if (v == Verbosity::kNormal) {
    d.ForEachRequest([&](const tpb::ExportTraceServiceRequest& r) {
      for (const auto& rs : r.resource_spans())
        for (const auto& ss : rs.scope_spans())
          for (const auto& s : ss.spans())
            out.push_back(
                StrCat(absl::BytesToHexString(s.trace_id()), " ", absl::BytesToHexString(s.span_id()), " ", s.name()));
    });
  } else if (v == Verbosity::kDetailed) {
    DetailedJson(d, &out);
  }
  return out;
}

std::vector<std::string> Describe(const pdata::Metrics& d, Verbosity v) {
  std::vector<std::string> out{Header(d, "Metrics", "data points")};
  if (v == Verbosity::kNormal) {
    d.ForEachRequest([&](const mpb::ExportMetricsServiceRequest& r) {
      for (const auto& rm : r.resource_metrics())
        for (const auto& sm : rm.scope_metrics())
          for (const auto& m : sm.metrics()) out.push_back(StrCat(m.name(), " ", MetricPoints(m), " points"));
    });
  } else if (v == Verbosity::kDetailed) {
    DetailedJson(d, &out);
  }
  return out;
}

std::vector<std::string> Describe(const pdata::Logs& d, Verbosity v) {
  std::vector<std::string> out{Header(d, "Logs", "log records")};
  if (v == Verbosity::kNormal) {
    d.ForEachRequest([&](const lpb::ExportLogsServiceRequest& r) {
      for (const auto& rl : r.resource_logs())
        for (const auto& sl : rl.scope_logs())
          for (const auto& l : sl.log_records()) out.push_back(StrCat(l.severity_text(), " ", l.body().string_value()));
    });
  } else if (v == Verbosity::kDetailed) {
    DetailedJson(d, &out);
  }
  return out;
}

}  // namespace outrigger::exporters::debug
