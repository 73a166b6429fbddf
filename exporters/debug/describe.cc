#include "exporters/debug/describe.h"

#include "absl/strings/escaping.h"
#include "collector/common/strings.h"
#include "collector/pdata/json_encode.h"
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

// Indents compact JSON two spaces a level (`"key": value`, empty containers as `{}` and
// `[]`), as it streams by: no document of it is built (issue 15: parsing the JSON of a
// request of 440,000 empty attributes into one took hundreds of megabytes).
class Indenter {
 public:
  explicit Indenter(std::string* out) : out_(out) {}
  void Feed(std::string_view chunk) {
    for (char c : chunk) {
      if (in_string_) {
        out_->push_back(c);
        if (escape_) {
          escape_ = false;
        } else if (c == '\\') {
          escape_ = true;
        } else if (c == '"') {
          in_string_ = false;
        }
        continue;
      }
      if (opened_) {
        opened_ = false;
        if (c == '}' || c == ']') {
          --depth_;
          out_->push_back(c);
          continue;
        }
        NewLine();
      }
      switch (c) {
        case '{':
        case '[':
          out_->push_back(c);
          ++depth_;
          opened_ = true;
          break;
        case '}':
        case ']':
          --depth_;
          NewLine();
          out_->push_back(c);
          break;
        case ',':
          out_->push_back(c);
          NewLine();
          break;
        case ':':
          out_->append(": ");
          break;
        case '"':
          in_string_ = true;
          out_->push_back(c);
          break;
        default:
          out_->push_back(c);
      }
    }
  }

 private:
  void NewLine() {
    out_->push_back('\n');
    out_->append(static_cast<size_t>(2 * std::max(depth_, 0)), ' ');
  }
  std::string* out_;
  int depth_ = 0;
  bool in_string_ = false, escape_ = false, opened_ = false;
};

// The indented output stops at this size (a log line, not an archive: the file exporter is).
constexpr size_t kMaxDetailedBytes = 16 << 20;

template <typename D>
void DetailedJson(const D& d, std::vector<std::string>* out) {
  std::string text;
  Indenter indent(&text);
  absl::Status st = pdata::EncodeJson(d, 0, [&](std::string_view chunk) {
    indent.Feed(chunk);
    if (text.size() > kMaxDetailedBytes) return absl::ResourceExhaustedError("too long");
    return absl::OkStatus();
  });
  if (!st.ok()) text.append(StrCat("\n... (truncated at ", kMaxDetailedBytes, " bytes)"));
  out->push_back(std::move(text));
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
