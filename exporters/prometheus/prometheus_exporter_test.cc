#include "exporters/prometheus/prometheus_exporter.h"

#include <curl/curl.h>
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "collector/otlp/wire.h"
#include "tests/testutil/testutil.h"

namespace outrigger::exporters::prometheus {
namespace {

namespace mpb = opentelemetry::proto::metrics::v1;
using Attrs = std::vector<std::pair<std::string, std::string>>;

// ---- Builders ----------------------------------------------------------------------

using testutil::MetricsWith;
using testutil::SetStringAttrs;

mpb::Metric* NewMetric(mpb::ScopeMetrics* sm, const std::string& name, const std::string& unit,
                       const std::string& description = "") {
  auto* m = sm->add_metrics();
  m->set_name(name);
  m->set_unit(unit);
  m->set_description(description);
  return m;
}

mpb::NumberDataPoint* AddSum(mpb::ScopeMetrics* sm, const std::string& name, const std::string& unit, double v,
                             bool monotonic = true, bool delta = false, const Attrs& attrs = {}, uint64_t time = 2000) {
  auto* m = NewMetric(sm, name, unit);
  m->mutable_sum()->set_is_monotonic(monotonic);
  m->mutable_sum()->set_aggregation_temporality(delta ? mpb::AGGREGATION_TEMPORALITY_DELTA
                                                      : mpb::AGGREGATION_TEMPORALITY_CUMULATIVE);
  auto* p = m->mutable_sum()->add_data_points();
  p->set_as_double(v);
  p->set_start_time_unix_nano(1000);
  p->set_time_unix_nano(time);
  SetStringAttrs(p->mutable_attributes(), attrs);
  return p;
}

mpb::NumberDataPoint* AddGauge(mpb::ScopeMetrics* sm, const std::string& name, const std::string& unit, double v,
                               const Attrs& attrs = {}, uint64_t time = 2000) {
  auto* p = NewMetric(sm, name, unit)->mutable_gauge()->add_data_points();
  p->set_as_double(v);
  p->set_time_unix_nano(time);
  SetStringAttrs(p->mutable_attributes(), attrs);
  return p;
}

mpb::HistogramDataPoint* AddHistogram(mpb::ScopeMetrics* sm, const std::string& name, const std::string& unit,
                                      const std::vector<double>& bounds, const std::vector<uint64_t>& counts,
                                      double sum, bool delta = false, const Attrs& attrs = {}) {
  auto* m = NewMetric(sm, name, unit);
  m->mutable_histogram()->set_aggregation_temporality(delta ? mpb::AGGREGATION_TEMPORALITY_DELTA
                                                            : mpb::AGGREGATION_TEMPORALITY_CUMULATIVE);
  auto* p = m->mutable_histogram()->add_data_points();
  uint64_t total = 0;
  for (double b : bounds) p->add_explicit_bounds(b);
  for (uint64_t c : counts) {
    p->add_bucket_counts(c);
    total += c;
  }
  p->set_count(total);
  p->set_sum(sum);
  p->set_time_unix_nano(2000);
  SetStringAttrs(p->mutable_attributes(), attrs);
  return p;
}

// ---- A fake clock ------------------------------------------------------------------

struct FakeClock {
  std::shared_ptr<std::atomic<int64_t>> seconds = std::make_shared<std::atomic<int64_t>>(1'700'000'000);
  Accumulator::Clock fn() const {
    auto s = seconds;
    return [s] { return absl::FromUnixSeconds(s->load()); };
  }
  void Advance(absl::Duration d) { *seconds += absl::ToInt64Seconds(d); }
};

std::string RenderOnce(const Config& cfg, pdata::Metrics d, Format f = Format::kText) {
  Accumulator acc(cfg, nullptr);
  acc.Add(d);
  return acc.Render(f);
}

// ---- Rendering ---------------------------------------------------------------------

TEST(PrometheusRender, CounterAndGauge) {
  auto d = MetricsWith({}, [](mpb::ScopeMetrics* sm) {
    NewMetric(sm, "unused", "");  // no data: ignored
    AddSum(sm, "http.requests", "{request}", 7, true, false, {{"http.method", "GET"}, {"code", "200"}});
    sm->mutable_metrics(1)->set_description("Requests served.\nWith a \\ backslash");
    AddGauge(sm, "queue.size", "", 3.5, {{"name", "a \"quoted\"\nvalue \\"}});
    AddSum(sm, "pool.in_use", "", -2, /*monotonic=*/false);
  });
  EXPECT_EQ(RenderOnce(Config{}, std::move(d)),
            "# HELP http_requests_total Requests served.\\nWith a \\\\ backslash\n"
            "# TYPE http_requests_total counter\n"
            "http_requests_total{code=\"200\",http_method=\"GET\"} 7\n"
            "# TYPE pool_in_use gauge\n"
            "pool_in_use -2\n"
            "# TYPE queue_size gauge\n"
            "queue_size{name=\"a \\\"quoted\\\"\\nvalue \\\\\"} 3.5\n");
}

TEST(PrometheusRender, Histogram) {
  auto d = MetricsWith({}, [](mpb::ScopeMetrics* sm) {
    AddHistogram(sm, "http.server.duration", "ms", {5, 10, 25.5}, {1, 2, 3, 4}, 123.25, false, {{"route", "/a"}});
    sm->mutable_metrics(0)->set_description("Latency");
  });
  EXPECT_EQ(RenderOnce(Config{}, std::move(d)),
            "# HELP http_server_duration_milliseconds Latency\n"
            "# TYPE http_server_duration_milliseconds histogram\n"
            "http_server_duration_milliseconds_bucket{route=\"/a\",le=\"5\"} 1\n"
            "http_server_duration_milliseconds_bucket{route=\"/a\",le=\"10\"} 3\n"
            "http_server_duration_milliseconds_bucket{route=\"/a\",le=\"25.5\"} 6\n"
            "http_server_duration_milliseconds_bucket{route=\"/a\",le=\"+Inf\"} 10\n"
            "http_server_duration_milliseconds_sum{route=\"/a\"} 123.25\n"
            "http_server_duration_milliseconds_count{route=\"/a\"} 10\n");
}

TEST(PrometheusRender, HistogramWithoutBucketsOrSum) {
  auto d = MetricsWith({}, [](mpb::ScopeMetrics* sm) {
    auto* p = AddHistogram(sm, "h", "", {}, {}, 0);
    p->set_count(4);
    p->clear_sum();
  });
  EXPECT_EQ(RenderOnce(Config{}, std::move(d)),
            "# TYPE h histogram\n"
            "h_bucket{le=\"+Inf\"} 4\n"
            "h_count 4\n");
}

TEST(PrometheusRender, Summary) {
  auto d = MetricsWith({}, [](mpb::ScopeMetrics* sm) {
    auto* p = NewMetric(sm, "rpc.latency", "s")->mutable_summary()->add_data_points();
    p->set_count(10);
    p->set_sum(4.5);
    auto* q = p->add_quantile_values();
    q->set_quantile(0.5);
    q->set_value(0.25);
    q = p->add_quantile_values();
    q->set_quantile(1);
    q->set_value(2);
    SetStringAttrs(p->mutable_attributes(), {{"quantile", "clash"}, {"m", "x"}});
  });
  EXPECT_EQ(RenderOnce(Config{}, std::move(d)),
            "# TYPE rpc_latency_seconds summary\n"
            "rpc_latency_seconds{m=\"x\",quantile=\"0.5\"} 0.25\n"
            "rpc_latency_seconds{m=\"x\",quantile=\"1\"} 2\n"
            "rpc_latency_seconds_sum{m=\"x\"} 4.5\n"
            "rpc_latency_seconds_count{m=\"x\"} 10\n");
}

TEST(PrometheusRender, ExponentialHistogramBecomesBuckets) {
  auto d = MetricsWith({}, [](mpb::ScopeMetrics* sm) {
    auto* m = NewMetric(sm, "lat", "s");
    m->mutable_exponential_histogram()->set_aggregation_temporality(mpb::AGGREGATION_TEMPORALITY_CUMULATIVE);
    auto* p = m->mutable_exponential_histogram()->add_data_points();
    p->set_scale(1);  // base sqrt(2)
    p->set_zero_count(1);
    p->mutable_positive()->set_offset(0);  // (1, 1.414..], (1.414.., 2]
    p->mutable_positive()->add_bucket_counts(2);
    p->mutable_positive()->add_bucket_counts(3);
    p->mutable_negative()->set_offset(1);  // [-2, -1.414..)
    p->mutable_negative()->add_bucket_counts(4);
    p->set_count(10);
    p->set_sum(1.5);
  });
  EXPECT_EQ(RenderOnce(Config{}, std::move(d)),
            "# TYPE lat_seconds histogram\n"
            "lat_seconds_bucket{le=\"-1.4142135623730951\"} 4\n"
            "lat_seconds_bucket{le=\"0\"} 5\n"
            "lat_seconds_bucket{le=\"1.4142135623730951\"} 7\n"
            "lat_seconds_bucket{le=\"2\"} 10\n"
            "lat_seconds_bucket{le=\"+Inf\"} 10\n"
            "lat_seconds_sum 1.5\n"
            "lat_seconds_count 10\n");
}

TEST(PrometheusRender, DeltaExponentialHistogramsMergeAcrossScales) {
  Accumulator acc(Config{}, nullptr);
  auto point = [](int scale, int offset, std::vector<uint64_t> counts) {
    return MetricsWith({}, [&](mpb::ScopeMetrics* sm) {
      auto* m = NewMetric(sm, "x", "");
      m->mutable_exponential_histogram()->set_aggregation_temporality(mpb::AGGREGATION_TEMPORALITY_DELTA);
      auto* p = m->mutable_exponential_histogram()->add_data_points();
      p->set_scale(scale);
      p->mutable_positive()->set_offset(offset);
      uint64_t n = 0;
      for (auto c : counts) {
        p->mutable_positive()->add_bucket_counts(c);
        n += c;
      }
      p->set_count(n);
      p->set_sum(static_cast<double>(n));
    });
  };
  acc.Add(point(1, 0, {1, 1}));  // (1, 1.41], (1.41, 2]
  acc.Add(point(0, 1, {5}));     // (2, 4]: the stored histogram goes down to scale 0
  EXPECT_EQ(acc.Render(Format::kText),
            "# TYPE x histogram\n"
            "x_bucket{le=\"2\"} 2\n"
            "x_bucket{le=\"4\"} 7\n"
            "x_bucket{le=\"+Inf\"} 7\n"
            "x_sum 7\n"
            "x_count 7\n");
}

TEST(PrometheusRender, TimestampsConstLabelsAndNamespace) {
  Config cfg;
  cfg.send_timestamps = true;
  cfg.metric_namespace = "app";
  cfg.const_labels = {{"region", "eu"}, {"env", "prod"}};
  auto d = MetricsWith({}, [](mpb::ScopeMetrics* sm) {
    AddGauge(sm, "g", "", 1, {{"env", "overridden"}}, 1'700'000'000'123'456'789ULL);
  });
  std::string text = RenderOnce(cfg, d.Clone());
  EXPECT_EQ(text,
            "# TYPE app_g gauge\n"
            "app_g{env=\"prod\",region=\"eu\"} 1 1700000000123\n");
  std::string om = RenderOnce(cfg, std::move(d), Format::kOpenMetrics);
  EXPECT_EQ(om,
            "# TYPE app_g gauge\n"
            "app_g{env=\"prod\",region=\"eu\"} 1 1700000000.123\n"
            "# EOF\n");
}

TEST(PrometheusRender, OpenMetricsCountersAndBounds) {
  auto d = MetricsWith({}, [](mpb::ScopeMetrics* sm) {
    AddSum(sm, "jobs", "", 3);
    sm->mutable_metrics(0)->set_description("Jobs \"done\"");
    AddHistogram(sm, "h", "", {1, 2.5}, {1, 1, 0}, 3);
  });
  EXPECT_EQ(RenderOnce(Config{}, d.Clone(), Format::kOpenMetrics),
            "# TYPE h histogram\n"
            "h_bucket{le=\"1.0\"} 1\n"
            "h_bucket{le=\"2.5\"} 2\n"
            "h_bucket{le=\"+Inf\"} 2\n"
            "h_sum 3\n"
            "h_count 2\n"
            "# HELP jobs Jobs \\\"done\\\"\n"
            "# TYPE jobs counter\n"
            "jobs_total 3\n"
            "# EOF\n");
  // Without suffixes the family is still a counter; OpenMetrics adds _total to the sample.
  Config nosuffix;
  nosuffix.add_metric_suffixes = false;
  std::string om = RenderOnce(nosuffix, d.Clone(), Format::kOpenMetrics);
  EXPECT_NE(om.find("# TYPE jobs counter\njobs_total 3\n"), std::string::npos) << om;
  std::string text = RenderOnce(nosuffix, std::move(d));
  EXPECT_NE(text.find("# TYPE jobs counter\njobs 3\n"), std::string::npos) << text;
}

TEST(PrometheusRender, AttributeValuesAndCollidingKeys) {
  auto d = MetricsWith({}, [](mpb::ScopeMetrics* sm) {
    auto* p = AddGauge(sm, "g", "", 1, {{"a.b", "dot"}, {"a_b", "under"}, {"empty", ""}});
    auto add = [&](const std::string& key) {
      auto* kv = p->add_attributes();
      kv->set_key(key);
      return kv->mutable_value();
    };
    add("i")->set_int_value(-42);
    add("b")->set_bool_value(true);
    add("d")->set_double_value(0.5);
    auto* arr = add("arr")->mutable_array_value();
    arr->add_values()->set_string_value("x");
    arr->add_values()->set_int_value(1);
  });
  EXPECT_EQ(RenderOnce(Config{}, std::move(d)),
            "# TYPE g gauge\n"
            "g{a_b=\"dot;under\",arr=\"[\\\"x\\\",1]\",b=\"true\",d=\"0.5\",i=\"-42\"} 1\n");
}

// ---- Resources -----------------------------------------------------------------------

TEST(PrometheusResource, JobInstanceAndTargetInfo) {
  Attrs resource = {{"service.name", "checkout"},
                    {"service.namespace", "shop"},
                    {"service.instance.id", "pod-1"},
                    {"host.name", "node-7"},
                    {"k8s.pod.name", "checkout-abc"}};
  auto d = MetricsWith(
      resource,
      [](mpb::ScopeMetrics* sm) {
        AddGauge(sm, "up", "", 1, {{"job", "ignored"}});
      },
      "io.opentelemetry.http", "1.2.0");
  EXPECT_EQ(
      RenderOnce(Config{}, d.Clone()),
      "# HELP target_info Target metadata\n"
      "# TYPE target_info gauge\n"
      "target_info{host_name=\"node-7\",instance=\"pod-1\",job=\"shop/checkout\",k8s_pod_name=\"checkout-abc\"} 1\n"
      "# TYPE up gauge\n"
      "up{instance=\"pod-1\",job=\"shop/checkout\",otel_scope_name=\"io.opentelemetry.http\","
      "otel_scope_version=\"1.2.0\"} 1\n");

  // Only identifying attributes: no target_info.
  auto only_ids = MetricsWith({{"service.name", "svc"}}, [](mpb::ScopeMetrics* sm) { AddGauge(sm, "up", "", 1); });
  EXPECT_EQ(RenderOnce(Config{}, std::move(only_ids)), "# TYPE up gauge\nup{job=\"svc\"} 1\n");

  // With a namespace and const labels, target_info has both.
  Config cfg;
  cfg.metric_namespace = "ns";
  cfg.const_labels = {{"cluster", "c1"}};
  std::string text = RenderOnce(cfg, std::move(d));
  EXPECT_NE(text.find("ns_target_info{cluster=\"c1\",host_name=\"node-7\",instance=\"pod-1\""), std::string::npos)
      << text;
}

TEST(PrometheusResource, ResourceToTelemetryConversion) {
  Config cfg;
  cfg.resource_to_telemetry_conversion = true;
  auto d = MetricsWith({{"service.name", "svc"}, {"host.name", "h1"}, {"region", "from-resource"}},
                       [](mpb::ScopeMetrics* sm) {
                         AddGauge(sm, "g", "", 2, {{"region", "from-point"}});
                       });
  std::string text = RenderOnce(cfg, std::move(d));
  EXPECT_NE(text.find("g{host_name=\"h1\",job=\"svc\",region=\"from-point\",service_name=\"svc\"} 2\n"),
            std::string::npos)
      << text;
  // Off (the default): no resource attribute on the series.
  auto d2 = MetricsWith({{"service.name", "svc"}, {"host.name", "h1"}},
                        [](mpb::ScopeMetrics* sm) { AddGauge(sm, "g", "", 2); });
  EXPECT_NE(RenderOnce(Config{}, std::move(d2)).find("\ng{job=\"svc\"} 2\n"), std::string::npos);
}

// ---- Accumulation ------------------------------------------------------------------

TEST(PrometheusAccumulate, DeltaSumsAccumulateCumulativeReplace) {
  Accumulator acc(Config{}, nullptr);
  for (int i = 1; i <= 4; ++i) {
    acc.Add(MetricsWith({}, [&](mpb::ScopeMetrics* sm) {
      AddSum(sm, "hits", "", i, true, /*delta=*/true, {{"k", "a"}}, 2000 + static_cast<uint64_t>(i));
      AddSum(sm, "hits", "", 10, true, /*delta=*/true, {{"k", "b"}}, 2000 + static_cast<uint64_t>(i));
      AddSum(sm, "total", "", 100.0 * i, true, /*delta=*/false, {}, 2000 + static_cast<uint64_t>(i));
      AddSum(sm, "level", "", 1, /*monotonic=*/false, /*delta=*/true);  // up-down: sums too
    }));
  }
  EXPECT_EQ(acc.Render(Format::kText),
            "# TYPE hits_total counter\n"
            "hits_total{k=\"a\"} 10\n"
            "hits_total{k=\"b\"} 40\n"
            "# TYPE level gauge\n"
            "level 4\n"
            "# TYPE total counter\n"
            "total 400\n");
  // An older cumulative point does not replace a newer one.
  acc.Add(MetricsWith({}, [](mpb::ScopeMetrics* sm) { AddSum(sm, "total", "", 1, true, false, {}, 1500); }));
  EXPECT_NE(acc.Render(Format::kText).find("\ntotal 400\n"), std::string::npos);
}

TEST(PrometheusAccumulate, DeltaHistogramsAccumulate) {
  Accumulator acc(Config{}, nullptr);
  acc.Add(MetricsWith({}, [](mpb::ScopeMetrics* sm) { AddHistogram(sm, "d", "", {1, 2}, {1, 0, 2}, 10, true); }));
  acc.Add(MetricsWith({}, [](mpb::ScopeMetrics* sm) { AddHistogram(sm, "d", "", {1, 2}, {0, 3, 1}, 5, true); }));
  EXPECT_EQ(acc.Render(Format::kText),
            "# TYPE d histogram\n"
            "d_bucket{le=\"1\"} 1\n"
            "d_bucket{le=\"2\"} 4\n"
            "d_bucket{le=\"+Inf\"} 7\n"
            "d_sum 15\n"
            "d_count 7\n");
  // Different bounds: the series restarts from the new point.
  acc.Add(MetricsWith({}, [](mpb::ScopeMetrics* sm) { AddHistogram(sm, "d", "", {5}, {1, 1}, 6, true); }));
  EXPECT_EQ(acc.Render(Format::kText),
            "# TYPE d histogram\n"
            "d_bucket{le=\"5\"} 1\n"
            "d_bucket{le=\"+Inf\"} 2\n"
            "d_sum 6\n"
            "d_count 2\n");
}

TEST(PrometheusAccumulate, SeriesExpire) {
  FakeClock clock;
  Config cfg;
  cfg.metric_expiration = absl::Minutes(5);
  Accumulator acc(cfg, nullptr, clock.fn());
  acc.Add(MetricsWith({{"service.name", "s"}, {"host.name", "h"}}, [](mpb::ScopeMetrics* sm) {
    AddGauge(sm, "old", "", 1);
    AddSum(sm, "kept", "", 1, true, true);
  }));
  EXPECT_EQ(acc.SeriesCount(), 3u);  // old, kept, target_info
  clock.Advance(absl::Minutes(4));
  acc.Add(MetricsWith({}, [](mpb::ScopeMetrics* sm) { AddSum(sm, "kept", "", 1, true, true); }));  // another resource
  EXPECT_EQ(acc.SeriesCount(), 4u);
  clock.Advance(absl::Minutes(1));  // 5 minutes after "old" and target_info
  std::string text = acc.Render(Format::kText);
  EXPECT_EQ(text, "# TYPE kept_total counter\nkept_total 1\n");
  clock.Advance(absl::Minutes(4));
  EXPECT_EQ(acc.Render(Format::kText), "");
  // A delta after expiry starts again from its own value.
  acc.Add(MetricsWith({}, [](mpb::ScopeMetrics* sm) { AddSum(sm, "kept", "", 5, true, true); }));
  EXPECT_EQ(acc.Render(Format::kText), "# TYPE kept_total counter\nkept_total 5\n");
}

TEST(PrometheusAccumulate, NoRecordedValueRemovesTheSeries) {
  Accumulator acc(Config{}, nullptr);
  acc.Add(MetricsWith({}, [](mpb::ScopeMetrics* sm) {
    AddGauge(sm, "g", "", 1, {{"k", "a"}});
    AddGauge(sm, "g", "", 2, {{"k", "b"}});
    AddHistogram(sm, "h", "", {1}, {1, 1}, 3);
  }));
  auto result = acc.Add(MetricsWith({}, [](mpb::ScopeMetrics* sm) {
    auto* p = AddGauge(sm, "g", "", 0, {{"k", "a"}}, 3000);
    p->clear_as_double();
    p->set_flags(1);
    auto* h = AddHistogram(sm, "h", "", {}, {}, 0);
    h->set_flags(1);
  }));
  EXPECT_EQ(result.taken, 2u);
  EXPECT_EQ(acc.Render(Format::kText), "# TYPE g gauge\ng{k=\"b\"} 2\n");
}

TEST(PrometheusAccumulate, TypeConflictsAndUnspecifiedTemporalityAreDropped) {
  Accumulator acc(Config{}, nullptr);
  acc.Add(MetricsWith({}, [](mpb::ScopeMetrics* sm) { AddGauge(sm, "x", "", 1); }));
  auto r = acc.Add(MetricsWith({}, [](mpb::ScopeMetrics* sm) {
    AddHistogram(sm, "x", "", {1}, {1, 1}, 3);  // "x" is a gauge
    AddSum(sm, "y", "", 1);
    sm->mutable_metrics(1)->mutable_sum()->set_aggregation_temporality(mpb::AGGREGATION_TEMPORALITY_UNSPECIFIED);
    AddHistogram(sm, "z", "", {1, 2}, {1, 1}, 3);  // 2 bounds need 3 counts
  }));
  EXPECT_EQ(r.taken, 0u);
  EXPECT_EQ(r.dropped, 3u);
  EXPECT_EQ(acc.Render(Format::kText), "# TYPE x gauge\nx 1\n");
}

TEST(PrometheusAccumulate, ConcurrentAddAndRender) {
  Accumulator acc(Config{}, nullptr);
  std::atomic<bool> stop{false};
  std::thread reader([&] {
    while (!stop) (void)acc.Render(Format::kText);
  });
  std::vector<std::thread> writers;
  for (int t = 0; t < 3; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; i < 300; ++i) {
        acc.Add(MetricsWith({}, [&](mpb::ScopeMetrics* sm) {
          AddSum(sm, "c", "", 1, true, true, {{"t", std::to_string(t)}});
        }));
      }
    });
  }
  for (auto& w : writers) w.join();
  stop = true;
  reader.join();
  EXPECT_EQ(acc.Render(Format::kText),
            "# TYPE c_total counter\nc_total{t=\"0\"} 300\nc_total{t=\"1\"} 300\nc_total{t=\"2\"} 300\n");
}

// ---- Negotiation -------------------------------------------------------------------

TEST(PrometheusNegotiation, AcceptHeader) {
  // What Prometheus 2.x sends when it may use OpenMetrics.
  EXPECT_TRUE(
      AcceptsOpenMetrics("application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,"
                         "text/plain;version=0.0.4;q=0.5,*/*;q=0.1"));
  EXPECT_TRUE(AcceptsOpenMetrics("application/openmetrics-text"));
  EXPECT_FALSE(AcceptsOpenMetrics("text/plain;version=0.0.4;q=0.9,application/openmetrics-text;q=0.5"));
  EXPECT_FALSE(AcceptsOpenMetrics("text/plain"));
  EXPECT_FALSE(AcceptsOpenMetrics(""));
  EXPECT_FALSE(AcceptsOpenMetrics("*/*"));
  EXPECT_FALSE(AcceptsOpenMetrics("application/openmetrics-text;q=0"));
  EXPECT_FALSE(AcceptsOpenMetrics("application/openmetrics-text;version=2.0.0"));
}

// ---- The exporter, over HTTP -------------------------------------------------------

struct HttpResult {
  long code = 0;
  std::string body;
  std::string headers;
};

size_t Collect(char* p, size_t s, size_t n, void* u) {
  static_cast<std::string*>(u)->append(p, s * n);
  return s * n;
}

HttpResult Get(uint16_t port, const std::string& path, const std::vector<std::string>& headers = {},
               const std::string& method = "GET") {
  CURL* h = curl_easy_init();
  HttpResult r;
  std::string url = "http://127.0.0.1:" + std::to_string(port) + path;
  curl_slist* hdrs = nullptr;
  for (const auto& x : headers) hdrs = curl_slist_append(hdrs, x.c_str());
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
  curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method.c_str());
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, Collect);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &r.body);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, Collect);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &r.headers);
  EXPECT_EQ(curl_easy_perform(h), CURLE_OK);
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r.code);
  curl_slist_free_all(hdrs);
  curl_easy_cleanup(h);
  return r;
}

class PrometheusExporterTest : public ::testing::Test {
 protected:
  void StartWith(Config cfg) {
    cfg.endpoint = "127.0.0.1:0";
    exporter_ =
        std::make_unique<PrometheusExporter>(testutil::Settings(&telemetry_, "prometheus", Kind::kExporter), cfg);
    ASSERT_TRUE(exporter_->Start(host_).ok());
    ASSERT_NE(exporter_->port(), 0);
  }
  void TearDown() override {
    if (exporter_) {
      EXPECT_TRUE(exporter_->Shutdown(absl::Now() + absl::Seconds(5)).ok());
    }
  }

  Telemetry telemetry_;
  testutil::TestHost host_;
  std::unique_ptr<PrometheusExporter> exporter_;
};

constexpr char kPrometheusAccept[] =
    "Accept: application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,"
    "text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

TEST_F(PrometheusExporterTest, ServesTextAndCountsPoints) {
  StartWith(Config{});
  ASSERT_TRUE(exporter_
                  ->ConsumeMetrics(MetricsWith({},
                                               [](mpb::ScopeMetrics* sm) {
                                                 AddSum(sm, "requests", "", 3);
                                                 AddGauge(sm, "temp", "Cel", 21.5);
                                               }))
                  .ok());
  auto r = Get(exporter_->port(), "/metrics", {kPrometheusAccept});  // OpenMetrics not enabled
  EXPECT_EQ(r.code, 200);
  EXPECT_NE(r.headers.find("Content-Type: text/plain; version=0.0.4; charset=utf-8"), std::string::npos) << r.headers;
  EXPECT_EQ(r.body,
            "# TYPE requests_total counter\nrequests_total 3\n"
            "# TYPE temp_celsius gauge\ntemp_celsius 21.5\n");
  EXPECT_EQ(telemetry_.Value("outrigger_exporter_sent_metric_points_total", {{"exporter", "prometheus"}}), 2);

  EXPECT_EQ(Get(exporter_->port(), "/other").code, 404);
  EXPECT_EQ(Get(exporter_->port(), "/metrics", {}, "POST").code, 405);
}

TEST_F(PrometheusExporterTest, OpenMetricsWhenEnabledAndAsked) {
  Config cfg;
  cfg.enable_open_metrics = true;
  StartWith(cfg);
  ASSERT_TRUE(
      exporter_->ConsumeMetrics(MetricsWith({}, [](mpb::ScopeMetrics* sm) { AddSum(sm, "requests", "", 3); })).ok());
  auto om = Get(exporter_->port(), "/metrics", {kPrometheusAccept});
  EXPECT_EQ(om.code, 200);
  EXPECT_NE(om.headers.find("Content-Type: application/openmetrics-text; version=1.0.0; charset=utf-8"),
            std::string::npos)
      << om.headers;
  EXPECT_EQ(om.body, "# TYPE requests counter\nrequests_total 3\n# EOF\n");
  auto text = Get(exporter_->port(), "/metrics", {"Accept: text/plain"});
  EXPECT_EQ(text.body, "# TYPE requests_total counter\nrequests_total 3\n");
  auto plain = Get(exporter_->port(), "/metrics");
  EXPECT_EQ(plain.body, text.body);
}

TEST_F(PrometheusExporterTest, GzipWhenAskedAndLarge) {
  StartWith(Config{});
  ASSERT_TRUE(exporter_
                  ->ConsumeMetrics(MetricsWith({},
                                               [](mpb::ScopeMetrics* sm) {
                                                 for (int i = 0; i < 100; ++i)
                                                   AddGauge(sm, "g", "", i, {{"i", std::to_string(i)}});
                                               }))
                  .ok());
  auto r = Get(exporter_->port(), "/metrics", {"Accept-Encoding: gzip"});
  EXPECT_NE(r.headers.find("Content-Encoding: gzip"), std::string::npos) << r.headers;
  auto plain = outrigger::otlp::Gunzip(r.body, 1 << 20);
  ASSERT_TRUE(plain.ok());
  EXPECT_NE(plain->find("g{i=\"99\"} 99\n"), std::string::npos);
  EXPECT_EQ(*plain, Get(exporter_->port(), "/metrics").body);
}

TEST(PrometheusConfig, Validation) {
  Config c;
  EXPECT_TRUE(c.Validate().ok());
  EXPECT_EQ(c.endpoint, "127.0.0.1:9464");
  EXPECT_EQ(c.metric_expiration, absl::Minutes(5));
  EXPECT_TRUE(c.add_metric_suffixes);
  EXPECT_FALSE(c.enable_open_metrics || c.send_timestamps || c.resource_to_telemetry_conversion);
  c.metric_expiration = absl::ZeroDuration();
  EXPECT_FALSE(c.Validate().ok());
  // As upstream: a namespace or const label name Prometheus does not allow is escaped.
  c = Config{};
  c.metric_namespace = "9lives";
  EXPECT_TRUE(c.Validate().ok());
  c = Config{};
  c.const_labels = {{"bad-name", "x"}};
  EXPECT_TRUE(c.Validate().ok());
  c = Config{};
  c.translation_strategy = "Underscores";
  EXPECT_NE(c.Validate().message().find("invalid translation_strategy: Underscores"), std::string_view::npos);
  c = Config{};
  c.const_labels = {{"__reserved", "x"}};
  EXPECT_FALSE(c.Validate().ok());
  c = Config{};
  c.endpoint = "nonsense";
  EXPECT_FALSE(c.Validate().ok());
}

// ---- Translation strategies, UTF-8 names, escaping ---------------------------------

pdata::Metrics DottedMetrics() {
  return MetricsWith({{"service.name", "svc"}, {"host.name", "h1"}}, [](mpb::ScopeMetrics* sm) {
    AddSum(sm, "http.server.requests", "{request}", 3, true, false, {{"http.method", "GET"}});
    AddGauge(sm, "cpu.utilization", "1", 0.5);
  });
}

TEST(PrometheusTranslation, StrategiesNameAsUpstream) {
  Config cfg;
  cfg.translation_strategy = "UnderscoreEscapingWithSuffixes";
  std::string text = RenderOnce(cfg, DottedMetrics());
  EXPECT_NE(text.find("\nhttp_server_requests_total{http_method=\"GET\",job=\"svc\"} 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\ncpu_utilization_ratio{job=\"svc\"} 0.5\n"), std::string::npos) << text;

  cfg.translation_strategy = "UnderscoreEscapingWithoutSuffixes";
  text = RenderOnce(cfg, DottedMetrics());
  EXPECT_NE(text.find("\nhttp_server_requests{http_method=\"GET\",job=\"svc\"} 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\ncpu_utilization{job=\"svc\"} 0.5\n"), std::string::npos) << text;

  // add_metric_suffixes: false is the same, unless translation_strategy is set (it wins).
  Config legacy;
  legacy.add_metric_suffixes = false;
  EXPECT_EQ(RenderOnce(legacy, DottedMetrics()), text);
  legacy.translation_strategy = "UnderscoreEscapingWithSuffixes";
  EXPECT_NE(RenderOnce(legacy, DottedMetrics()).find("http_server_requests_total"), std::string::npos);
}

TEST(PrometheusTranslation, Utf8NamesAreQuotedOnlyWhenTheScraperAllowsThem) {
  Config cfg;
  cfg.translation_strategy = "NoUTF8EscapingWithSuffixes";
  Accumulator acc(cfg, nullptr);
  acc.Add(DottedMetrics());
  EXPECT_EQ(acc.Render(Format::kText, Escaping::kAllowUtf8),
            "# TYPE \"cpu.utilization_ratio\" gauge\n"
            "{\"cpu.utilization_ratio\",job=\"svc\"} 0.5\n"
            "# TYPE \"http.server.requests_total\" counter\n"
            "{\"http.server.requests_total\",\"http.method\"=\"GET\",job=\"svc\"} 3\n"
            "# HELP target_info Target metadata\n"
            "# TYPE target_info gauge\n"
            "target_info{\"host.name\"=\"h1\",job=\"svc\"} 1\n");
  // A scraper that did not ask (Prometheus 2) gets underscores.
  EXPECT_EQ(acc.Render(Format::kText, Escaping::kUnderscores),
            "# TYPE cpu_utilization_ratio gauge\n"
            "cpu_utilization_ratio{job=\"svc\"} 0.5\n"
            "# TYPE http_server_requests_total counter\n"
            "http_server_requests_total{http_method=\"GET\",job=\"svc\"} 3\n"
            "# HELP target_info Target metadata\n"
            "# TYPE target_info gauge\n"
            "target_info{host_name=\"h1\",job=\"svc\"} 1\n");
  std::string values = acc.Render(Format::kText, Escaping::kValues);
  EXPECT_NE(values.find("U__http_2e_server_2e_requests__total{U__http_2e_method=\"GET\",job=\"svc\"} 3\n"),
            std::string::npos)
      << values;
  std::string dots = acc.Render(Format::kText, Escaping::kDots);
  EXPECT_NE(dots.find("http_dot_server_dot_requests__total{http_dot_method=\"GET\",job=\"svc\"} 3\n"),
            std::string::npos)
      << dots;
  // OpenMetrics: the counter family without _total, quoted.
  std::string om = acc.Render(Format::kOpenMetrics, Escaping::kAllowUtf8);
  EXPECT_NE(om.find("# TYPE \"http.server.requests\" counter\n"
                    "{\"http.server.requests_total\",\"http.method\"=\"GET\",job=\"svc\"} 3\n"),
            std::string::npos)
      << om;

  cfg.translation_strategy = "NoTranslation";
  Accumulator raw(cfg, nullptr);
  raw.Add(DottedMetrics());
  std::string t = raw.Render(Format::kText, Escaping::kAllowUtf8);
  EXPECT_NE(t.find("{\"http.server.requests\",\"http.method\"=\"GET\",job=\"svc\"} 3\n"), std::string::npos) << t;
  EXPECT_NE(t.find("{\"cpu.utilization\",job=\"svc\"} 0.5\n"), std::string::npos) << t;
}

TEST(PrometheusTranslation, EscapedNamesThatCollideAreWrittenOnce) {
  Config cfg;
  cfg.translation_strategy = "NoTranslation";
  Accumulator acc(cfg, nullptr);
  acc.Add(MetricsWith({}, [](mpb::ScopeMetrics* sm) {
    AddGauge(sm, "a.b", "", 1);
    AddGauge(sm, "a_b", "", 2);
  }));
  EXPECT_EQ(acc.Render(Format::kText, Escaping::kUnderscores), "# TYPE a_b gauge\na_b 1\n");
  EXPECT_EQ(acc.Render(Format::kText, Escaping::kAllowUtf8),
            "# TYPE \"a.b\" gauge\n{\"a.b\"} 1\n# TYPE a_b gauge\na_b 2\n");
}

TEST(PrometheusTranslation, NamespaceAndConstLabelsAreSanitizedAsUpstream) {
  Config cfg;
  cfg.metric_namespace = "test-space";
  cfg.const_labels = {{"another label", "spaced value"}};
  std::string text = RenderOnce(cfg, MetricsWith({}, [](mpb::ScopeMetrics* sm) { AddGauge(sm, "g", "", 1); }));
  EXPECT_EQ(text, "# TYPE test_space_g gauge\ntest_space_g{another_label=\"spaced value\"} 1\n");
  cfg.metric_namespace = "9lives";
  text = RenderOnce(cfg, MetricsWith({}, [](mpb::ScopeMetrics* sm) { AddGauge(sm, "g", "", 1); }));
  EXPECT_NE(text.find("\n_9lives_g{"), std::string::npos) << text;
}

TEST(PrometheusTranslation, ScopeInfoLabelsAndWithoutScopeInfo) {
  auto data = [] {
    auto d = MetricsWith(
        {}, [](mpb::ScopeMetrics* sm) { AddGauge(sm, "g", "", 1); }, "lib", "1.0");
    d.ForEachMutableRequest([](auto& req) {
      auto* sm = req.mutable_resource_metrics(0)->mutable_scope_metrics(0);
      sm->set_schema_url("https://opentelemetry.io/schemas/1.21.0");
      auto* kv = sm->mutable_scope()->add_attributes();
      kv->set_key("lib.kind");
      kv->mutable_value()->set_string_value("http");
    });
    return d;
  };
  EXPECT_EQ(RenderOnce(Config{}, data()),
            "# TYPE g gauge\n"
            "g{otel_scope_lib_kind=\"http\",otel_scope_name=\"lib\","
            "otel_scope_schema_url=\"https://opentelemetry.io/schemas/1.21.0\",otel_scope_version=\"1.0\"} 1\n");
  Config cfg;
  cfg.without_scope_info = true;
  EXPECT_EQ(RenderOnce(cfg, data()), "# TYPE g gauge\ng 1\n");
}

TEST(PrometheusResource, ExcludeServiceAttributesAndResourceConstantLabels) {
  auto data = [] {
    return MetricsWith(
        {{"service.name", "svc"}, {"service.instance.id", "i1"}, {"k8s.pod.name", "p"}, {"host.name", "h"}},
        [](mpb::ScopeMetrics* sm) { AddGauge(sm, "g", "", 1); });
  };
  auto series = [](const std::string& text) {
    size_t at = text.find("\ng{") + 1;
    return text.substr(at, text.find('\n', at) + 1 - at);
  };
  Config cfg;
  cfg.resource_to_telemetry_conversion = true;
  cfg.exclude_service_attributes = true;
  EXPECT_EQ(series(RenderOnce(cfg, data())), "g{host_name=\"h\",instance=\"i1\",job=\"svc\",k8s_pod_name=\"p\"} 1\n");
  Config rcl;
  rcl.resource_labels_included = {"k8s.*", "service.?ame"};
  EXPECT_EQ(series(RenderOnce(rcl, data())),
            "g{instance=\"i1\",job=\"svc\",k8s_pod_name=\"p\",service_name=\"svc\"} 1\n");
  rcl.resource_labels_included.clear();
  rcl.resource_labels_excluded = {"service.*", "host.name"};
  EXPECT_EQ(series(RenderOnce(rcl, data())), "g{instance=\"i1\",job=\"svc\",k8s_pod_name=\"p\"} 1\n");
}

TEST(PrometheusNegotiation, EscapingParameter) {
  // What Prometheus 3 sends (with utf8 name validation).
  Negotiation n = Negotiate(
      "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,"
      "text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2");
  EXPECT_TRUE(n.open_metrics);
  EXPECT_EQ(n.om_escaping, Escaping::kAllowUtf8);
  EXPECT_EQ(n.text_escaping, Escaping::kAllowUtf8);
  EXPECT_TRUE(n.text_v1);
  n = Negotiate("text/plain;version=0.0.4;escaping=values");
  EXPECT_FALSE(n.open_metrics);
  EXPECT_FALSE(n.text_v1);
  EXPECT_EQ(n.text_escaping, Escaping::kValues);
  n = Negotiate("text/plain;version=0.0.4;escaping=nonsense");
  EXPECT_FALSE(n.text_escaping.has_value());
  EXPECT_FALSE(Negotiate("text/plain").text_escaping.has_value());
}

TEST_F(PrometheusExporterTest, Utf8NamesNegotiatedOverHttp) {
  Config cfg;
  cfg.translation_strategy = "NoUTF8EscapingWithSuffixes";
  StartWith(cfg);
  ASSERT_TRUE(
      exporter_->ConsumeMetrics(MetricsWith({}, [](mpb::ScopeMetrics* sm) { AddGauge(sm, "queue.depth", "", 4); }))
          .ok());
  auto utf8 = Get(exporter_->port(), "/metrics", {"Accept: text/plain;version=1.0.0;escaping=allow-utf-8"});
  EXPECT_NE(utf8.headers.find("Content-Type: text/plain; version=1.0.0; charset=utf-8; escaping=allow-utf-8"),
            std::string::npos)
      << utf8.headers;
  EXPECT_EQ(utf8.body, "# TYPE \"queue.depth\" gauge\n{\"queue.depth\"} 4\n");
  auto legacy = Get(exporter_->port(), "/metrics", {"Accept: text/plain;version=0.0.4"});
  EXPECT_NE(legacy.headers.find("Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"), std::string::npos)
      << legacy.headers;
  EXPECT_EQ(legacy.body, "# TYPE queue_depth gauge\nqueue_depth 4\n");
}

}  // namespace
}  // namespace outrigger::exporters::prometheus
