// Splitting requests by routing key without decoding them: every record lands in the part
// of the backend that owns its key, with its own resource and scope; nothing is lost or
// duplicated; the parts are valid OTLP; malformed input is an error, not a crash.
#include "exporters/loadbalancing/split.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>

#include "opentelemetry/proto/collector/logs/v1/logs_service.pb.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"

namespace outrigger::exporters::loadbalancing {
namespace {

namespace tpb = opentelemetry::proto::collector::trace::v1;
namespace mpb = opentelemetry::proto::collector::metrics::v1;
namespace lpb = opentelemetry::proto::collector::logs::v1;
using opentelemetry::proto::resource::v1::Resource;

void SetAttr(Resource* r, const std::string& k, const std::string& v) {
  auto* a = r->add_attributes();
  a->set_key(k);
  a->mutable_value()->set_string_value(v);
}

std::string TraceId(int t) {
  std::string id(16, '\0');
  for (int i = 0; i < 16; ++i) id[i] = static_cast<char>((t * 131 + i * 7) & 0xff);
  id[0] = static_cast<char>(t);
  id[1] = static_cast<char>(t >> 8);
  return id;
}

// services x scopes x spans: span names "<svc>/<scope>/<i>", trace t = i % traces.
tpb::ExportTraceServiceRequest MakeTraceRequest(int services, int scopes, int spans, int traces) {
  tpb::ExportTraceServiceRequest req;
  for (int s = 0; s < services; ++s) {
    auto* rs = req.add_resource_spans();
    SetAttr(rs->mutable_resource(), "service.name", "svc-" + std::to_string(s));
    SetAttr(rs->mutable_resource(), "host.name", "h");
    rs->set_schema_url("https://schema/" + std::to_string(s));
    for (int c = 0; c < scopes; ++c) {
      auto* ss = rs->add_scope_spans();
      ss->mutable_scope()->set_name("scope-" + std::to_string(c));
      ss->set_schema_url("scope-schema");
      for (int i = 0; i < spans; ++i) {
        auto* sp = ss->add_spans();
        sp->set_trace_id(TraceId(i % traces));
        sp->set_span_id(std::string(8, static_cast<char>(i + 1)));
        sp->set_name("svc-" + std::to_string(s) + "/scope-" + std::to_string(c) + "/" + std::to_string(i));
      }
    }
  }
  return req;
}

HashRing Ring3() { return HashRing({"10.0.0.1:4317", "10.0.0.2:4317", "10.0.0.3:4317"}); }

TEST(Split, TracesByTraceId) {
  auto req = MakeTraceRequest(3, 2, 60, 17);
  std::string bytes = req.SerializeAsString();
  HashRing ring = Ring3();
  std::vector<SplitPart> parts;
  ASSERT_TRUE(SplitRequest(Signal::kTraces, bytes, RoutingKey::kTraceId, ring, &parts).ok());
  ASSERT_EQ(parts.size(), 3u);
  std::set<std::string> seen;
  std::map<std::string, int> trace_backend;
  int nonempty = 0;
  for (size_t b = 0; b < parts.size(); ++b) {
    if (parts[b].bytes.empty()) continue;
    ++nonempty;
    tpb::ExportTraceServiceRequest out;
    ASSERT_TRUE(out.ParseFromString(parts[b].bytes));
    size_t n = 0;
    for (const auto& rs : out.resource_spans()) {
      EXPECT_EQ(rs.resource().attributes_size(), 2);
      EXPECT_FALSE(rs.scope_spans().empty()) << "a resource with nothing for this backend was kept";
      for (const auto& ss : rs.scope_spans()) {
        EXPECT_FALSE(ss.spans().empty());
        EXPECT_EQ(ss.schema_url(), "scope-schema");
        for (const auto& sp : ss.spans()) {
          ++n;
          // The span sits under its own resource and scope.
          std::string prefix = rs.resource().attributes(0).value().string_value() + "/" + ss.scope().name() + "/";
          EXPECT_EQ(sp.name().rfind(prefix, 0), 0u) << sp.name();
          EXPECT_EQ(rs.schema_url(), "https://schema/" + prefix.substr(4, prefix.find('/') - 4));
          EXPECT_EQ(ring.IndexFor(sp.trace_id()), static_cast<int>(b));
          EXPECT_TRUE(seen.insert(sp.name()).second) << "duplicate " << sp.name();
          auto [it, fresh] = trace_backend.emplace(sp.trace_id(), static_cast<int>(b));
          EXPECT_EQ(it->second, static_cast<int>(b)) << "a trace split over two backends";
        }
      }
    }
    EXPECT_EQ(parts[b].items, n);
  }
  EXPECT_EQ(seen.size(), 3u * 2 * 60);
  EXPECT_EQ(nonempty, 3) << "17 traces should reach all three backends";
}

TEST(Split, TracesByServiceKeepResourcesWhole) {
  auto req = MakeTraceRequest(8, 2, 5, 5);
  HashRing ring = Ring3();
  std::vector<SplitPart> parts;
  ASSERT_TRUE(SplitRequest(Signal::kTraces, req.SerializeAsString(), RoutingKey::kService, ring, &parts).ok());
  size_t total = 0;
  for (size_t b = 0; b < parts.size(); ++b) {
    if (parts[b].bytes.empty()) continue;
    tpb::ExportTraceServiceRequest out;
    ASSERT_TRUE(out.ParseFromString(parts[b].bytes));
    for (const auto& rs : out.resource_spans()) {
      std::string svc = rs.resource().attributes(0).value().string_value();
      EXPECT_EQ(ring.IndexFor(svc), static_cast<int>(b)) << svc;
      // The resource block is the input's, byte for byte.
      int s = std::stoi(svc.substr(4));
      EXPECT_EQ(rs.SerializeAsString(), req.resource_spans(s).SerializeAsString());
      total += 10;
    }
    EXPECT_EQ(parts[b].items, static_cast<size_t>(out.resource_spans_size()) * 10);
  }
  EXPECT_EQ(total, 80u);
}

TEST(Split, ResourceKeyIgnoresAttributeOrder) {
  tpb::ExportTraceServiceRequest a, b;
  auto* ra = a.add_resource_spans();
  SetAttr(ra->mutable_resource(), "k1", "v1");
  SetAttr(ra->mutable_resource(), "k2", "v2");
  ra->add_scope_spans()->add_spans()->set_trace_id(TraceId(1));
  auto* rb = b.add_resource_spans();
  SetAttr(rb->mutable_resource(), "k2", "v2");
  SetAttr(rb->mutable_resource(), "k1", "v1");
  rb->add_scope_spans()->add_spans()->set_trace_id(TraceId(2));
  // Over many rings, the two land together every time.
  for (int n = 2; n < 12; ++n) {
    std::vector<std::string> eps;
    for (int i = 0; i < n; ++i) eps.push_back("10.0.1." + std::to_string(i) + ":4317");
    HashRing ring(eps);
    std::vector<SplitPart> pa, pb;
    ASSERT_TRUE(SplitRequest(Signal::kTraces, a.SerializeAsString(), RoutingKey::kResource, ring, &pa).ok());
    ASSERT_TRUE(SplitRequest(Signal::kTraces, b.SerializeAsString(), RoutingKey::kResource, ring, &pb).ok());
    for (int i = 0; i < n; ++i) EXPECT_EQ(pa[i].bytes.empty(), pb[i].bytes.empty()) << n;
  }
}

TEST(Split, LogsByTraceIdAndWithoutOne) {
  lpb::ExportLogsServiceRequest req;
  auto* rl = req.add_resource_logs();
  SetAttr(rl->mutable_resource(), "service.name", "a");
  auto* sl = rl->add_scope_logs();
  for (int i = 0; i < 40; ++i) {
    auto* r = sl->add_log_records();
    r->mutable_body()->set_string_value(std::to_string(i));
    if (i % 4 != 0) r->set_trace_id(TraceId(i));
  }
  HashRing ring = Ring3();
  std::vector<SplitPart> parts;
  ASSERT_TRUE(SplitRequest(Signal::kLogs, req.SerializeAsString(), RoutingKey::kTraceId, ring, &parts).ok());
  std::set<std::string> bodies;
  std::set<int> untraced_backends;
  for (size_t b = 0; b < parts.size(); ++b) {
    if (parts[b].bytes.empty()) continue;
    lpb::ExportLogsServiceRequest out;
    ASSERT_TRUE(out.ParseFromString(parts[b].bytes));
    size_t n = 0;
    for (const auto& r : out.resource_logs(0).scope_logs(0).log_records()) {
      ++n;
      bodies.insert(r.body().string_value());
      if (r.trace_id().empty()) {
        untraced_backends.insert(static_cast<int>(b));
      } else {
        EXPECT_EQ(ring.IndexFor(r.trace_id()), static_cast<int>(b));
      }
    }
    EXPECT_EQ(parts[b].items, n);
  }
  EXPECT_EQ(bodies.size(), 40u);
  EXPECT_EQ(untraced_backends.size(), 1u) << "records without a trace id of one resource go together";
}

mpb::ExportMetricsServiceRequest MakeMetricRequest() {
  mpb::ExportMetricsServiceRequest req;
  for (int s = 0; s < 2; ++s) {
    auto* rm = req.add_resource_metrics();
    SetAttr(rm->mutable_resource(), "service.name", "svc-" + std::to_string(s));
    auto* sm = rm->add_scope_metrics();
    sm->mutable_scope()->set_name("meter");
    for (int m = 0; m < 10; ++m) {
      auto* metric = sm->add_metrics();
      metric->set_name("m" + std::to_string(m));
      metric->set_unit("1");
      auto* sum = metric->mutable_sum();
      sum->set_aggregation_temporality(opentelemetry::proto::metrics::v1::AGGREGATION_TEMPORALITY_CUMULATIVE);
      sum->set_is_monotonic(true);
      for (int p = 0; p < 6; ++p) {
        auto* dp = sum->add_data_points();
        dp->set_as_int(s * 1000 + m * 10 + p);
        auto* a = dp->add_attributes();
        a->set_key("p");
        a->mutable_value()->set_int_value(p);
      }
    }
  }
  return req;
}

TEST(Split, MetricsByMetricAndByStream) {
  auto req = MakeMetricRequest();
  HashRing ring = Ring3();
  for (RoutingKey key : {RoutingKey::kMetric, RoutingKey::kStreamId, RoutingKey::kService, RoutingKey::kTraceId}) {
    std::vector<SplitPart> parts;
    ASSERT_TRUE(SplitRequest(Signal::kMetrics, req.SerializeAsString(), key, ring, &parts).ok());
    std::set<int64_t> values;
    std::map<std::string, std::set<int>> metric_backends;  // "svc/metric" -> backends
    for (size_t b = 0; b < parts.size(); ++b) {
      if (parts[b].bytes.empty()) continue;
      mpb::ExportMetricsServiceRequest out;
      ASSERT_TRUE(out.ParseFromString(parts[b].bytes));
      for (const auto& rm : out.resource_metrics()) {
        for (const auto& sm : rm.scope_metrics()) {
          for (const auto& m : sm.metrics()) {
            ASSERT_TRUE(m.has_sum());
            EXPECT_TRUE(m.sum().is_monotonic());  // the data's other fields come along
            EXPECT_EQ(m.unit(), "1");
            EXPECT_FALSE(m.sum().data_points().empty());
            for (const auto& dp : m.sum().data_points()) EXPECT_TRUE(values.insert(dp.as_int()).second);
            metric_backends[rm.resource().attributes(0).value().string_value() + "/" + m.name()].insert(
                static_cast<int>(b));
          }
        }
      }
    }
    EXPECT_EQ(values.size(), 2u * 10 * 6);
    size_t split_metrics = 0;
    for (const auto& [m, backends] : metric_backends) split_metrics += backends.size() > 1;
    if (key == RoutingKey::kStreamId) {
      EXPECT_GT(split_metrics, 0u) << "streams of one metric should spread";
    } else {
      EXPECT_EQ(split_metrics, 0u);
    }
  }
}

TEST(Split, MetricKeysRefusedForTraces) {
  auto req = MakeTraceRequest(1, 1, 2, 2);
  std::vector<SplitPart> parts;
  auto st = SplitRequest(Signal::kTraces, req.SerializeAsString(), RoutingKey::kMetric, Ring3(), &parts);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("metrics only"), std::string_view::npos);
}

TEST(Split, EmptyRingIsUnavailable) {
  std::vector<SplitPart> parts;
  EXPECT_EQ(SplitRequest(Signal::kTraces, "", RoutingKey::kTraceId, HashRing({}), &parts).code(),
            absl::StatusCode::kUnavailable);
}

TEST(Split, MalformedInputIsAnErrorNotACrash) {
  std::string good = MakeTraceRequest(2, 2, 10, 4).SerializeAsString();
  HashRing ring = Ring3();
  std::vector<SplitPart> parts;
  for (size_t cut = 1; cut < good.size(); cut += 3) {
    std::string bad = good.substr(0, cut);
    (void)SplitRequest(Signal::kTraces, bad, RoutingKey::kTraceId, ring, &parts);
  }
  std::mt19937 rng(7);
  for (int i = 0; i < 2000; ++i) {
    std::string bad = good;
    bad[rng() % bad.size()] = static_cast<char>(rng());
    for (RoutingKey k : {RoutingKey::kTraceId, RoutingKey::kService, RoutingKey::kResource}) {
      (void)SplitRequest(Signal::kTraces, bad, k, ring, &parts);
    }
    (void)SplitRequest(Signal::kMetrics, bad, RoutingKey::kStreamId, ring, &parts);
  }
  EXPECT_EQ(SplitRequest(Signal::kTraces, std::string("\x0a\xff\xff", 3), RoutingKey::kTraceId, ring, &parts).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(Split, PdataPartsCarryTheirItemCounts) {
  auto req = MakeTraceRequest(2, 1, 50, 9);
  auto d = pdata::Traces::FromProto(req.SerializeAsString());
  ASSERT_TRUE(d.ok());
  std::vector<pdata::Traces> parts;
  ASSERT_TRUE(Split(Signal::kTraces, *d, RoutingKey::kTraceId, Ring3(), &parts).ok());
  size_t total = 0;
  for (const auto& p : parts) {
    total += p.ItemCount();
    size_t decoded = 0;
    p.ForEachRequest([&](const tpb::ExportTraceServiceRequest& r) {
      for (const auto& rs : r.resource_spans())
        for (const auto& ss : rs.scope_spans()) decoded += ss.spans_size();
    });
    EXPECT_EQ(decoded, p.ItemCount());
  }
  EXPECT_EQ(total, 100u);
}

}  // namespace
}  // namespace outrigger::exporters::loadbalancing
