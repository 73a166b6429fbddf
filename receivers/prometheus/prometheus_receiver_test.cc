#include "receivers/prometheus/prometheus_receiver.h"

#include <gtest/gtest.h>

#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <mutex>

#include "absl/strings/str_format.h"
#include "collector/http/server.h"
#include "receivers/prometheus/scrape.h"
#include "tests/testutil/testutil.h"
#include "yaml-cpp/yaml.h"

namespace outrigger::receivers::prometheus {
namespace {

namespace mpb = opentelemetry::proto::metrics::v1;
using Req = opentelemetry::proto::collector::metrics::v1::ExportMetricsServiceRequest;

// One data point, flattened.
struct Pt {
  std::string name, kind;  // gauge, sum, histogram, summary
  std::string description;
  std::map<std::string, std::string> attrs, resource;
  double value = 0;
  uint64_t start = 0, time = 0;
  bool stale = false, monotonic = false;
  uint64_t count = 0;
  double sum = 0;
  std::vector<double> bounds;
  std::vector<uint64_t> buckets;
  std::vector<std::pair<double, double>> quantiles;
  bool has_min = false;
};

template <typename P>
std::map<std::string, std::string> AttrMap(const P& p) {
  std::map<std::string, std::string> m;
  for (const auto& kv : p.attributes()) m[kv.key()] = kv.value().string_value();
  return m;
}

std::vector<Pt> Flatten(const pdata::Metrics& d) {
  std::vector<Pt> out;
  d.ForEachRequest([&](const Req& req) {
    for (const auto& rm : req.resource_metrics()) {
      auto res = AttrMap(rm.resource());
      for (const auto& sm : rm.scope_metrics()) {
        EXPECT_EQ(sm.scope().name(), kScopeName);
        for (const auto& m : sm.metrics()) {
          auto base = [&](const auto& p, const char* kind) {
            Pt pt;
            pt.name = m.name();
            pt.description = m.description();
            pt.kind = kind;
            pt.attrs = AttrMap(p);
            pt.resource = res;
            pt.start = p.start_time_unix_nano();
            pt.time = p.time_unix_nano();
            pt.stale = p.flags() & mpb::DATA_POINT_FLAGS_NO_RECORDED_VALUE_MASK;
            return pt;
          };
          if (m.has_gauge()) {
            for (const auto& p : m.gauge().data_points()) {
              Pt pt = base(p, "gauge");
              pt.value = p.as_double();
              out.push_back(pt);
            }
          } else if (m.has_sum()) {
            for (const auto& p : m.sum().data_points()) {
              Pt pt = base(p, "sum");
              pt.value = p.as_double();
              pt.monotonic = m.sum().is_monotonic();
              EXPECT_EQ(m.sum().aggregation_temporality(), mpb::AGGREGATION_TEMPORALITY_CUMULATIVE);
              out.push_back(pt);
            }
          } else if (m.has_histogram()) {
            for (const auto& p : m.histogram().data_points()) {
              Pt pt = base(p, "histogram");
              pt.count = p.count();
              pt.sum = p.sum();
              pt.bounds.assign(p.explicit_bounds().begin(), p.explicit_bounds().end());
              pt.buckets.assign(p.bucket_counts().begin(), p.bucket_counts().end());
              pt.has_min = p.has_min();
              out.push_back(pt);
            }
          } else if (m.has_summary()) {
            for (const auto& p : m.summary().data_points()) {
              Pt pt = base(p, "summary");
              pt.count = p.count();
              pt.sum = p.sum();
              for (const auto& q : p.quantile_values()) pt.quantiles.emplace_back(q.quantile(), q.value());
              out.push_back(pt);
            }
          }
        }
      }
    }
  });
  return out;
}

const Pt* Find(const std::vector<Pt>& pts, const std::string& name,
               const std::map<std::string, std::string>& attrs = {}) {
  for (const auto& p : pts) {
    if (p.name != name) continue;
    bool ok = true;
    for (const auto& [k, v] : attrs) {
      auto it = p.attrs.find(k);
      ok &= it != p.attrs.end() && it->second == v;
    }
    if (ok) return &p;
  }
  return nullptr;
}

constexpr uint64_t kSec = 1000000000ull;

ScrapeConfig Job(const std::string& name) {
  ScrapeConfig sc;
  sc.job_name = name;
  sc.static_configs.push_back({{"127.0.0.1:9100"}, {}});
  return sc;
}

std::vector<Pt> Scrape(TargetState& st, const absl::StatusOr<std::string>& body, uint64_t t,
                       ScrapeResult* r = nullptr) {
  pdata::MetricsBuilder b(st.Resource(), kScopeName, "");
  ScrapeResult res = st.Process(body, t, 0.01, &b);
  if (r) *r = res;
  pdata::Metrics m = b.Build();
  st.AddDescriptions(&m);
  return Flatten(m);
}

TEST(PrometheusScrapeTest, ConvertsEveryType) {
  ScrapeConfig sc = Job("node");
  TargetState st(sc, "127.0.0.1:9100", {{"env", "prod"}});
  ScrapeResult r;
  auto pts = Scrape(st,
                    std::string("# TYPE reqs_total counter\n"
                                "reqs_total{code=\"200\",env=\"scraped\"} 10\n"
                                "# TYPE temp gauge\n"
                                "temp{room=\"a\",empty=\"\"} 21.5\n"
                                "untyped_thing 3\n"
                                "# TYPE lat histogram\n"
                                "lat_bucket{le=\"0.5\"} 2\n"
                                "lat_bucket{le=\"1\"} 5\n"
                                "lat_bucket{le=\"+Inf\"} 6\n"
                                "lat_sum 4.5\n"
                                "lat_count 6\n"
                                "# TYPE rpc summary\n"
                                "rpc{quantile=\"0.5\"} 0.2\n"  // in increasing order, as the format wants
                                "rpc{quantile=\"0.99\"} 0.9\n"
                                "rpc_sum 12\n"
                                "rpc_count 40\n"),
                    100 * kSec, &r);
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_EQ(r.samples, 12u);
  EXPECT_EQ(r.series_added, 5u);
  const Pt* c = Find(pts, "reqs_total");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->kind, "sum");
  EXPECT_TRUE(c->monotonic);
  EXPECT_EQ(c->value, 10);
  EXPECT_EQ(c->start, 100 * kSec);
  EXPECT_EQ(c->time, 100 * kSec);
  // honor_labels false: the scraped env is renamed; the target label wins.
  EXPECT_EQ(c->attrs,
            (std::map<std::string, std::string>{{"code", "200"}, {"env", "prod"}, {"exported_env", "scraped"}}));
  EXPECT_EQ(c->resource, (std::map<std::string, std::string>{{"service.name", "node"},
                                                             {"service.instance.id", "127.0.0.1:9100"},
                                                             {"server.address", "127.0.0.1"},
                                                             {"server.port", "9100"},
                                                             {"url.scheme", "http"}}));
  const Pt* g = Find(pts, "temp");
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(g->kind, "gauge");
  EXPECT_EQ(g->value, 21.5);
  EXPECT_EQ(g->attrs, (std::map<std::string, std::string>{{"env", "prod"}, {"room", "a"}}));  // empty label dropped
  ASSERT_NE(Find(pts, "untyped_thing"), nullptr);
  EXPECT_EQ(Find(pts, "untyped_thing")->kind, "gauge");
  const Pt* h = Find(pts, "lat");
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(h->kind, "histogram");
  EXPECT_EQ(h->count, 6u);
  EXPECT_EQ(h->sum, 4.5);
  EXPECT_EQ(h->bounds, (std::vector<double>{0.5, 1}));
  EXPECT_EQ(h->buckets, (std::vector<uint64_t>{2, 3, 1}));
  EXPECT_FALSE(h->has_min);
  const Pt* s = Find(pts, "rpc");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->kind, "summary");
  EXPECT_EQ(s->count, 40u);
  EXPECT_EQ(s->sum, 12);
  EXPECT_EQ(s->quantiles, (std::vector<std::pair<double, double>>{{0.5, 0.2}, {0.99, 0.9}}));
  const Pt* up = Find(pts, "up");
  ASSERT_NE(up, nullptr);
  EXPECT_EQ(up->value, 1);
  EXPECT_EQ(up->attrs, (std::map<std::string, std::string>{{"env", "prod"}}));
  EXPECT_EQ(Find(pts, "scrape_samples_scraped")->value, 12);
  EXPECT_EQ(Find(pts, "scrape_series_added")->value, 5);
  ASSERT_NE(Find(pts, "scrape_duration_seconds"), nullptr);
}

TEST(PrometheusScrapeTest, HistogramWithoutInfBucketFailsTheScrape) {
  // The text format: "A histogram must have a bucket with {le="+Inf"}"; without _count,
  // the +Inf bucket is the count.
  ScrapeConfig sc = Job("j");
  TargetState st(sc, "h:1", {});
  ScrapeResult r;
  auto pts =
      Scrape(st, std::string("# TYPE x histogram\nx_bucket{le=\"1\"} 2\nx_bucket{le=\"2\"} 3\nx_count 7\nx_sum 1\n"),
             kSec, &r);
  EXPECT_EQ(r.status.message(), "invalid exposition: line 2: histogram x has no bucket with le=\"+Inf\"");
  EXPECT_TRUE(r.malformed);
  EXPECT_EQ(Find(pts, "x"), nullptr);
  EXPECT_EQ(Find(pts, "up")->value, 0);
  pts = Scrape(st, std::string("# TYPE y histogram\ny_bucket{le=\"1\"} 2\ny_bucket{le=\"+Inf\"} 4\n"), 2 * kSec, &r);
  const Pt* y = Find(pts, "y");
  ASSERT_NE(y, nullptr);
  EXPECT_EQ(y->count, 4u);  // no _count: the +Inf bucket
  EXPECT_EQ(y->buckets, (std::vector<uint64_t>{2, 2}));
}

// # HELP is the OTLP metric's description, for every type; the scrape's own metrics
// have none.
TEST(PrometheusScrapeTest, HelpIsTheDescription) {
  ScrapeConfig sc = Job("j");
  TargetState st(sc, "h:1", {});
  ScrapeResult r;
  auto pts = Scrape(st,
                    std::string("# HELP c_total Requests \\ served.\n# TYPE c_total counter\nc_total 1\n"
                                "# HELP g Temperature\\nin C.\ng 2\nnohelp 3\n"
                                "# TYPE h histogram\n# HELP h Latency.\nh_bucket{le=\"+Inf\"} 1\nh_count 1\nh_sum 1\n"
                                "# HELP s Sizes.\n# TYPE s summary\ns_count 1\ns_sum 1\n"),
                    kSec, &r);
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_EQ(Find(pts, "c_total")->description, "Requests \\ served.");
  EXPECT_EQ(Find(pts, "g")->description, "Temperature\nin C.");
  EXPECT_EQ(Find(pts, "nohelp")->description, "");
  EXPECT_EQ(Find(pts, "h")->description, "Latency.");
  EXPECT_EQ(Find(pts, "s")->description, "Sizes.");
  EXPECT_EQ(Find(pts, "up")->description, "");
}

// Explicit timestamps are the points' times, 0 included; several samples of a series
// with different timestamps are several points; a timestamp OTLP cannot hold (before
// 1970, after 2554) fails the scrape with the line, unless honor_timestamps is false.
TEST(PrometheusScrapeTest, TimestampsZeroSeveralPointsAndOutOfRange) {
  ScrapeConfig sc = Job("j");
  TargetState st(sc, "h:1", {});
  ScrapeResult r;
  auto pts = Scrape(st,
                    std::string("zero 1 0\nmany 1 1000\nmany 2 2000\n# TYPE h histogram\n"
                                "h_bucket{le=\"+Inf\"} 1 1000\nh_count 1 1000\nh_bucket{le=\"+Inf\"} 3 2000\n"
                                "h_count 3 2000\n"),
                    100 * kSec, &r);
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_EQ(Find(pts, "zero")->time, 0u);
  std::vector<std::pair<uint64_t, double>> many;
  std::vector<std::pair<uint64_t, uint64_t>> h;
  for (const Pt& p : pts) {
    if (p.name == "many") many.emplace_back(p.time, p.value);
    if (p.name == "h") h.emplace_back(p.time, p.count);
  }
  EXPECT_EQ(many, (std::vector<std::pair<uint64_t, double>>{{kSec, 1}, {2 * kSec, 2}}));
  EXPECT_EQ(h, (std::vector<std::pair<uint64_t, uint64_t>>{{kSec, 1}, {2 * kSec, 3}}));

  pts = Scrape(st, std::string("ok 1\nold 1 -5\n"), 200 * kSec, &r);
  EXPECT_EQ(r.status.message(),
            "invalid exposition: line 2: timestamp -5 ms of old cannot be an OTLP time (1970 to 2554); "
            "honor_timestamps: false uses the scrape time instead");
  EXPECT_TRUE(r.malformed);
  EXPECT_EQ(Find(pts, "ok"), nullptr);
  pts = Scrape(st, std::string("far 1 18446744073710\n"), 300 * kSec, &r);
  EXPECT_FALSE(r.status.ok());
  EXPECT_EQ(Find(pts, "far"), nullptr);
  pts = Scrape(st, std::string("far 1 18446744073709\n"), 400 * kSec, &r);  // the last millisecond that fits
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_EQ(Find(pts, "far")->time, 18446744073709000000ull);

  ScrapeConfig sc2 = Job("j");
  sc2.honor_timestamps = false;
  TargetState st2(sc2, "h:1", {});
  pts = Scrape(st2, std::string("old 1 -5\n"), 100 * kSec, &r);
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_EQ(Find(pts, "old")->time, 100 * kSec);
}

TEST(PrometheusScrapeTest, StartTimesAndResetDetection) {
  ScrapeConfig sc = Job("j");
  TargetState st(sc, "h:1", {});
  auto body = [&](int v) {
    std::string s = absl::StrFormat(
        "# TYPE c counter\nc %d\n# TYPE h histogram\nh_bucket{le=\"+Inf\"} %d\nh_count %d\n"
        "# TYPE s summary\ns_count %d\ns_sum 1\n",
        v, v, v, v);
    return absl::StatusOr<std::string>(s);
  };
  auto p1 = Scrape(st, body(10), 100 * kSec);
  auto p2 = Scrape(st, body(15), 110 * kSec);
  EXPECT_EQ(Find(p2, "c")->start, 100 * kSec);  // first seen
  EXPECT_EQ(Find(p2, "c")->time, 110 * kSec);
  EXPECT_EQ(Find(p2, "h")->start, 100 * kSec);
  EXPECT_EQ(Find(p2, "s")->start, 100 * kSec);
  ScrapeResult r;
  auto p3 = Scrape(st, body(3), 120 * kSec, &r);  // a reset
  EXPECT_EQ(r.series_added, 0u);
  EXPECT_EQ(Find(p3, "c")->start, 110 * kSec);  // after the last observation before the reset
  EXPECT_EQ(Find(p3, "h")->start, 110 * kSec);
  EXPECT_EQ(Find(p3, "s")->start, 110 * kSec);
  auto p4 = Scrape(st, body(4), 130 * kSec);
  EXPECT_EQ(Find(p4, "c")->start, 110 * kSec);
  EXPECT_EQ(Find(p4, "c")->value, 4);
}

TEST(PrometheusScrapeTest, StalenessOnFailureAndForDisappearedSeries) {
  ScrapeConfig sc = Job("j");
  TargetState st(sc, "h:1", {});
  Scrape(st,
         std::string("a 1\nb 2\n# TYPE c counter\nc 5\n# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} "
                     "1\nh_count 1\n"),
         kSec);
  // b disappears between two successful scrapes: one marker.
  ScrapeResult r;
  auto pts = Scrape(
      st,
      std::string(
          "a 1\n# TYPE c counter\nc 6\n# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 1\nh_count 1\n"),
      2 * kSec, &r);
  EXPECT_EQ(r.stale, 1u);
  ASSERT_NE(Find(pts, "b"), nullptr);
  EXPECT_TRUE(Find(pts, "b")->stale);
  EXPECT_FALSE(Find(pts, "a")->stale);
  // The target fails: up=0 and a marker for every series of the last good scrape.
  pts = Scrape(st, absl::UnavailableError("connection refused"), 3 * kSec, &r);
  EXPECT_FALSE(r.status.ok());
  EXPECT_EQ(r.stale, 3u);
  EXPECT_EQ(Find(pts, "up")->value, 0);
  for (const char* n : {"a", "c", "h"}) {
    ASSERT_NE(Find(pts, n), nullptr) << n;
    EXPECT_TRUE(Find(pts, n)->stale) << n;
    EXPECT_EQ(Find(pts, n)->time, 3 * kSec);
  }
  EXPECT_EQ(Find(pts, "c")->kind, "sum");
  EXPECT_EQ(Find(pts, "h")->kind, "histogram");
  // Only once.
  pts = Scrape(st, absl::UnavailableError("connection refused"), 4 * kSec, &r);
  EXPECT_EQ(r.stale, 0u);
  EXPECT_EQ(pts.size(), 4u);  // up and the scrape_* gauges
  // Garbage is a failed scrape too, and back again every series is new.
  pts = Scrape(st, std::string("a 1\n"), 5 * kSec, &r);
  EXPECT_EQ(r.series_added, 1u);
  pts = Scrape(st, std::string("a{ 1\n"), 6 * kSec, &r);
  EXPECT_TRUE(r.malformed);
  EXPECT_EQ(Find(pts, "up")->value, 0);
  EXPECT_TRUE(Find(pts, "a")->stale);
}

TEST(PrometheusScrapeTest, SampleLimitFailsTheScrape) {
  ScrapeConfig sc = Job("j");
  sc.sample_limit = 2;
  TargetState st(sc, "h:1", {});
  ScrapeResult r;
  auto pts = Scrape(st, std::string("a 1\nb 2\n"), kSec, &r);
  EXPECT_TRUE(r.status.ok());
  pts = Scrape(st, std::string("a 1\nb 2\nc 3\n"), 2 * kSec, &r);
  EXPECT_EQ(r.status.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(Find(pts, "up")->value, 0);
  EXPECT_EQ(Find(pts, "c"), nullptr);
  EXPECT_TRUE(Find(pts, "a")->stale);
}

// Issue 15: a 1,000,000-series scrape cost ~2 KB per series before sample_limit was
// checked. Now the exposition is not parsed at all past the limit: the garbage after the
// third sample would otherwise make it "malformed".
TEST(PrometheusScrapeTest, SampleLimitFailsBeforeParsing) {
  ScrapeConfig sc = Job("j");
  sc.sample_limit = 2;
  TargetState st(sc, "h:1", {});
  ScrapeResult r;
  auto pts = Scrape(st, std::string("# HELP a x\n\na 1\n# TYPE b gauge\nb 2\n"), kSec, &r);
  EXPECT_TRUE(r.status.ok()) << r.status;  // comments and blank lines are no samples
  pts = Scrape(st, std::string("a 1\nb 2\nc 3\nthis { is not parsed\n"), 2 * kSec, &r);
  EXPECT_EQ(r.status.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(r.status.message().find("sample_limit exceeded"), std::string::npos) << r.status;
  EXPECT_FALSE(r.malformed);
  EXPECT_EQ(r.limit, "sample_limit");
  EXPECT_EQ(Find(pts, "up")->value, 0);
  EXPECT_TRUE(Find(pts, "a")->stale);
}

TEST(PrometheusScrapeTest, CountSampleLinesStopsPastTheLimit) {
  EXPECT_EQ(CountSampleLines("a 1\n# c\n\n  \nb 2\n\tc 3", 100), 3u);
  EXPECT_EQ(CountSampleLines("a 1\nb 1\nc 1\nd 1\n", 1), 2u);
  EXPECT_EQ(CountSampleLines("", 5), 0u);
}

TEST(PrometheusScrapeTest, LabelLimitCountsNameAndTargetLabels) {
  ScrapeConfig sc = Job("j");
  sc.label_limit = 4;  // __name__, job, instance, x
  TargetState st(sc, "h:1", {});
  ScrapeResult r;
  Scrape(st, std::string("a{x=\"1\",empty=\"\"} 1\n"), kSec, &r);
  EXPECT_TRUE(r.status.ok()) << r.status;
  auto pts = Scrape(st, std::string("a{x=\"1\",y=\"2\"} 1\n"), 2 * kSec, &r);
  EXPECT_EQ(r.status.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(r.status.message(), "label_limit exceeded (metric: a, number of labels: 5, limit: 4)");
  EXPECT_EQ(r.limit, "label_limit");
  EXPECT_EQ(Find(pts, "up")->value, 0);
}

TEST(PrometheusScrapeTest, LabelNameAndValueLengthLimits) {
  ScrapeConfig sc = Job("j");
  sc.label_name_length_limit = 8;
  sc.label_value_length_limit = 5;
  TargetState st(sc, "h:1", {});
  ScrapeResult r;
  Scrape(st, std::string("a{short=\"12345\"} 1\n"), kSec, &r);
  EXPECT_TRUE(r.status.ok()) << r.status;
  Scrape(st, std::string("a{toolongname=\"1\"} 1\n"), 2 * kSec, &r);
  EXPECT_EQ(r.status.message(),
            "label_name_length_limit exceeded (metric: a, label name: toolongname, length: 11, limit: 8)");
  EXPECT_EQ(r.limit, "label_name_length_limit");
  Scrape(st, std::string("a{v=\"123456\"} 1\n"), 3 * kSec, &r);
  EXPECT_EQ(r.status.message(),
            "label_value_length_limit exceeded (metric: a, label name: v, value: \"123456\", length: 6, limit: 5)");
  EXPECT_EQ(r.limit, "label_value_length_limit");
}

TEST(PrometheusScrapeTest, HonorLabelsAndTimestamps) {
  ScrapeConfig sc = Job("j");
  sc.honor_labels = true;
  sc.honor_timestamps = false;
  TargetState st(sc, "h:1", {{"env", "prod"}, {"zone", "z1"}});
  auto pts = Scrape(st, std::string("m{env=\"dev\",job=\"other\"} 1 5000\n"), 100 * kSec);
  const Pt* m = Find(pts, "m");
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->attrs, (std::map<std::string, std::string>{{"env", "dev"}, {"job", "other"}, {"zone", "z1"}}));
  EXPECT_EQ(m->time, 100 * kSec);  // the exposed timestamp is ignored
  ScrapeConfig sc2 = Job("j");
  TargetState st2(sc2, "h:1", {});
  pts = Scrape(st2, std::string("m{job=\"other\"} 1 5000\n"), 100 * kSec);
  EXPECT_EQ(Find(pts, "m")->time, 5 * kSec);
  EXPECT_EQ(Find(pts, "m")->attrs, (std::map<std::string, std::string>{{"exported_job", "other"}}));
}

Config Decode(const std::string& yaml, config::Errors* errors) {
  Config cfg;
  config::Node node(YAML::Load(yaml), "receivers.prometheus", errors);
  cfg.Decode(node);
  node.Finish();
  return cfg;
}

TEST(PrometheusConfigTest, DecodesPrometheusSyntaxWithDefaults) {
  config::Errors errors;
  Config cfg = Decode(R"(
config:
  global: {scrape_interval: 30s}
  scrape_configs:
    - job_name: a
      static_configs: [{targets: ["h:1", "h:2"], labels: {env: prod}}]
    - job_name: b
      scrape_interval: 5s
      scheme: https
      params: {module: [x, y]}
      basic_auth: {username: u, password: p}
      tls_config: {insecure_skip_verify: true}
      static_configs: [{targets: ["h:3"]}]
)",
                      &errors);
  ASSERT_TRUE(errors.empty()) << errors.Joined();
  ASSERT_TRUE(cfg.Validate().ok()) << cfg.Validate();
  ASSERT_EQ(cfg.scrape_configs.size(), 2u);
  const ScrapeConfig& a = cfg.scrape_configs[0];
  EXPECT_EQ(cfg.IntervalOf(a), absl::Seconds(30));
  EXPECT_EQ(cfg.TimeoutOf(a), absl::Seconds(10));
  EXPECT_EQ(a.metrics_path, "/metrics");
  EXPECT_EQ(a.scheme, "http");
  EXPECT_TRUE(a.honor_timestamps);
  EXPECT_FALSE(a.honor_labels);
  EXPECT_EQ(a.static_configs[0].targets.size(), 2u);
  EXPECT_EQ(a.static_configs[0].labels.at("env"), "prod");
  const ScrapeConfig& b = cfg.scrape_configs[1];
  EXPECT_EQ(cfg.IntervalOf(b), absl::Seconds(5));
  EXPECT_EQ(cfg.TimeoutOf(b), absl::Seconds(5));  // the global 10s, lowered to the interval
  EXPECT_EQ(b.params.at("module"), (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(b.basic_auth_username, "u");
  EXPECT_TRUE(b.tls.insecure_skip_verify);
}

TEST(PrometheusConfigTest, UnknownKeysAndInvalidValues) {
  config::Errors errors;
  Decode(
      "config:\n  scrape_configs:\n    - job_name: a\n      consul_sd_configs: []\n"
      "      static_configs: [{targets: [\"h:1\"], lables: {}}]\n",
      &errors);
  ASSERT_EQ(errors.list().size(), 2u) << errors.Joined();
  EXPECT_NE(errors.Joined().find("consul_sd_configs"), std::string::npos);
  EXPECT_NE(errors.Joined().find("did you mean 'labels'"), std::string::npos);
  auto invalid = [](const std::string& yaml) {
    config::Errors e;
    Config cfg = Decode(yaml, &e);
    EXPECT_TRUE(e.empty()) << e.Joined();
    return std::string(cfg.Validate().message());
  };
  EXPECT_EQ(invalid("config: {scrape_configs: []}"), "config.scrape_configs: at least one scrape config is needed");
  EXPECT_EQ(invalid("config: {scrape_configs: [{job_name: a, static_configs: [{targets: [h:1]}]},"
                    " {job_name: a, static_configs: [{targets: [h:1]}]}]}"),
            "config.scrape_configs: job_name \"a\" is used twice");
  EXPECT_EQ(invalid("config: {scrape_configs: [{job_name: a, scrape_interval: 1s, scrape_timeout: 2s,"
                    " static_configs: [{targets: [h:1]}]}]}"),
            "scrape config \"a\": scrape_timeout (2s) is greater than scrape_interval (1s)");
  EXPECT_EQ(invalid("config: {scrape_configs: [{job_name: a, static_configs: [{targets: [\"http://h:1\"]}]}]}"),
            "scrape config \"a\": target \"http://h:1\" is not host:port");
  EXPECT_EQ(invalid("config: {scrape_configs: [{job_name: a, basic_auth: {username: u},"
                    " authorization: {credentials: t}, static_configs: [{targets: [h:1]}]}]}"),
            "scrape config \"a\": basic_auth and authorization are mutually exclusive");
}

// Upstream's top-level options and Prometheus 3's scrape protocol options decode; jobs
// without targets are valid.
TEST(PrometheusConfigTest, UpstreamOptionsAndJobsWithoutTargets) {
  config::Errors errors;
  Config cfg = Decode(
      "trim_metric_suffixes: true\nuse_start_time_metric: true\nstart_time_metric_regex: foo_bar_.*\n"
      "report_extra_scrape_metrics: false\n"
      "config:\n  global: {scrape_protocols: [OpenMetricsText1.0.0, PrometheusText0.0.4]}\n"
      "  scrape_configs:\n    - job_name: none_yet\n      fallback_scrape_protocol: OpenMetricsText1.0.0\n"
      "    - job_name: b\n      scrape_protocols: [PrometheusText0.0.4]\n"
      "      fallback_scrape_protocol: PrometheusText0.0.4\n      static_configs: [{targets: []}]\n",
      &errors);
  ASSERT_TRUE(errors.empty()) << errors.Joined();
  ASSERT_TRUE(cfg.Validate().ok()) << cfg.Validate();
  ASSERT_EQ(cfg.scrape_configs.size(), 2u);
  const ScrapeConfig& a = cfg.scrape_configs[0];
  const ScrapeConfig& b = cfg.scrape_configs[1];
  EXPECT_TRUE(a.trim_metric_suffixes);
  EXPECT_TRUE(b.use_start_time_metric);
  EXPECT_EQ(b.start_time_metric_regex, "foo_bar_.*");
  EXPECT_EQ(a.fallback_format, Format::kOpenMetricsText);
  EXPECT_EQ(b.fallback_format, Format::kPrometheusText);
  EXPECT_EQ(AcceptOf(a.scrape_protocols),
            "application/openmetrics-text;version=1.0.0;q=0.6,text/plain;version=0.0.4;q=0.5,*/*;q=0.4");
  EXPECT_EQ(AcceptOf(b.scrape_protocols), "text/plain;version=0.0.4;q=0.6,*/*;q=0.5");
  EXPECT_EQ(AcceptOf({}), kScrapeAccept);
  // The defaults.
  Config d = Decode("config: {scrape_configs: [{job_name: x}]}\n", &errors);
  EXPECT_FALSE(d.scrape_configs[0].trim_metric_suffixes);
  EXPECT_FALSE(d.scrape_configs[0].use_start_time_metric);
  EXPECT_EQ(d.scrape_configs[0].fallback_format, std::nullopt);
  EXPECT_TRUE(d.scrape_configs[0].scrape_protocols.empty());
  EXPECT_TRUE(d.Validate().ok()) << d.Validate();
  Config bad =
      Decode("use_start_time_metric: true\nstart_time_metric_regex: \"(\"\nconfig: {scrape_configs: [{job_name: x}]}\n",
             &errors);
  EXPECT_EQ(bad.Validate().message(), "start_time_metric_regex: invalid regular expression: missing ): (");
}

// Every documented upstream option we lack is refused with what to do instead, never as
// an unknown key.
TEST(PrometheusConfigTest, UnsupportedUpstreamOptionsSayWhatToDoInstead) {
  auto error = [](const std::string& yaml) {
    config::Errors e;
    Decode(yaml, &e);
    return e.Joined();
  };
  auto has = [](const std::string& all, const std::string& part) { return all.find(part) != std::string::npos; };
  std::string e = error(
      "target_allocator: {endpoint: http://ta, interval: 30s, collector_id: c1}\n"
      "config: {scrape_configs: [{job_name: a}]}\n");
  EXPECT_TRUE(has(e, "target_allocator is not supported: there is no OpenTelemetry Operator target allocator")) << e;
  e = error(
      "api_server: {enabled: true, server_config: {endpoint: localhost:9090}}\n"
      "config: {scrape_configs: [{job_name: a}]}\n");
  EXPECT_TRUE(has(e, "api_server is not supported: there is no Prometheus API server")) << e;
  e = error("report_extra_scrape_metrics: true\nconfig: {scrape_configs: [{job_name: a}]}\n");
  EXPECT_TRUE(has(e, "report_extra_scrape_metrics")) << e;
  EXPECT_TRUE(has(e, "true is not supported")) << e;
  e = error("config: {scrape_configs: [{job_name: k8s, consul_sd_configs: [{server: consul:8500}]}]}\n");
  EXPECT_TRUE(has(e,
                  "consul_sd_configs is not supported: service discovery other than static_configs, "
                  "file_sd_configs, kubernetes_sd_configs and pod_annotations_sd_configs is not implemented; use "
                  "static_configs"))
      << e;
  e = error("config: {scrape_configs: [{job_name: k8s, kubernetes_sd_configs: [{role: endpointslice}]}]}\n");
  EXPECT_TRUE(has(e,
                  "role: endpointslice is not supported (pod, node, service and endpoints are); use role: "
                  "endpoints"))
      << e;
  e = error("config: {scrape_configs: [{job_name: f, http_sd_configs: [{url: http://sd}]}]}\n");
  EXPECT_TRUE(has(e, "http_sd_configs is not supported")) << e;
  e = error("config: {scrape_configs: [{job_name: a, scrape_protocols: [PrometheusProto]}]}\n");
  EXPECT_TRUE(has(e, "PrometheusProto (the protobuf exposition) is not supported")) << e;
  e = error("config: {scrape_configs: [{job_name: a, fallback_scrape_protocol: Nope}]}\n");
  EXPECT_TRUE(has(e, "unknown scrape protocol \"Nope\"")) << e;
  e = error("config: {remote_write: [{url: http://x}], scrape_configs: [{job_name: a}]}\n");
  EXPECT_TRUE(has(e, "remote_write is not supported: the receiver only scrapes")) << e;
  e = error(
      "config: {scrape_configs: [{job_name: a, oauth2: {client_id: x}, proxy_url: http://p,"
      " basic_auth: {username: u, password_file: /p}, scrape_native_histograms: true}]}\n");
  for (const char* k : {"oauth2 is not supported", "proxy_url is not supported", "password_file is not supported",
                        "scrape_native_histograms is not supported"}) {
    EXPECT_TRUE(has(e, k)) << k << ": " << e;
  }
  EXPECT_FALSE(has(e, "unknown")) << e;
}

// trim_metric_suffixes: a sum's `_total` and the OpenMetrics unit's suffix go, as
// upstream's TrimPromSuffixes; staleness markers use the trimmed names too.
TEST(PrometheusScrapeTest, TrimMetricSuffixes) {
  ScrapeConfig sc = Job("j");
  sc.trim_metric_suffixes = true;
  TargetState st(sc, "h:1", {});
  pdata::MetricsBuilder b(st.Resource(), kScopeName, "");
  ScrapeResult r = st.Process(std::string("# TYPE cpu_seconds counter\n# UNIT cpu_seconds seconds\n"
                                          "cpu_seconds_total 5\n# TYPE mem_bytes gauge\n# UNIT mem_bytes bytes\n"
                                          "mem_bytes 7\n# TYPE lat_seconds histogram\n# UNIT lat_seconds seconds\n"
                                          "lat_seconds_bucket{le=\"+Inf\"} 1\n# TYPE g_total gauge\ng_total 1\n"
                                          "# EOF\n"),
                              Format::kOpenMetricsText, kSec, 0.01, &b);
  ASSERT_TRUE(r.status.ok()) << r.status;
  auto pts = Flatten(b.Build());
  EXPECT_NE(Find(pts, "cpu"), nullptr);
  EXPECT_NE(Find(pts, "mem"), nullptr);
  EXPECT_NE(Find(pts, "lat"), nullptr);
  EXPECT_NE(Find(pts, "g_total"), nullptr);  // a gauge keeps _total
  EXPECT_EQ(Find(pts, "cpu_seconds_total"), nullptr);
  pts = Scrape(st, std::string("http_requests_total 3\n"), 2 * kSec);  // text: a counter without TYPE is untyped
  EXPECT_NE(Find(pts, "http_requests_total"), nullptr);
  const Pt* stale = Find(pts, "cpu");
  ASSERT_NE(stale, nullptr);
  EXPECT_TRUE(stale->stale);
  pts = Scrape(st, std::string("# TYPE http_requests_total counter\nhttp_requests_total 3\n"), 3 * kSec);
  EXPECT_NE(Find(pts, "http_requests"), nullptr);
}

// use_start_time_metric: process_start_time_seconds (or start_time_metric_regex) is the
// start time of every cumulative point; without it, the usual start times.
TEST(PrometheusScrapeTest, UseStartTimeMetric) {
  ScrapeConfig sc = Job("j");
  sc.use_start_time_metric = true;
  TargetState st(sc, "h:1", {});
  auto pts = Scrape(st,
                    std::string("# TYPE process_start_time_seconds gauge\nprocess_start_time_seconds 50.5\n"
                                "# TYPE c counter\nc 1\n# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1\n"
                                "# TYPE g gauge\ng 1\n"),
                    100 * kSec);
  EXPECT_EQ(Find(pts, "c")->start, 50500000000ull);
  EXPECT_EQ(Find(pts, "h")->start, 50500000000ull);
  pts = Scrape(st, std::string("# TYPE c counter\nc 2\n"), 200 * kSec);  // absent: the usual (first seen)
  EXPECT_EQ(Find(pts, "c")->start, 50500000000ull);                      // kept from the series' state
  ScrapeConfig sc2 = Job("j");
  sc2.use_start_time_metric = true;
  sc2.start_time_metric_regex = "^app_started$";
  TargetState st2(sc2, "h:1", {});
  pts = Scrape(st2, std::string("process_start_time_seconds 50\napp_started 70\n# TYPE c counter\nc 1\n"), 100 * kSec);
  EXPECT_EQ(Find(pts, "c")->start, 70 * kSec);
  ScrapeConfig sc3 = Job("j");
  TargetState st3(sc3, "h:1", {});  // off
  pts = Scrape(st3, std::string("process_start_time_seconds 50\n# TYPE c counter\nc 1\n"), 100 * kSec);
  EXPECT_EQ(Find(pts, "c")->start, 100 * kSec);
}

// Records what it consumes.
class Recorder : public Consumer {
 public:
  absl::Status ConsumeMetrics(pdata::Metrics&& d) override {
    std::lock_guard<std::mutex> l(mu_);
    for (auto& p : Flatten(d)) points_.push_back(p);
    cv_.notify_all();
    return absl::OkStatus();
  }
  bool WaitFor(const std::function<bool(const std::vector<Pt>&)>& pred) {
    std::unique_lock<std::mutex> l(mu_);
    return cv_.wait_for(l, std::chrono::seconds(10), [&] { return pred(points_); });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Pt> points_;
};

class PrometheusReceiverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = http::Server::Listen(host_.IoContext(), "127.0.0.1:0", 1 << 20, [this](http::Request& req) {
      std::lock_guard<std::mutex> l(mu_);
      last_request_ = req;
      http::Response r;
      r.status = status_;
      r.body = body_;
      return r;
    });
    ASSERT_TRUE(s.ok()) << s.status();
    server_ = std::move(*s);
  }
  void TearDown() override {
    if (receiver_) {
      ASSERT_TRUE(receiver_->Shutdown(absl::Now() + absl::Seconds(5)).ok());
    }
    server_->Stop();
  }
  void Serve(int status, const std::string& body) {
    std::lock_guard<std::mutex> l(mu_);
    status_ = status;
    body_ = body;
  }
  void Start(ScrapeConfig sc) {
    sc.scrape_interval = absl::Milliseconds(100);
    sc.static_configs = {{{StrCat("127.0.0.1:", server_->port())}, {{"team", "a"}}}};
    cfg_.scrape_configs = {sc};
    ASSERT_TRUE(cfg_.Validate().ok()) << cfg_.Validate();
    receiver_ =
        std::make_unique<PrometheusReceiver>(testutil::Settings(&telemetry_, "prometheus", Kind::kReceiver), cfg_);
    receiver_->SetConsumers({nullptr, &rec_, nullptr});
    ASSERT_TRUE(receiver_->Start(host_).ok());
  }
  double Meter(const char* name) { return telemetry_.Value(name, {{"receiver", "prometheus"}, {"transport", "http"}}); }
  // Waits for a point of `name` with value `v` (and the stale flag as given).
  bool WaitPoint(const std::string& name, double v, bool stale = false) {
    return rec_.WaitFor([&](const std::vector<Pt>& pts) {
      for (const auto& p : pts) {
        if (p.name == name && p.stale == stale && (stale || p.value == v)) return true;
      }
      return false;
    });
  }
  outrigger::Telemetry telemetry_;
  testutil::TestHost host_;
  std::unique_ptr<http::Server> server_;
  std::mutex mu_;
  int status_ = 200;
  std::string body_;
  http::Request last_request_;
  Config cfg_;
  Recorder rec_;
  std::unique_ptr<PrometheusReceiver> receiver_;
};

TEST_F(PrometheusReceiverTest, ScrapesThenGoesDownWithStaleness) {
  Serve(200, "# TYPE requests_total counter\nrequests_total{path=\"/\"} 5\nqueue_depth 3\n");
  ScrapeConfig sc;
  sc.job_name = "app";
  sc.metrics_path = "/custom";
  sc.params = {{"module", {"a b"}}};
  sc.authorization_credentials = "s3cret";
  Start(sc);
  ASSERT_TRUE(WaitPoint("requests_total", 5));
  ASSERT_TRUE(WaitPoint("up", 1));
  {
    std::lock_guard<std::mutex> l(mu_);
    EXPECT_EQ(last_request_.target, "/custom?module=a%20b");
    EXPECT_EQ(last_request_.Header("authorization"), "Bearer s3cret");
    EXPECT_NE(last_request_.Header("accept").find("text/plain;version=0.0.4"), std::string::npos);
    EXPECT_NE(last_request_.Header("x-prometheus-scrape-timeout-seconds"), "");
  }
  // Counted after the pipeline accepted them: wait (the next scrape wakes the wait up).
  EXPECT_TRUE(rec_.WaitFor(
      [&](const std::vector<Pt>&) { return Meter("outrigger_receiver_accepted_metric_points_total") >= 6; }));
  Serve(500, "oops");
  ASSERT_TRUE(WaitPoint("up", 0));
  ASSERT_TRUE(WaitPoint("requests_total", 0, /*stale=*/true));
  ASSERT_TRUE(WaitPoint("queue_depth", 0, /*stale=*/true));
  EXPECT_EQ(Meter("outrigger_receiver_malformed_requests_total"), 0);
  // Garbage: counted as malformed.
  Serve(200, "this is not { an exposition\n");
  ASSERT_TRUE(
      rec_.WaitFor([&](const std::vector<Pt>&) { return Meter("outrigger_receiver_malformed_requests_total") >= 1; }));
  EXPECT_GE(receiver_->scrapes(), 2);  // the third may still be finishing
}

TEST_F(PrometheusReceiverTest, LimitsFailTheScrapeAndAreCounted) {
  std::string big;
  for (int i = 0; i < 100; ++i) big += StrCat("m", i, " 1\n");
  Serve(200, big);
  ScrapeConfig sc;
  sc.job_name = "app";
  sc.sample_limit = 50;
  sc.body_size_limit = 100000;
  Start(sc);
  ASSERT_TRUE(WaitPoint("up", 0));
  auto failures = [&](const char* limit) {
    return telemetry_.Value("outrigger_receiver_prometheus_scrape_limit_failures_total",
                            {{"receiver", "prometheus"}, {"job", "app"}, {"limit", limit}});
  };
  EXPECT_TRUE(rec_.WaitFor([&](const std::vector<Pt>&) { return failures("sample_limit") >= 1; }));
  // An answer larger than body_size_limit.
  Serve(200, std::string(200000, '#'));
  EXPECT_TRUE(rec_.WaitFor([&](const std::vector<Pt>&) { return failures("body_size_limit") >= 1; }));
  Serve(200, "m 1\n");
  ASSERT_TRUE(WaitPoint("up", 1));
}

// An admission control that is open or closed (a memory_limiter below or above its limit).
class Gate : public AdmissionControl {
 public:
  absl::Status Reserve(uint64_t) override {
    return open ? absl::OkStatus() : absl::ResourceExhaustedError("above the memory limit");
  }
  void Release(uint64_t) override {}
  std::atomic<bool> open{false};
};

// Above the memory limit scrapes are skipped (counted; the target is not even asked),
// and made again once admission is given.
TEST_F(PrometheusReceiverTest, AboveTheMemoryLimitScrapesAreSkippedAndCounted) {
  Serve(200, "m 1\n");
  Gate gate;
  Admission admission;
  admission.Add(&gate);
  ScrapeConfig sc;
  sc.job_name = "app";
  sc.scrape_interval = absl::Milliseconds(100);
  sc.static_configs = {{{StrCat("127.0.0.1:", server_->port())}, {}}};
  cfg_.scrape_configs = {sc};
  receiver_ =
      std::make_unique<PrometheusReceiver>(testutil::Settings(&telemetry_, "prometheus", Kind::kReceiver), cfg_);
  receiver_->SetConsumers({nullptr, &rec_, nullptr});
  receiver_->SetAdmission(admission);
  ASSERT_TRUE(receiver_->Start(host_).ok());
  auto skipped = [&] {
    return telemetry_.Value("outrigger_receiver_prometheus_scrapes_skipped_total",
                            {{"receiver", "prometheus"}, {"job", "app"}, {"reason", "memory_limit"}});
  };
  ASSERT_TRUE(testutil::WaitFor([&] { return skipped() >= 2; }));
  {
    std::lock_guard<std::mutex> l(mu_);
    EXPECT_EQ(last_request_.target, "");  // the target was never asked
  }
  gate.open = true;
  ASSERT_TRUE(WaitPoint("m", 1));
  // Before `gate` goes: the scrape thread asks it until the receiver stops.
  ASSERT_TRUE(receiver_->Shutdown(absl::Now() + absl::Seconds(5)).ok());
  receiver_.reset();
}

TEST_F(PrometheusReceiverTest, BasicAuthAndUnreachableTarget) {
  Serve(200, "x 1\n");
  ScrapeConfig sc;
  sc.job_name = "auth";
  sc.basic_auth_username = "user";
  sc.basic_auth_password = "pa$$";
  Start(sc);
  ASSERT_TRUE(WaitPoint("x", 1));
  {
    std::lock_guard<std::mutex> l(mu_);
    EXPECT_EQ(last_request_.Header("authorization"), "Basic dXNlcjpwYSQk");
  }
  server_->Stop();
  ASSERT_TRUE(WaitPoint("up", 0));
  ASSERT_TRUE(WaitPoint("x", 0, /*stale=*/true));
}

// ---- relabel_configs, metric_relabel_configs, pod_annotations_sd_configs ----

std::vector<RelabelConfig> Rules(const std::string& yaml) {
  config::Errors errors;
  Config cfg =
      Decode(StrCat("config:\n  scrape_configs:\n    - job_name: r\n      static_configs: [{targets: [\"h:1\"]}]\n"
                    "      metric_relabel_configs: ",
                    yaml, "\n"),
             &errors);
  EXPECT_TRUE(errors.empty()) << errors.Joined();
  return cfg.scrape_configs.empty() ? std::vector<RelabelConfig>{} : cfg.scrape_configs[0].metric_relabel_configs;
}

// "$$" escaping as in the OpenTelemetry Collector, through the real loader: "$$1" and
// "$1" reach the relabel engine as "$1", "$${1}" as "${1}"; "${1}" is a loader error.
TEST(PrometheusConfigTest, DollarEscapingThroughTheRealLoader) {
  config::Errors errors;
  YAML::Node root = config::LoadAndMerge({{"c.yaml", R"y(
receivers:
  prometheus:
    config:
      scrape_configs:
        - job_name: a
          static_configs: [{targets: ["h:9100"]}]
          relabel_configs:
            - source_labels: [__address__]
              regex: "(.*):(.*)"
              target_label: host
              replacement: $$1
            - source_labels: [__address__]
              regex: "(.*):(.*)"
              target_label: port
              replacement: $2
            - source_labels: [__address__]
              regex: "(?P<h>.*):(.*)"
              target_label: both
              replacement: "$${h}-$${2}"
)y"}},
                                         &errors);
  ASSERT_TRUE(errors.empty()) << errors.Joined();
  config::Node node(root["receivers"]["prometheus"], "receivers.prometheus", &errors);
  Config cfg;
  cfg.Decode(node);
  node.Finish();
  ASSERT_TRUE(errors.empty()) << errors.Joined();
  ASSERT_TRUE(cfg.Validate().ok()) << cfg.Validate();
  const auto& rc = cfg.scrape_configs[0].relabel_configs;
  ASSERT_EQ(rc.size(), 3u);
  EXPECT_EQ(rc[0].replacement, "$1");
  EXPECT_EQ(rc[1].replacement, "$2");
  EXPECT_EQ(rc[2].replacement, "${h}-${2}");
  auto t = PopulateTarget(cfg.scrape_configs[0], absl::Seconds(10), absl::Seconds(5), {{"__address__", "h:9100"}});
  ASSERT_TRUE(t.ok() && t->has_value()) << t.status();
  EXPECT_EQ((*t)->labels.at("host"), "h");
  EXPECT_EQ((*t)->labels.at("port"), "9100");
  EXPECT_EQ((*t)->labels.at("both"), "h-9100");

  config::Errors bad;
  config::LoadAndMerge({{"c.yaml", "receivers:\n  prometheus:\n    config:\n      replacement: ${1}\n"}}, &bad);
  ASSERT_EQ(bad.list().size(), 1u);
  EXPECT_NE(bad.list()[0].find("receivers.prometheus.config.replacement (line 4)"), std::string::npos) << bad.Joined();
  EXPECT_NE(bad.list()[0].find("write \"$$\", e.g. \"$${1}\""), std::string::npos) << bad.Joined();
}

TEST(PrometheusConfigTest, RelabelAndDiscoveryOptions) {
  config::Errors errors;
  Config cfg = Decode(R"y(
config:
  scrape_configs:
    - job_name: pod
      pod_annotations_sd_configs: [{file: /etc/podinfo/annotations, refresh_interval: 30s}, {}]
      relabel_configs: [{source_labels: [__address__], regex: "(.*):80", action: drop}]
      metric_relabel_configs: [{regex: secret, action: labeldrop}]
)y",
                      &errors);
  ASSERT_TRUE(errors.empty()) << errors.Joined();
  ASSERT_TRUE(cfg.Validate().ok()) << cfg.Validate();
  const ScrapeConfig& s = cfg.scrape_configs[0];
  ASSERT_EQ(s.pod_annotations_sd_configs.size(), 2u);
  EXPECT_EQ(s.pod_annotations_sd_configs[0].refresh_interval, absl::Seconds(30));
  EXPECT_EQ(s.pod_annotations_sd_configs[1].file, kDefaultAnnotationsFile);
  EXPECT_EQ(s.relabel_configs[0].action, RelabelAction::kDrop);
  EXPECT_EQ(s.metric_relabel_configs[0].action, RelabelAction::kLabelDrop);

  // Errors of a rule have the path and line of the key.
  Decode(
      "config:\n  scrape_configs:\n    - job_name: a\n      static_configs: [{targets: [\"h:1\"]}]\n"
      "      metric_relabel_configs:\n        - action: hashmod\n          target_label: x\n",
      &errors);
  ASSERT_EQ(errors.list().size(), 1u) << errors.Joined();
  EXPECT_EQ(errors.list()[0],
            "receivers.prometheus.config.scrape_configs[0].metric_relabel_configs[0].modulus (line 6): the hashmod "
            "action requires a non-zero modulus");
  // A rule built in code is checked by Validate.
  Config code;
  ScrapeConfig sc = Job("j");
  RelabelConfig r;
  r.regex = "(";
  sc.relabel_configs = {r};
  code.scrape_configs = {sc};
  EXPECT_NE(code.Validate().message().find("scrape config \"j\": relabel_configs[0].regex: invalid regular expression"),
            absl::string_view::npos)
      << code.Validate();
}

TEST(PrometheusScrapeTest, MetricRelabelingBeforeConversion) {
  ScrapeConfig sc = Job("node");
  sc.sample_limit = 6;  // 7 samples exposed, 6 after relabeling
  sc.metric_relabel_configs = Rules(R"y(
        - {source_labels: [__name__], regex: "go_.*", action: drop}
        - {source_labels: [__name__], regex: "http_(.*)", target_label: __name__, replacement: "web_$1"}
        - {regex: secret, action: labeldrop}
        - {source_labels: [job, env], separator: "/", target_label: origin})y");
  TargetState st(sc, "127.0.0.1:9100", {{"env", "prod"}});
  ScrapeResult r;
  auto pts = Scrape(st,
                    std::string("# TYPE go_goroutines gauge\n"
                                "go_goroutines 5\n"
                                "# TYPE http_requests_total counter\n"
                                "http_requests_total{code=\"200\",secret=\"x\"} 10\n"
                                "# TYPE http_latency_seconds histogram\n"
                                "http_latency_seconds_bucket{le=\"0.1\"} 1\n"
                                "http_latency_seconds_bucket{le=\"+Inf\"} 3\n"
                                "http_latency_seconds_sum 0.5\n"
                                "http_latency_seconds_count 3\n"
                                "temp{env=\"scraped\"} 20\n"),
                    100 * kSec, &r);
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_EQ(r.samples, 7u);  // scrape_samples_scraped: before relabeling
  EXPECT_EQ(Find(pts, "go_goroutines"), nullptr);
  EXPECT_EQ(Find(pts, "http_requests_total"), nullptr);
  const Pt* req = Find(pts, "web_requests_total");
  ASSERT_NE(req, nullptr);
  EXPECT_EQ(req->kind, "sum");
  EXPECT_EQ(req->attrs,
            (std::map<std::string, std::string>{{"code", "200"}, {"env", "prod"}, {"origin", "node/prod"}}));
  const Pt* h = Find(pts, "web_latency_seconds");
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(h->kind, "histogram");
  EXPECT_EQ(h->count, 3u);
  EXPECT_EQ(h->bounds, std::vector<double>{0.1});
  EXPECT_EQ(h->attrs, (std::map<std::string, std::string>{{"env", "prod"}, {"origin", "node/prod"}}));
  const Pt* temp = Find(pts, "temp");
  ASSERT_NE(temp, nullptr);
  EXPECT_EQ(temp->attrs, (std::map<std::string, std::string>{
                             {"env", "prod"}, {"exported_env", "scraped"}, {"origin", "node/prod"}}));
  EXPECT_EQ(temp->resource.at("service.name"), "node");
  // Synthetic gauges are not relabeled.
  EXPECT_EQ(Find(pts, "up")->attrs, (std::map<std::string, std::string>{{"env", "prod"}}));

  // A job that relabeling changes stays a point attribute; the resource is the target's.
  ScrapeConfig sc2 = Job("node");
  sc2.metric_relabel_configs = Rules("[{target_label: job, replacement: other}]");
  TargetState st2(sc2, "127.0.0.1:9100", {});
  pts = Scrape(st2, std::string("m 1\n"), 100 * kSec);
  EXPECT_EQ(Find(pts, "m")->attrs, (std::map<std::string, std::string>{{"job", "other"}}));
  EXPECT_EQ(Find(pts, "m")->resource.at("service.name"), "node");
}

TEST_F(PrometheusReceiverTest, RelabelConfigsSelectAndRewriteTargets) {
  Serve(200, "x 1\n");
  ScrapeConfig sc;
  sc.job_name = "rl";
  sc.scrape_interval = absl::Milliseconds(100);
  sc.static_configs = {{{StrCat("127.0.0.1:", server_->port()), "127.0.0.1:1"}, {{"team", "a"}}}};
  config::Errors errors;
  Config parsed = Decode(R"y(
config:
  scrape_configs:
    - job_name: rl
      static_configs: [{targets: ["h:1"]}]
      relabel_configs:
        - {source_labels: [__address__], regex: ".*:1", action: drop}
        - {target_label: __metrics_path__, replacement: /rewritten}
        - {target_label: __param_x, replacement: y}
        - {source_labels: [team], target_label: team, replacement: "${1}-b"}
)y",
                         &errors);
  ASSERT_TRUE(errors.empty()) << errors.Joined();
  sc.relabel_configs = parsed.scrape_configs[0].relabel_configs;
  cfg_.scrape_configs = {sc};
  ASSERT_TRUE(cfg_.Validate().ok()) << cfg_.Validate();
  receiver_ =
      std::make_unique<PrometheusReceiver>(testutil::Settings(&telemetry_, "prometheus", Kind::kReceiver), cfg_);
  receiver_->SetConsumers({nullptr, &rec_, nullptr});
  ASSERT_TRUE(receiver_->Start(host_).ok());
  ASSERT_TRUE(rec_.WaitFor([](const std::vector<Pt>& pts) {
    const Pt* p = Find(pts, "x");
    return p != nullptr && p->attrs.count("team") && p->attrs.at("team") == "a-b";
  }));
  {
    std::lock_guard<std::mutex> l(mu_);
    EXPECT_EQ(last_request_.target, "/rewritten?x=y");
  }
  EXPECT_EQ(receiver_->target_urls(),
            std::vector<std::string>{StrCat("http://127.0.0.1:", server_->port(), "/rewritten?x=y")});
}

// The kubelet's Downward API volume layout (see discovery_test.cc): a new directory,
// then an atomic rename of the `..data` symlink.
class PodInfoVolume {
 public:
  PodInfoVolume() {
    char tmpl[] = "/tmp/outrigger-podinfo-XXXXXX";
    dir_ = mkdtemp(tmpl);
  }
  ~PodInfoVolume() { std::filesystem::remove_all(dir_); }
  std::string file() const { return dir_ + "/annotations"; }
  void Write(const std::string& content) {
    namespace fs = std::filesystem;
    const std::string ts = StrCat("..2024_01_01_00_00_00.", ++version_);
    fs::create_directory(dir_ + "/" + ts);
    std::ofstream(dir_ + "/" + ts + "/annotations") << content;
    fs::create_directory_symlink(ts, dir_ + "/..data_tmp");
    fs::rename(dir_ + "/..data_tmp", dir_ + "/..data");
    if (version_ == 1) fs::create_symlink("..data/annotations", file());
    if (!old_.empty()) fs::remove_all(dir_ + "/" + old_);
    old_ = ts;
  }

 private:
  std::string dir_, old_;
  int version_ = 0;
};

TEST_F(PrometheusReceiverTest, PodAnnotationsDiscoveryFollowsTheFile) {
  Serve(200, "a_metric 1\n");
  auto b_server = http::Server::Listen(host_.IoContext(), "127.0.0.1:0", 1 << 20, [](http::Request&) {
    http::Response r;
    r.status = 200;
    r.body = "b_metric 2\n";
    return r;
  });
  ASSERT_TRUE(b_server.ok()) << b_server.status();
  PodInfoVolume vol;
  auto annotations = [](uint16_t port, const char* scrape) {
    return StrCat("prometheus.io/path=\"/custom\"\nprometheus.io/port=\"", port, "\"\nprometheus.io/scrape=\"", scrape,
                  "\"\nteam=\"checkout\"\n");
  };
  vol.Write(annotations(server_->port(), "true"));
  ScrapeConfig sc;
  sc.job_name = "pod";
  sc.scrape_interval = absl::Milliseconds(100);
  sc.pod_annotations_sd_configs = {{vol.file(), absl::ZeroDuration()}};
  RelabelConfig team;  // an annotation as a target label, as with kubernetes_sd
  team.action = RelabelAction::kLabelMap;
  team.regex = "__meta_kubernetes_pod_annotation_(team)";
  sc.relabel_configs = {team};
  cfg_.scrape_configs = {sc};
  ASSERT_TRUE(cfg_.Validate().ok()) << cfg_.Validate();
  receiver_ =
      std::make_unique<PrometheusReceiver>(testutil::Settings(&telemetry_, "prometheus", Kind::kReceiver), cfg_);
  receiver_->SetConsumers({nullptr, &rec_, nullptr});
  ASSERT_TRUE(receiver_->Start(host_).ok());

  const std::string a_instance = StrCat("127.0.0.1:", server_->port());
  ASSERT_TRUE(rec_.WaitFor([&](const std::vector<Pt>& pts) {
    const Pt* p = Find(pts, "a_metric", {{"team", "checkout"}});
    return p != nullptr && !p->stale && p->resource.at("service.instance.id") == a_instance;
  }));
  {
    std::lock_guard<std::mutex> l(mu_);
    EXPECT_EQ(last_request_.target, "/custom");
  }
  // The port changes: the new target is scraped, the old one's series end.
  vol.Write(annotations((*b_server)->port(), "true"));
  ASSERT_TRUE(WaitPoint("b_metric", 2));
  ASSERT_TRUE(WaitPoint("a_metric", 0, /*stale=*/true));
  // Malformed: logged and counted, the last good target is still scraped.
  vol.Write("prometheus.io/port=\"1\"\nprometheus.io/scrape=true\n");
  auto discovery_errors = [&] {
    return telemetry_.Value("outrigger_receiver_malformed_requests_total",
                            {{"receiver", "prometheus"}, {"transport", "discovery"}});
  };
  ASSERT_TRUE(rec_.WaitFor([&](const std::vector<Pt>&) { return discovery_errors() >= 1; }));
  size_t seen = 0;
  rec_.WaitFor([&](const std::vector<Pt>& pts) {
    for (const auto& p : pts) seen += p.name == "b_metric" && !p.stale;
    return true;
  });
  ASSERT_TRUE(rec_.WaitFor([&](const std::vector<Pt>& pts) {
    size_t n = 0;
    for (const auto& p : pts) n += p.name == "b_metric" && !p.stale;
    return n > seen;
  }));
  EXPECT_EQ(receiver_->target_urls(),
            std::vector<std::string>{StrCat("http://127.0.0.1:", (*b_server)->port(), "/custom")});
  // prometheus.io/scrape "false": no target any more.
  vol.Write(annotations((*b_server)->port(), "false"));
  ASSERT_TRUE(WaitPoint("b_metric", 0, /*stale=*/true));
  EXPECT_TRUE(receiver_->target_urls().empty());
  EXPECT_EQ(discovery_errors(), 1);
  (*b_server)->Stop();
}

// ---- OpenMetrics (negotiated by Content-Type) ----

// What the flattened points leave out: units and exemplars, by metric name.
// # HELP arrives as the OTLP description through the running receiver (HTTP scrape,
// conversion, pipeline).
TEST_F(PrometheusReceiverTest, HelpArrivesAsTheMetricDescription) {
  Serve(200, "# HELP requests_total Requests served.\n# TYPE requests_total counter\nrequests_total 5\n");
  ScrapeConfig sc;
  sc.job_name = "app";
  Start(sc);
  ASSERT_TRUE(rec_.WaitFor([](const std::vector<Pt>& pts) {
    const Pt* p = Find(pts, "requests_total");
    return p != nullptr && p->description == "Requests served.";
  }));
}

// A job without targets is accepted and scrapes nothing; the other jobs run.
TEST_F(PrometheusReceiverTest, AJobWithoutTargetsIsAccepted) {
  Serve(200, "a 1\n");
  ScrapeConfig empty;
  empty.job_name = "later";
  cfg_.scrape_configs = {empty};
  ScrapeConfig sc;
  sc.job_name = "app";
  sc.scrape_protocols = {"PrometheusText0.0.4"};
  sc.scrape_interval = absl::Milliseconds(100);
  sc.static_configs = {{{StrCat("127.0.0.1:", server_->port())}, {}}};
  cfg_.scrape_configs.push_back(sc);
  ASSERT_TRUE(cfg_.Validate().ok()) << cfg_.Validate();
  receiver_ =
      std::make_unique<PrometheusReceiver>(testutil::Settings(&telemetry_, "prometheus", Kind::kReceiver), cfg_);
  receiver_->SetConsumers({nullptr, &rec_, nullptr});
  ASSERT_TRUE(receiver_->Start(host_).ok());
  ASSERT_TRUE(WaitPoint("a", 1));
  std::lock_guard<std::mutex> l(mu_);
  EXPECT_EQ(last_request_.Header("accept"), "text/plain;version=0.0.4;q=0.6,*/*;q=0.5");
}

// scrape_on_shutdown: a last scrape at shutdown; initial_scrape_offset: the first scrape
// waits (an hour here, so the only scrape is the one at shutdown).
TEST_F(PrometheusReceiverTest, ScrapeOnShutdownAfterAnInitialOffset) {
  Serve(200, "late 7\n");
  cfg_.scrape_on_shutdown = true;
  cfg_.initial_scrape_offset = absl::Hours(1);
  ScrapeConfig sc;
  sc.job_name = "app";
  sc.scrape_interval = absl::Hours(2);
  sc.static_configs = {{{StrCat("127.0.0.1:", server_->port())}, {}}};
  cfg_.scrape_configs = {sc};
  ASSERT_TRUE(cfg_.Validate().ok()) << cfg_.Validate();
  receiver_ =
      std::make_unique<PrometheusReceiver>(testutil::Settings(&telemetry_, "prometheus", Kind::kReceiver), cfg_);
  receiver_->SetConsumers({nullptr, &rec_, nullptr});
  ASSERT_TRUE(receiver_->Start(host_).ok());
  EXPECT_EQ(receiver_->scrapes(), 0);
  ASSERT_TRUE(receiver_->Shutdown(absl::Now() + absl::Seconds(5)).ok());
  EXPECT_EQ(receiver_->scrapes(), 1);
  EXPECT_TRUE(WaitPoint("late", 7));
  receiver_.reset();
}

// Upstream's scrape options decode (scrape_on_shutdown, initial_scrape_offset,
// discovery_reload_on_startup); protobuf negotiation and the UI server are refused.
TEST(PrometheusConfigTest, UpstreamScrapeOptions) {
  config::Errors errors;
  Config cfg = Decode(
      "scrape_on_shutdown: true\ninitial_scrape_offset: 10s\ndiscovery_reload_on_startup: true\n"
      "enable_protobuf_negotiation: false\nconfig: {scrape_configs: [{job_name: demo, scrape_interval: 5s}]}\n",
      &errors);
  ASSERT_TRUE(errors.empty()) << errors.Joined();
  EXPECT_TRUE(cfg.scrape_on_shutdown);
  EXPECT_EQ(cfg.initial_scrape_offset, absl::Seconds(10));
  EXPECT_TRUE(cfg.discovery_reload_on_startup);
  Config d = Decode("config: {scrape_configs: [{job_name: demo}]}\n", &errors);
  EXPECT_FALSE(d.scrape_on_shutdown);
  EXPECT_EQ(d.initial_scrape_offset, absl::ZeroDuration());
  Decode(
      "enable_protobuf_negotiation: true\nenable_prometheus_ui_server: true\n"
      "config: {scrape_configs: [{job_name: demo}]}\n",
      &errors);
  EXPECT_NE(errors.Joined().find("enable_protobuf_negotiation"), std::string::npos) << errors.Joined();
  EXPECT_NE(errors.Joined().find("enable_prometheus_ui_server"), std::string::npos) << errors.Joined();
}

// file_sd_configs: targets from a JSON file, with __meta_filepath for relabeling; a
// change of the file moves the scrape.
TEST_F(PrometheusReceiverTest, FileSdTargets) {
  Serve(200, "from_file 3\n");
  char tmpl[] = "/tmp/outrigger-filesd-XXXXXX";
  const std::string dir = mkdtemp(tmpl);
  std::ofstream(dir + "/targets.json") << StrCat(R"([{"targets": ["127.0.0.1:)", server_->port(),
                                                 R"("], "labels": {"team": "a"}}])");
  ScrapeConfig sc;
  sc.job_name = "files";
  sc.scrape_interval = absl::Milliseconds(100);
  sc.file_sd_configs = {{{dir + "/*.json"}, absl::Milliseconds(100)}};
  RelabelConfig path;
  path.source_labels = {"__meta_filepath"};
  path.regex = ".*/(.*)";
  path.target_label = "file";
  sc.relabel_configs = {path};
  cfg_.scrape_configs = {sc};
  ASSERT_TRUE(cfg_.Validate().ok()) << cfg_.Validate();
  receiver_ =
      std::make_unique<PrometheusReceiver>(testutil::Settings(&telemetry_, "prometheus", Kind::kReceiver), cfg_);
  receiver_->SetConsumers({nullptr, &rec_, nullptr});
  ASSERT_TRUE(receiver_->Start(host_).ok());
  ASSERT_TRUE(rec_.WaitFor([&](const std::vector<Pt>& pts) {
    const Pt* p = Find(pts, "from_file", {{"team", "a"}, {"file", "targets.json"}});
    return p != nullptr && !p->stale && p->value == 3;
  }));
  std::ofstream(dir + "/targets.json") << "[]";  // the target is gone: its series end
  ASSERT_TRUE(WaitPoint("from_file", 0, /*stale=*/true));
  std::filesystem::remove_all(dir);
}

// file_sd_configs decode as Prometheus has them; paths must name JSON or YAML files.
TEST(PrometheusConfigTest, FileSdConfigs) {
  config::Errors errors;
  Config cfg = Decode(
      "config: {scrape_configs: [{job_name: f, file_sd_configs: [{files: [targets/*.json, t.yml]},"
      " {files: [/etc/x.yaml], refresh_interval: 30s}]}]}\n",
      &errors);
  ASSERT_TRUE(errors.empty()) << errors.Joined();
  ASSERT_TRUE(cfg.Validate().ok()) << cfg.Validate();
  const auto& fs = cfg.scrape_configs[0].file_sd_configs;
  ASSERT_EQ(fs.size(), 2u);
  EXPECT_EQ(fs[0].files, (std::vector<std::string>{"targets/*.json", "t.yml"}));
  EXPECT_EQ(fs[0].refresh_interval, absl::Minutes(5));  // Prometheus's default
  EXPECT_EQ(fs[1].refresh_interval, absl::Seconds(30));
  Decode(
      "config: {scrape_configs: [{job_name: f, file_sd_configs: [{files: [t.txt]}, {files: [\"*/t.json\"]},"
      " {files: []}]}]}\n",
      &errors);
  const std::string e = errors.Joined();
  EXPECT_NE(e.find("\"t.txt\" must end in .json, .yml or .yaml"), std::string::npos) << e;
  EXPECT_NE(e.find("a pattern only in the last path element"), std::string::npos) << e;
  EXPECT_NE(e.find("at least one file is needed"), std::string::npos) << e;
}

struct OmExtras {
  std::map<std::string, std::string> units;
  std::map<std::string, std::vector<mpb::Exemplar>> exemplars;
};

OmExtras ExtrasOf(const pdata::Metrics& d) {
  OmExtras out;
  d.ForEachRequest([&](const Req& req) {
    for (const auto& rm : req.resource_metrics()) {
      for (const auto& sm : rm.scope_metrics()) {
        for (const auto& m : sm.metrics()) {
          out.units[m.name()] = m.unit();
          auto add = [&](const auto& points) {
            for (const auto& p : points) {
              for (const auto& e : p.exemplars()) out.exemplars[m.name()].push_back(e);
            }
          };
          if (m.has_sum()) add(m.sum().data_points());
          if (m.has_histogram()) add(m.histogram().data_points());
        }
      }
    }
  });
  return out;
}

std::map<std::string, std::string> FilteredAttrs(const mpb::Exemplar& e) {
  std::map<std::string, std::string> m;
  for (const auto& kv : e.filtered_attributes()) m[kv.key()] = kv.value().string_value();
  return m;
}

constexpr char kTraceHex[] = "0af7651916cd43dd8448eb211c80319c";
constexpr char kSpanHex[] = "b7ad6b7169203331";
const std::string kTraceBytes("\x0a\xf7\x65\x19\x16\xcd\x43\xdd\x84\x48\xeb\x21\x1c\x80\x31\x9c", 16);
const std::string kSpanBytes("\xb7\xad\x6b\x71\x69\x20\x33\x31", 8);

std::string OmBody(const std::string& reqs_created) {
  return StrCat(
      "# TYPE reqs counter\n"
      "# HELP reqs Requests.\n"
      "reqs_total{code=\"200\"} 17 # {trace_id=\"",
      kTraceHex, "\",span_id=\"", kSpanHex,
      "\",user=\"u1\"} 1 1700000000.5\n"
      "reqs_created{code=\"200\"} ",
      reqs_created, "\n",
      "reqs_total{code=\"500\"} 3\n"
      "# TYPE lat_seconds histogram\n"
      "# UNIT lat_seconds seconds\n"
      "lat_seconds_bucket{le=\"0.1\"} 1 # {trace_id=\"not-hex\"} 0.05\n"
      "lat_seconds_bucket{le=\"+Inf\"} 4 # {span_id=\"",
      kSpanHex,
      "\"} 2.5\n"
      "lat_seconds_count 4\n"
      "lat_seconds_sum 3\n"
      "lat_seconds_created 1600000001\n"
      "# TYPE rpc summary\n"
      "rpc_count 2\n"
      "rpc_sum 1\n"
      "rpc_created 1600000002\n"
      "# TYPE build info\n"
      "build_info{version=\"1.2\"} 1\n"
      "# TYPE st stateset\n"
      "st{st=\"on\"} 1\n"
      "st{st=\"off\"} 0\n"
      "# TYPE q gaugehistogram\n"
      "q_bucket{le=\"+Inf\"} 3\n"
      "q_gcount 3\n"
      "q_gsum 2\n"
      "# TYPE mem_bytes gauge\n"
      "# UNIT mem_bytes bytes\n"
      "mem_bytes 100 1700000000.123\n"
      "# EOF\n");
}

TEST(OpenMetricsScrapeTest, CreatedUnitsExemplarsInfoStateSetGaugeHistogram) {
  ScrapeConfig sc = Job("j");
  TargetState st(sc, "h:1", {});
  pdata::MetricsBuilder b(st.Resource(), kScopeName, "");
  ScrapeResult r = st.Process(OmBody("1600000000.25"), Format::kOpenMetricsText, 100 * kSec, 0.01, &b);
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_EQ(r.samples, 18u);  // `_created` samples count, as in Prometheus
  EXPECT_EQ(r.dropped, 3u);   // the gaugehistogram
  pdata::Metrics d = b.Build();
  auto pts = Flatten(d);
  OmExtras x = ExtrasOf(d);

  // Counters: names kept (`_total`), start time from `_created`, else first seen.
  const Pt* c = Find(pts, "reqs_total", {{"code", "200"}});
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->kind, "sum");
  EXPECT_TRUE(c->monotonic);
  EXPECT_EQ(c->start, 1600000000250000000ull);
  EXPECT_EQ(c->time, 100 * kSec);
  EXPECT_EQ(Find(pts, "reqs_total", {{"code", "500"}})->start, 100 * kSec);
  EXPECT_EQ(Find(pts, "reqs_created"), nullptr);
  EXPECT_EQ(x.units["reqs_total"], "");
  ASSERT_EQ(x.exemplars["reqs_total"].size(), 1u);
  const mpb::Exemplar& e = x.exemplars["reqs_total"][0];
  EXPECT_EQ(e.as_double(), 1);
  EXPECT_EQ(e.time_unix_nano(), 1700000000500000000ull);
  EXPECT_EQ(e.trace_id(), kTraceBytes);
  EXPECT_EQ(e.span_id(), kSpanBytes);
  EXPECT_EQ(FilteredAttrs(e), (std::map<std::string, std::string>{{"user", "u1"}}));

  // Histogram: unit, start from `_created`, bucket exemplars.
  const Pt* h = Find(pts, "lat_seconds");
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(h->kind, "histogram");
  EXPECT_EQ(h->start, 1600000001 * kSec);
  EXPECT_EQ(h->count, 4u);
  EXPECT_EQ(h->buckets, (std::vector<uint64_t>{1, 3}));
  EXPECT_EQ(x.units["lat_seconds"], "s");
  ASSERT_EQ(x.exemplars["lat_seconds"].size(), 2u);
  const mpb::Exemplar& e0 = x.exemplars["lat_seconds"][0];
  EXPECT_EQ(e0.as_double(), 0.05);
  EXPECT_EQ(e0.time_unix_nano(), 100 * kSec);  // no timestamp: the point's
  EXPECT_EQ(e0.trace_id(), "");                // not 32 hex digits: kept as an attribute
  EXPECT_EQ(FilteredAttrs(e0), (std::map<std::string, std::string>{{"trace_id", "not-hex"}}));
  EXPECT_EQ(x.exemplars["lat_seconds"][1].span_id(), kSpanBytes);

  // Summary start time; info and stateset as non-monotonic sums; gaugehistogram dropped.
  EXPECT_EQ(Find(pts, "rpc")->start, 1600000002 * kSec);
  const Pt* info = Find(pts, "build_info");
  ASSERT_NE(info, nullptr);
  EXPECT_EQ(info->kind, "sum");
  EXPECT_FALSE(info->monotonic);
  EXPECT_EQ(info->value, 1);
  EXPECT_EQ(info->attrs, (std::map<std::string, std::string>{{"version", "1.2"}}));
  const Pt* on = Find(pts, "st", {{"st", "on"}});
  const Pt* off = Find(pts, "st", {{"st", "off"}});
  ASSERT_NE(on, nullptr);
  ASSERT_NE(off, nullptr);
  EXPECT_EQ(on->kind, "sum");
  EXPECT_FALSE(on->monotonic);
  EXPECT_EQ(on->value, 1);
  EXPECT_EQ(off->value, 0);
  EXPECT_EQ(Find(pts, "q"), nullptr);
  EXPECT_EQ(Find(pts, "q_bucket"), nullptr);
  // Gauge: unit, and the timestamp in seconds.
  const Pt* g = Find(pts, "mem_bytes");
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(g->time, 1700000000123000000ull);
  EXPECT_EQ(x.units["mem_bytes"], "By");

  // A new `_created` (the counter restarted) is the new start time; the info's 1 -> 0
  // would not be a reset; a failure marks the non-monotonic sums stale as such.
  pdata::MetricsBuilder b2(st.Resource(), kScopeName, "");
  r = st.Process(OmBody("1650000000"), Format::kOpenMetricsText, 110 * kSec, 0.01, &b2);
  ASSERT_TRUE(r.status.ok()) << r.status;
  pts = Flatten(b2.Build());
  EXPECT_EQ(Find(pts, "reqs_total", {{"code", "200"}})->start, 1650000000 * kSec);
  EXPECT_EQ(Find(pts, "reqs_total", {{"code", "500"}})->start, 100 * kSec);
  pdata::MetricsBuilder b3(st.Resource(), kScopeName, "");
  r = st.Process(absl::UnavailableError("down"), Format::kOpenMetricsText, 120 * kSec, 0.01, &b3);
  pts = Flatten(b3.Build());
  ASSERT_NE(Find(pts, "build_info"), nullptr);
  EXPECT_TRUE(Find(pts, "build_info")->stale);
  EXPECT_FALSE(Find(pts, "build_info")->monotonic);
  EXPECT_TRUE(Find(pts, "reqs_total")->stale);
  EXPECT_TRUE(Find(pts, "reqs_total")->monotonic);
}

TEST(OpenMetricsScrapeTest, MissingEofFailsTheScrape) {
  ScrapeConfig sc = Job("j");
  TargetState st(sc, "h:1", {});
  ScrapeResult r;
  pdata::MetricsBuilder b(st.Resource(), kScopeName, "");
  r = st.Process(std::string("# TYPE a gauge\na 1\n"), Format::kOpenMetricsText, kSec, 0.01, &b);
  EXPECT_TRUE(r.malformed);
  EXPECT_EQ(r.status.message(),
            "invalid exposition: line 2: the exposition does not end with # EOF (it may be cut short)");
  EXPECT_EQ(Find(Flatten(b.Build()), "up")->value, 0);
}

// Records points and what Flatten leaves out.
class OmRecorder : public Consumer {
 public:
  absl::Status ConsumeMetrics(pdata::Metrics&& d) override {
    std::lock_guard<std::mutex> l(mu_);
    for (auto& p : Flatten(d)) points_.push_back(p);
    OmExtras x = ExtrasOf(d);
    for (auto& [name, es] : x.exemplars) {
      for (auto& e : es) extras_.exemplars[name].push_back(e);
    }
    for (auto& [name, unit] : x.units) extras_.units[name] = unit;
    cv_.notify_all();
    return absl::OkStatus();
  }
  bool WaitFor(const std::function<bool(const std::vector<Pt>&, const OmExtras&)>& pred) {
    std::unique_lock<std::mutex> l(mu_);
    return cv_.wait_for(l, std::chrono::seconds(10), [&] { return pred(points_, extras_); });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Pt> points_;
  OmExtras extras_;
};

// The fixture's server, answering with a Content-Type of the test's choice.
class OpenMetricsReceiverTest : public PrometheusReceiverTest {
 protected:
  void SetUp() override {
    auto s = http::Server::Listen(host_.IoContext(), "127.0.0.1:0", 1 << 20, [this](http::Request& req) {
      std::lock_guard<std::mutex> l(mu_);
      last_request_ = req;
      http::Response r;
      r.status = 200;
      r.content_type = content_type_;
      r.body = body_;
      return r;
    });
    ASSERT_TRUE(s.ok()) << s.status();
    server_ = std::move(*s);
  }
  void StartOm(const std::string& content_type, const std::string& body,
               std::optional<Format> fallback = std::nullopt) {
    {
      std::lock_guard<std::mutex> l(mu_);
      content_type_ = content_type;
      body_ = body;
    }
    ScrapeConfig sc;
    sc.job_name = "om";
    sc.scrape_interval = absl::Milliseconds(100);
    sc.static_configs = {{{StrCat("127.0.0.1:", server_->port())}, {}}};
    sc.fallback_format = fallback;
    cfg_.scrape_configs = {sc};
    ASSERT_TRUE(cfg_.Validate().ok()) << cfg_.Validate();
    receiver_ =
        std::make_unique<PrometheusReceiver>(testutil::Settings(&telemetry_, "prometheus", Kind::kReceiver), cfg_);
    receiver_->SetConsumers({nullptr, &om_, nullptr});
    ASSERT_TRUE(receiver_->Start(host_).ok());
  }
  std::string content_type_;
  OmRecorder om_;
};

TEST_F(OpenMetricsReceiverTest, NegotiatesOpenMetricsAndConvertsWhatItBrings) {
  StartOm("application/openmetrics-text; version=1.0.0; charset=utf-8", OmBody("1600000000.25"));
  ASSERT_TRUE(om_.WaitFor([](const std::vector<Pt>& pts, const OmExtras& x) {
    const Pt* c = Find(pts, "reqs_total", {{"code", "200"}});
    auto it = x.exemplars.find("reqs_total");
    return c != nullptr && it != x.exemplars.end() && Find(pts, "lat_seconds") != nullptr;
  }));
  {
    std::lock_guard<std::mutex> l(mu_);
    EXPECT_EQ(last_request_.Header("accept"),
              "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,"
              "text/plain;version=0.0.4;q=0.5,*/*;q=0.1");
  }
  ASSERT_TRUE(om_.WaitFor([](const std::vector<Pt>& pts, const OmExtras& x) {
    const Pt* c = Find(pts, "reqs_total", {{"code", "200"}});
    const Pt* h = Find(pts, "lat_seconds");
    const Pt* up = Find(pts, "up");
    auto e = x.exemplars.find("reqs_total");
    auto u = x.units.find("lat_seconds");
    return c->start == 1600000000250000000ull && h->start == 1600000001 * kSec && up != nullptr && up->value == 1 &&
           c->description == "Requests." && e->second[0].trace_id() == kTraceBytes && u != x.units.end() &&
           u->second == "s";
  }));
  EXPECT_EQ(Meter("outrigger_receiver_malformed_requests_total"), 0);
}

TEST_F(OpenMetricsReceiverTest, WithoutTheOpenMetricsTypeTheTextParserRefusesIt) {
  // The same body labelled text/plain is parsed as 0.0.4, where ` # {...}` after the
  // value is not a timestamp: the scrape fails (so the Content-Type did pick the parser).
  StartOm("text/plain; version=0.0.4; charset=utf-8", OmBody("1600000000.25"));
  ASSERT_TRUE(om_.WaitFor([&](const std::vector<Pt>& pts, const OmExtras&) {
    const Pt* up = Find(pts, "up");
    return up != nullptr && up->value == 0 && Meter("outrigger_receiver_malformed_requests_total") >= 1;
  }));
  EXPECT_TRUE(
      om_.WaitFor([](const std::vector<Pt>& pts, const OmExtras&) { return Find(pts, "reqs_total") == nullptr; }));
}

// fallback_scrape_protocol: an answer without a Content-Type (or with one that is not an
// exposition format) is parsed as the fallback says.
TEST_F(OpenMetricsReceiverTest, FallbackScrapeProtocolParsesAnswersWithoutAKnownType) {
  StartOm("application/octet-stream", OmBody("1600000000.25"), Format::kOpenMetricsText);
  ASSERT_TRUE(om_.WaitFor([](const std::vector<Pt>& pts, const OmExtras& x) {
    const Pt* up = Find(pts, "up");
    return up != nullptr && up->value == 1 && x.exemplars.count("reqs_total") == 1;
  }));
  EXPECT_EQ(Meter("outrigger_receiver_malformed_requests_total"), 0);
}

TEST_F(OpenMetricsReceiverTest, WithoutFallbackAnUnknownTypeIsTheTextFormat) {
  StartOm("application/octet-stream", OmBody("1600000000.25"));
  ASSERT_TRUE(om_.WaitFor([&](const std::vector<Pt>& pts, const OmExtras&) {
    const Pt* up = Find(pts, "up");
    return up != nullptr && up->value == 0 && Meter("outrigger_receiver_malformed_requests_total") >= 1;
  }));
}

}  // namespace
}  // namespace outrigger::receivers::prometheus
