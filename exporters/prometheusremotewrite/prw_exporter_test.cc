// The prometheusremotewrite exporter: translation (names, labels, types, histogram
// buckets, staleness), splitting, and sending to an in-process HTTP server that decodes
// snappy + WriteRequest and can answer 500/429/400.
#include <gtest/gtest.h>
#include <snappy.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <mutex>

#include "collector/component/registry.h"
#include "collector/http/server.h"
#include "exporters/prometheusremotewrite/translator.h"
#include "tests/testutil/config_util.h"
#include "tests/testutil/testutil.h"

namespace outrigger::exporters::prometheusremotewrite {
namespace {

namespace mpb = opentelemetry::proto::metrics::v1;
using Attrs = std::vector<std::pair<std::string, std::string>>;

using testutil::MetricsWith;
using testutil::SetStringAttrs;

mpb::Metric* NewMetric(mpb::ScopeMetrics* sm, const std::string& name, const std::string& unit) {
  auto* m = sm->add_metrics();
  m->set_name(name);
  m->set_unit(unit);
  m->set_description("help of " + name);
  return m;
}

mpb::NumberDataPoint* AddSum(mpb::ScopeMetrics* sm, const std::string& name, const std::string& unit, double v,
                             bool monotonic = true, bool delta = false, const Attrs& attrs = {},
                             uint64_t time_ns = 5'000'000'000) {
  auto* m = NewMetric(sm, name, unit);
  m->mutable_sum()->set_is_monotonic(monotonic);
  m->mutable_sum()->set_aggregation_temporality(delta ? mpb::AGGREGATION_TEMPORALITY_DELTA
                                                      : mpb::AGGREGATION_TEMPORALITY_CUMULATIVE);
  auto* p = m->mutable_sum()->add_data_points();
  p->set_as_double(v);
  p->set_time_unix_nano(time_ns);
  SetStringAttrs(p->mutable_attributes(), attrs);
  return p;
}

mpb::NumberDataPoint* AddGauge(mpb::ScopeMetrics* sm, const std::string& name, const std::string& unit, double v,
                               const Attrs& attrs = {}, uint64_t time_ns = 5'000'000'000) {
  auto* p = NewMetric(sm, name, unit)->mutable_gauge()->add_data_points();
  p->set_as_double(v);
  p->set_time_unix_nano(time_ns);
  SetStringAttrs(p->mutable_attributes(), attrs);
  return p;
}

// Labels of a series as "name=value,..." (sorted, as sent).
std::string LabelString(const ::prometheus::TimeSeries& ts) {
  std::string s;
  for (const auto& l : ts.labels()) {
    if (!s.empty()) s += ",";
    s += l.name() + "=" + l.value();
  }
  return s;
}

// label string -> samples
std::map<std::string, std::vector<std::pair<int64_t, double>>> ByLabels(
    const std::vector<::prometheus::TimeSeries>& v) {
  std::map<std::string, std::vector<std::pair<int64_t, double>>> out;
  for (const auto& ts : v) {
    for (const auto& s : ts.samples()) out[LabelString(ts)].emplace_back(s.timestamp(), s.value());
  }
  return out;
}

Config DefaultConfig() {
  Config c;
  c.endpoint = "http://127.0.0.1:1/api/v1/write";
  return c;
}

// ---- Translation -------------------------------------------------------------------

TEST(PrwTranslate, CounterGaugeNamesLabelsAndTargetInfo) {
  Config cfg = DefaultConfig();
  cfg.external_labels = {{"cluster", "c1"}, {"route", "ignored"}};
  auto d = MetricsWith(
      {{"service.name", "svc"}, {"service.namespace", "ns"}, {"service.instance.id", "i-1"}, {"host.name", "h"}},
      [](mpb::ScopeMetrics* sm) {
        AddSum(sm, "http.requests", "{request}", 7, true, false, {{"route", "/a"}, {"http.method", "GET"}});
        AddGauge(sm, "cpu.utilization", "1", 0.5);
        AddSum(sm, "queue.depth", "By", 3, /*monotonic=*/false);
      },
      "my.scope");
  Translation t = Translate(d, cfg, 0);
  EXPECT_EQ(t.points, 3u);
  EXPECT_EQ(t.dropped, 0u);
  auto m = ByLabels(t.series);
  // external_labels fill in only where the series has no such label (route).
  const std::string common = "cluster=c1,instance=i-1,job=ns/svc,otel_scope_name=my.scope,route=ignored";
  std::vector<std::pair<int64_t, double>> v7 = {{5000, 7}};
  EXPECT_EQ(m["__name__=http_requests_total,cluster=c1,http_method=GET,instance=i-1,job=ns/svc,"
              "otel_scope_name=my.scope,route=/a"],
            v7);
  EXPECT_EQ(m.count("__name__=cpu_utilization_ratio," + common), 1u);
  EXPECT_EQ(m.count("__name__=queue_depth_bytes," + common), 1u);
  EXPECT_EQ(m["__name__=target_info,cluster=c1,host_name=h,instance=i-1,job=ns/svc,route=ignored"],
            (std::vector<std::pair<int64_t, double>>{{5000, 1}}));
  EXPECT_EQ(m.size(), 4u) << testing::PrintToString(m);
  for (const auto& ts : t.series) {
    for (int i = 1; i < ts.labels_size(); ++i) EXPECT_LT(ts.labels(i - 1).name(), ts.labels(i).name());
  }
}

TEST(PrwTranslate, NamespaceSuffixesOffAndResourceToTelemetry) {
  Config cfg = DefaultConfig();
  cfg.metric_namespace = "app";
  cfg.add_metric_suffixes = false;
  cfg.resource_to_telemetry_conversion = true;
  auto d = MetricsWith({{"service.name", "svc"}, {"k8s.pod.name", "p"}}, [](mpb::ScopeMetrics* sm) {
    AddSum(sm, "http.requests", "ms", 1, true, false, {{"k8s.pod.name", "x"}});
  });
  auto m = ByLabels(Translate(d, cfg, 0).series);
  // The point's own attribute wins over the resource's.
  EXPECT_EQ(m.count("__name__=app_http_requests,job=svc,k8s_pod_name=x,service_name=svc"), 1u)
      << testing::PrintToString(m);
  EXPECT_EQ(m.count("__name__=app_target_info,job=svc,k8s_pod_name=p"), 1u);
}

TEST(PrwTranslate, HistogramBucketsAreCumulativeWithInf) {
  Config cfg = DefaultConfig();
  cfg.send_metadata = true;
  auto d = MetricsWith({{"service.name", "svc"}}, [](mpb::ScopeMetrics* sm) {
    auto* h = NewMetric(sm, "latency", "s")->mutable_histogram();
    h->set_aggregation_temporality(mpb::AGGREGATION_TEMPORALITY_CUMULATIVE);
    auto* p = h->add_data_points();
    p->set_time_unix_nano(1'234'567'890);
    for (double b : {0.5, 1.0, 2.5}) p->add_explicit_bounds(b);
    for (uint64_t c : {1, 2, 3, 4}) p->add_bucket_counts(c);
    p->set_count(10);
    p->set_sum(12.5);
  });
  Translation t = Translate(d, cfg, 0);
  auto m = ByLabels(t.series);
  auto v = [&](const std::string& labels) {
    auto it = m.find(labels);
    return it == m.end() || it->second.size() != 1 ? -1.0 : it->second[0].second;
  };
  EXPECT_EQ(v("__name__=latency_seconds_bucket,job=svc,le=0.5"), 1);
  EXPECT_EQ(v("__name__=latency_seconds_bucket,job=svc,le=1"), 3);
  EXPECT_EQ(v("__name__=latency_seconds_bucket,job=svc,le=2.5"), 6);
  EXPECT_EQ(v("__name__=latency_seconds_bucket,job=svc,le=+Inf"), 10);
  EXPECT_EQ(v("__name__=latency_seconds_sum,job=svc"), 12.5);
  EXPECT_EQ(v("__name__=latency_seconds_count,job=svc"), 10);
  EXPECT_EQ(m.size(), 6u);
  EXPECT_EQ(m["__name__=latency_seconds_count,job=svc"][0].first, 1234);  // ms
  ASSERT_EQ(t.metadata.size(), 1u);
  EXPECT_EQ(t.metadata[0].type(), ::prometheus::MetricMetadata::HISTOGRAM);
  EXPECT_EQ(t.metadata[0].metric_family_name(), "latency_seconds");
  EXPECT_EQ(t.metadata[0].help(), "help of latency");
}

TEST(PrwTranslate, Summary) {
  auto d = MetricsWith({}, [](mpb::ScopeMetrics* sm) {
    auto* p = NewMetric(sm, "rpc.duration", "ms")->mutable_summary()->add_data_points();
    p->set_time_unix_nano(9'000'000);
    p->set_count(4);
    p->set_sum(40);
    auto* q = p->add_quantile_values();
    q->set_quantile(0.99);
    q->set_value(30);
  });
  auto m = ByLabels(Translate(d, DefaultConfig(), 0).series);
  EXPECT_EQ(m["__name__=rpc_duration_milliseconds,quantile=0.99"], (std::vector<std::pair<int64_t, double>>{{9, 30}}));
  EXPECT_EQ(m["__name__=rpc_duration_milliseconds_sum"].at(0).second, 40);
  EXPECT_EQ(m["__name__=rpc_duration_milliseconds_count"].at(0).second, 4);
  EXPECT_EQ(m.size(), 3u);
}

TEST(PrwTranslate, NoRecordedValueIsStaleNaN) {
  auto d = MetricsWith({}, [](mpb::ScopeMetrics* sm) {
    AddGauge(sm, "temp", "Cel", 0)->set_flags(1);
    auto* h = NewMetric(sm, "lat", "s")->mutable_histogram();
    h->set_aggregation_temporality(mpb::AGGREGATION_TEMPORALITY_CUMULATIVE);
    auto* p = h->add_data_points();
    p->set_flags(1);
    p->add_explicit_bounds(1);
  });
  Translation t = Translate(d, DefaultConfig(), 0);
  ASSERT_EQ(t.series.size(), 4u);  // temp, bucket le=1, bucket +Inf, count (no sum)
  for (const auto& ts : t.series) {
    ASSERT_EQ(ts.samples_size(), 1);
    double v = ts.samples(0).value();
    uint64_t bits;
    std::memcpy(&bits, &v, sizeof bits);
    EXPECT_EQ(bits, 0x7ff0000000000002ULL) << LabelString(ts);
  }
  EXPECT_TRUE(IsStaleNaN(StaleNaN()));
  EXPECT_FALSE(IsStaleNaN(std::nan("")));
}

TEST(PrwTranslate, DeltaAndExponentialAreDroppedAndCounted) {
  auto d = MetricsWith({}, [](mpb::ScopeMetrics* sm) {
    AddSum(sm, "delta.counter", "", 1, true, /*delta=*/true);
    auto* h = NewMetric(sm, "delta.hist", "")->mutable_histogram();
    h->set_aggregation_temporality(mpb::AGGREGATION_TEMPORALITY_DELTA);
    h->add_data_points()->set_count(1);
    NewMetric(sm, "exp", "")->mutable_exponential_histogram()->add_data_points()->set_count(1);
    AddGauge(sm, "ok", "", 1);
  });
  Translation t = Translate(d, DefaultConfig(), 0);
  EXPECT_EQ(t.dropped, 3u);
  EXPECT_EQ(t.points, 1u);
  ASSERT_EQ(t.series.size(), 1u);
  EXPECT_EQ(LabelString(t.series[0]), "__name__=ok");
  ASSERT_EQ(t.drop_reasons.size(), 3u);
  EXPECT_EQ(t.drop_reasons[0].first, "delta.counter");
}

TEST(PrwTranslate, SameSeriesTwiceIsOneSeriesInTimeOrder) {
  auto d = MetricsWith({}, [](mpb::ScopeMetrics* sm) {
    AddGauge(sm, "g", "", 2, {}, 2'000'000'000);
    AddGauge(sm, "g", "", 1, {}, 1'000'000'000);
  });
  Translation t = Translate(d, DefaultConfig(), 0);
  ASSERT_EQ(t.series.size(), 1u);
  ASSERT_EQ(t.series[0].samples_size(), 2);
  EXPECT_EQ(t.series[0].samples(0).timestamp(), 1000);
  EXPECT_EQ(t.series[0].samples(1).timestamp(), 2000);
}

// ---- Splitting -------------------------------------------------------------------

TEST(PrwSplit, BySamplesAndBytes) {
  auto d = MetricsWith({}, [](mpb::ScopeMetrics* sm) {
    for (int i = 0; i < 25; ++i) AddGauge(sm, "g", "", i, {{"i", std::to_string(i)}});
  });
  auto reqs = Split(Translate(d, DefaultConfig(), 0), 10, 3000000);
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(reqs[0].timeseries_size(), 10);
  EXPECT_EQ(reqs[1].timeseries_size(), 10);
  EXPECT_EQ(reqs[2].timeseries_size(), 5);

  auto big = MetricsWith({}, [](mpb::ScopeMetrics* sm) {
    for (int i = 0; i < 20; ++i) AddGauge(sm, "g", "", i, {{"i", std::to_string(i)}, {"pad", std::string(200, 'x')}});
  });
  reqs = Split(Translate(big, DefaultConfig(), 0), 2000, 1100);
  EXPECT_GT(reqs.size(), 4u);
  size_t total = 0;
  for (const auto& r : reqs) {
    EXPECT_LE(r.ByteSizeLong(), 1100u);
    total += static_cast<size_t>(r.timeseries_size());
  }
  EXPECT_EQ(total, 20u);

  // One series with more samples than a request holds continues in the next.
  auto many = MetricsWith({}, [](mpb::ScopeMetrics* sm) {
    for (int i = 0; i < 5; ++i) AddGauge(sm, "g", "", i, {}, static_cast<uint64_t>(i + 1) * 1'000'000'000);
  });
  reqs = Split(Translate(many, DefaultConfig(), 0), 2, 3000000);
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(reqs[0].timeseries(0).samples_size(), 2);
  EXPECT_EQ(reqs[2].timeseries(0).samples_size(), 1);
  EXPECT_EQ(LabelString(reqs[2].timeseries(0)), "__name__=g");
}

// ---- Sending -----------------------------------------------------------------------

// A remote write receiver in process.
class FakeReceiver {
 public:
  explicit FakeReceiver(testutil::TestHost& host) {
    auto s =
        http::Server::Listen(host.IoContext(), "127.0.0.1:0", 16 << 20, [this](http::Request& r) { return Handle(r); });
    EXPECT_TRUE(s.ok()) << s.status();
    server_ = std::move(*s);
  }
  ~FakeReceiver() { server_->Stop(); }
  std::string Url() const { return "http://127.0.0.1:" + std::to_string(server_->port()) + "/api/v1/write"; }

  // The next `n` requests are answered with `status` (and the body/Retry-After).
  void FailNext(int n, int status, std::string body = "", std::string retry_after = "") {
    std::lock_guard<std::mutex> lock(mu_);
    fail_n_ = n;
    fail_status_ = status;
    fail_body_ = std::move(body);
    retry_after_ = std::move(retry_after);
  }
  int Requests() {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }
  std::vector<::prometheus::WriteRequest> Accepted() {
    std::lock_guard<std::mutex> lock(mu_);
    return accepted_;
  }
  std::map<std::string, std::string> LastHeaders() {
    std::lock_guard<std::mutex> lock(mu_);
    return headers_;
  }

 private:
  http::Response Handle(http::Request& r) {
    std::lock_guard<std::mutex> lock(mu_);
    ++requests_;
    headers_ = r.headers;
    http::Response resp;
    if (fail_n_ > 0) {
      --fail_n_;
      resp.status = fail_status_;
      resp.body = fail_body_;
      if (!retry_after_.empty()) resp.headers.emplace_back("Retry-After", retry_after_);
      return resp;
    }
    std::string raw;
    ::prometheus::WriteRequest wr;
    if (r.method != "POST" || r.path != "/api/v1/write" || !snappy::Uncompress(r.body.data(), r.body.size(), &raw) ||
        !wr.ParseFromString(raw)) {
      resp.status = 400;
      resp.body = "bad request";
      return resp;
    }
    accepted_.push_back(std::move(wr));
    resp.status = 204;
    return resp;
  }

  std::unique_ptr<http::Server> server_;
  std::mutex mu_;
  int requests_ = 0;
  int fail_n_ = 0;
  int fail_status_ = 0;
  std::string fail_body_, retry_after_;
  std::vector<::prometheus::WriteRequest> accepted_;
  std::map<std::string, std::string> headers_;
};

class PrwExporterTest : public ::testing::Test {
 protected:
  void SetUp() override { RegisterBuiltins(registry_); }
  void TearDown() override {
    if (exporter_) {
      EXPECT_TRUE(exporter_->Shutdown(absl::Now() + absl::Seconds(5)).ok());
    }
  }
  void MakeExporter(const std::string& extra_yaml) {
    std::string yaml = "endpoint: " + receiver_.Url() +
                       "\nheaders: {X-Scope-OrgID: team-a}\n"
                       "retry_on_failure: {initial_interval: 10ms, max_interval: 50ms, max_elapsed_time: 5s}\n" +
                       extra_yaml;
    const auto* f = static_cast<const ExporterFactory*>(registry_.Find(Kind::kExporter, "prometheusremotewrite"));
    ASSERT_NE(f, nullptr);
    auto cfg = f->CreateDefaultConfig();
    config::Errors errors;
    config::Node node(YAML::Load(yaml), "exporters.prometheusremotewrite", &errors);
    cfg->Decode(node);
    node.Finish();
    ASSERT_TRUE(errors.empty()) << errors.Joined();
    ASSERT_TRUE(cfg->Validate().ok()) << cfg->Validate();
    auto e = f->CreateExporter(testutil::Settings(&telemetry_, "prometheusremotewrite", Kind::kExporter), *cfg);
    ASSERT_TRUE(e.ok());
    exporter_ = std::move(*e);
    ASSERT_TRUE(exporter_->Start(host_).ok());
  }
  double Exported(const char* what) { return telemetry_.Value(what, {{"exporter", "prometheusremotewrite"}}); }
  bool WaitFor(const std::function<bool()>& pred) { return testutil::WaitFor(pred); }
  static pdata::Metrics Gauges(int n) {
    return MetricsWith({{"service.name", "svc"}}, [n](mpb::ScopeMetrics* sm) {
      for (int i = 0; i < n; ++i) AddGauge(sm, "g", "", i, {{"i", std::to_string(i)}});
    });
  }
  static size_t SeriesCount(const std::vector<::prometheus::WriteRequest>& v) {
    size_t n = 0;
    for (const auto& r : v) n += static_cast<size_t>(r.timeseries_size());
    return n;
  }

  Registry registry_;
  Telemetry telemetry_;
  testutil::TestHost host_;
  FakeReceiver receiver_{host_};
  std::unique_ptr<Exporter> exporter_;
};

TEST_F(PrwExporterTest, SendsSnappyProtobufWithHeadersAndSplits) {
  MakeExporter("max_samples_per_request: 4\n");
  ASSERT_TRUE(exporter_->ConsumeMetrics(Gauges(10)).ok());
  ASSERT_TRUE(WaitFor([&] { return Exported("outrigger_exporter_sent_metric_points_total") == 10; }))
      << Exported("outrigger_exporter_sent_metric_points_total");
  auto acc = receiver_.Accepted();
  ASSERT_EQ(acc.size(), 3u);  // 10 gauges: 4 + 4 + 2 series
  EXPECT_EQ(SeriesCount(acc), 10u);
  auto h = receiver_.LastHeaders();
  EXPECT_EQ(h["content-encoding"], "snappy");
  EXPECT_EQ(h["content-type"], "application/x-protobuf");
  EXPECT_EQ(h["x-prometheus-remote-write-version"], "0.1.0");
  EXPECT_EQ(h["x-scope-orgid"], "team-a");
  EXPECT_EQ(h["user-agent"].rfind("outrigger/", 0), 0u) << h["user-agent"];
}

TEST_F(PrwExporterTest, ServerErrorsAndTooManyRequestsAreRetried) {
  MakeExporter("");
  receiver_.FailNext(1, 500, "boom");
  ASSERT_TRUE(exporter_->ConsumeMetrics(Gauges(3)).ok());
  ASSERT_TRUE(WaitFor([&] { return Exported("outrigger_exporter_sent_metric_points_total") == 3; }));
  receiver_.FailNext(2, 429, "slow down", "0");
  ASSERT_TRUE(exporter_->ConsumeMetrics(Gauges(2)).ok());
  ASSERT_TRUE(WaitFor([&] { return Exported("outrigger_exporter_sent_metric_points_total") == 5; }));
  EXPECT_EQ(Exported("outrigger_exporter_retries_total"), 3);
  EXPECT_EQ(receiver_.Requests(), 5);
  EXPECT_EQ(SeriesCount(receiver_.Accepted()), 5u);
  EXPECT_EQ(Exported("outrigger_exporter_dropped_metric_points_total"), 0);
}

TEST_F(PrwExporterTest, BadRequestIsPermanent) {
  MakeExporter("");
  receiver_.FailNext(1, 400, "out of order sample");
  ASSERT_TRUE(exporter_->ConsumeMetrics(Gauges(3)).ok());
  ASSERT_TRUE(WaitFor([&] { return Exported("outrigger_exporter_dropped_metric_points_total") == 3; }))
      << Exported("outrigger_exporter_dropped_metric_points_total");
  EXPECT_EQ(Exported("outrigger_exporter_retries_total"), 0);
  EXPECT_EQ(receiver_.Requests(), 1);
}

TEST_F(PrwExporterTest, UntranslatablePointsAreCountedAsDropped) {
  MakeExporter("");
  ASSERT_TRUE(exporter_
                  ->ConsumeMetrics(MetricsWith({},
                                               [](mpb::ScopeMetrics* sm) {
                                                 AddSum(sm, "delta.counter", "", 1, true, /*delta=*/true);
                                                 AddGauge(sm, "ok", "", 1);
                                               }))
                  .ok());
  ASSERT_TRUE(WaitFor([&] { return SeriesCount(receiver_.Accepted()) == 1; }));
  ASSERT_TRUE(WaitFor([&] { return Exported("outrigger_exporter_dropped_metric_points_total") == 1; }))
      << Exported("outrigger_exporter_dropped_metric_points_total");
  // The dropped point is not also counted as sent: only the gauge was.
  EXPECT_EQ(Exported("outrigger_exporter_sent_metric_points_total"), 1);
}

// A receiver that answers nothing until `gate` requests are in flight at once: only
// concurrent senders get through.
class GatedReceiver {
 public:
  GatedReceiver(testutil::TestHost& host, size_t gate) : gate_(gate) {
    auto s = http::Server::ListenAsync(
        host.IoContext(), "127.0.0.1:0", http::ServerOptions{}, [this](http::Request&& r, http::Respond respond) {
          std::vector<http::Respond> release;
          {
            std::lock_guard<std::mutex> lock(mu_);
            std::string raw;
            ::prometheus::WriteRequest wr;
            if (snappy::Uncompress(r.body.data(), r.body.size(), &raw) && wr.ParseFromString(raw)) {
              series_ += static_cast<size_t>(wr.timeseries_size());
            }
            held_.push_back(std::move(respond));
            max_held_ = std::max(max_held_, held_.size());
            if (open_ || held_.size() >= gate_) {
              open_ = true;
              release.swap(held_);
            }
          }
          for (auto& f : release) {
            http::Response ok;
            ok.status = 204;
            f(std::move(ok));
          }
        });
    EXPECT_TRUE(s.ok()) << s.status();
    server_ = std::move(*s);
  }
  ~GatedReceiver() { server_->Stop(); }
  std::string Url() const { return "http://127.0.0.1:" + std::to_string(server_->port()) + "/api/v1/write"; }
  size_t Series() {
    std::lock_guard<std::mutex> lock(mu_);
    return series_;
  }
  size_t MaxHeld() {
    std::lock_guard<std::mutex> lock(mu_);
    return max_held_;
  }

 private:
  const size_t gate_;
  std::unique_ptr<http::Server> server_;
  std::mutex mu_;
  std::vector<http::Respond> held_;
  size_t max_held_ = 0;
  size_t series_ = 0;
  bool open_ = false;
};

TEST_F(PrwExporterTest, MaxBatchRequestParallelismSendsABatchsRequestsConcurrently) {
  GatedReceiver gated(host_, 3);
  const auto* f = static_cast<const ExporterFactory*>(registry_.Find(Kind::kExporter, "prometheusremotewrite"));
  auto cfg = f->CreateDefaultConfig();
  config::Errors errors;
  config::Node node(YAML::Load("endpoint: " + gated.Url() +
                               "\nmax_samples_per_request: 3\nmax_batch_request_parallelism: 3\n"
                               "remote_write_queue: {num_consumers: 1, queue_size: 10}\n"),
                    "exporters.prometheusremotewrite", &errors);
  cfg->Decode(node);
  node.Finish();
  ASSERT_TRUE(errors.empty()) << errors.Joined();
  ASSERT_TRUE(cfg->Validate().ok()) << cfg->Validate();
  auto e = f->CreateExporter(testutil::Settings(&telemetry_, "prometheusremotewrite", Kind::kExporter), *cfg);
  ASSERT_TRUE(e.ok());
  exporter_ = std::move(*e);
  ASSERT_TRUE(exporter_->Start(host_).ok());
  ASSERT_TRUE(exporter_->ConsumeMetrics(Gauges(9)).ok());  // 3 requests of 3
  ASSERT_TRUE(WaitFor([&] { return Exported("outrigger_exporter_sent_metric_points_total") == 9; }));
  EXPECT_EQ(gated.Series(), 9u);
  EXPECT_EQ(gated.MaxHeld(), 3u);
  EXPECT_EQ(Exported("outrigger_exporter_retries_total"), 0);
}

TEST(PrwTranslate, TranslationStrategiesScopeInfoTargetInfoAndCreated) {
  auto data = [] {
    return MetricsWith(
        {{"service.name", "svc"}, {"service.instance.id", "i"}, {"host.name", "h"}},
        [](mpb::ScopeMetrics* sm) {
          auto* p = AddSum(sm, "http.requests", "{request}", 7, true, false, {{"http.method", "GET"}});
          p->set_start_time_unix_nano(2'000'000'000);
        },
        "my.scope");
  };
  Config cfg = DefaultConfig();
  cfg.translation_strategy = "NoUTF8EscapingWithSuffixes";
  auto m = ByLabels(Translate(data(), cfg, 0).series);
  EXPECT_EQ(m.count("__name__=http.requests_total,http.method=GET,instance=i,job=svc,otel_scope_name=my.scope"), 1u)
      << testing::PrintToString(m);
  EXPECT_EQ(m.count("__name__=target_info,host.name=h,instance=i,job=svc"), 1u) << testing::PrintToString(m);

  cfg = DefaultConfig();
  cfg.translation_strategy = "UnderscoreEscapingWithoutSuffixes";
  cfg.add_metric_suffixes = true;  // ignored: translation_strategy is set
  cfg.disable_scope_info = true;
  cfg.target_info = false;
  cfg.export_created_metric = true;
  cfg.metric_namespace = "test-space";
  m = ByLabels(Translate(data(), cfg, 0).series);
  EXPECT_EQ(m["__name__=test_space_http_requests,http_method=GET,instance=i,job=svc"],
            (std::vector<std::pair<int64_t, double>>{{5000, 7}}));
  // The start time in milliseconds, at the point's time.
  EXPECT_EQ(m["__name__=test_space_http_requests_created,http_method=GET,instance=i,job=svc"],
            (std::vector<std::pair<int64_t, double>>{{5000, 2000}}));
  EXPECT_EQ(m.size(), 2u) << testing::PrintToString(m);  // no target_info

  cfg = DefaultConfig();
  cfg.resource_to_telemetry_conversion = true;
  cfg.exclude_service_attributes = true;
  m = ByLabels(Translate(data(), cfg, 0).series);
  EXPECT_EQ(
      m.count("__name__=http_requests_total,host_name=h,http_method=GET,instance=i,job=svc,otel_scope_name=my.scope"),
      1u)
      << testing::PrintToString(m);
}

TEST(PrwConfig, UpstreamOptions) {
  auto decode = [](const std::string& yaml, Config* c) {
    config::Errors errors;
    (void)testutil::DecodeYaml("endpoint: http://127.0.0.1:9090/api/v1/write\n" + yaml, c, &errors);
    return errors.Joined();
  };
  Config c;
  EXPECT_EQ(decode("remote_write_queue: {enabled: true, queue_size: 50, num_consumers: 3}\n"
                   "max_batch_request_parallelism: 7\ntarget_info: {enabled: false}\n"
                   "export_created_metric: {enabled: true}\nprotobuf_message: prometheus.WriteRequest\n"
                   "disable_scope_info: true\ntranslation_strategy: NoTranslation\n",
                   &c),
            "");
  EXPECT_TRUE(c.Validate().ok()) << c.Validate();
  EXPECT_EQ(c.helper.sending_queue.queue_size, 50);
  EXPECT_EQ(c.helper.sending_queue.sizer, "requests");
  EXPECT_EQ(c.helper.sending_queue.num_consumers, 3);
  EXPECT_EQ(c.max_batch_request_parallelism, 7);
  EXPECT_FALSE(c.target_info);
  EXPECT_TRUE(c.export_created_metric);
  EXPECT_TRUE(c.disable_scope_info);
  EXPECT_EQ(c.Strategy(), prom::TranslationStrategy::kNoTranslation);

  Config d;  // upstream's defaults for the keys left out
  EXPECT_EQ(decode("remote_write_queue: {enabled: false}\n", &d), "");
  EXPECT_FALSE(d.helper.sending_queue.enabled);
  EXPECT_EQ(d.helper.sending_queue.queue_size, kDefaultRemoteWriteQueueSize);
  EXPECT_EQ(d.helper.sending_queue.num_consumers, kDefaultRemoteWriteNumConsumers);

  Config q;
  EXPECT_EQ(decode("remote_write_queue: {queue_size: 0}\n", &q), "");
  EXPECT_NE(q.Validate().message().find("a 0 size queue"), std::string_view::npos);

  Config v2;
  EXPECT_EQ(decode("protobuf_message: io.prometheus.write.v2.Request\n", &v2), "");
  EXPECT_NE(v2.Validate().message().find("remote write 2.0) is not supported"), std::string_view::npos);

  Config gz;
  EXPECT_EQ(decode("compression: gzip\n", &gz), "");
  EXPECT_NE(gz.Validate().message().find("snappy"), std::string_view::npos);
  Config sn;
  EXPECT_EQ(decode("compression: snappy\n", &sn), "");
  EXPECT_TRUE(sn.Validate().ok());
  for (const char* yaml : {"wal: {directory: ./prom_rw}\n", "http: {endpoint: x}\n",
                           "remote_write_queue: {include_metadata_keys: [x-org-id]}\n",
                           "remote_write_queue: {enabled: true}\nsending_queue: {enabled: true}\n",
                           "remote_write_queue: {queue_size: 5}\nsending_queue: {num_consumers: 1}\n"}) {
    Config u;
    EXPECT_NE(decode(yaml, &u).find("is not supported"), std::string::npos) << yaml;
  }
}

TEST(PrwConfig, Validation) {
  Config c;
  EXPECT_FALSE(c.Validate().ok());  // endpoint required
  c.endpoint = "127.0.0.1:9090";
  EXPECT_FALSE(c.Validate().ok());  // not a URL
  c.endpoint = "http://127.0.0.1:9090/api/v1/write";
  EXPECT_TRUE(c.Validate().ok());
  c.external_labels = {{"__x", "y"}};  // allowed, as upstream documents
  EXPECT_TRUE(c.Validate().ok());
  c.endpoint = "HTTPS://Prometheus.example:9090/api/v1/write";  // the scheme in any case, as Go's URL parser
  EXPECT_TRUE(c.Validate().ok());
  c.endpoint = "http:///api/v1/write";
  EXPECT_FALSE(c.Validate().ok());  // no host
  c.endpoint = "http://127.0.0.1:9090/api/v1/write";
  c.external_labels = {{"cluster", "y"}};
  c.max_samples_per_request = 0;
  EXPECT_FALSE(c.Validate().ok());
}

}  // namespace
}  // namespace outrigger::exporters::prometheusremotewrite
