#include "receivers/prometheus/prometheus_receiver.h"

#include <gtest/gtest.h>

#include <cmath>
#include <mutex>

#include "absl/strings/str_format.h"
#include "collector/http/server.h"
#include "yaml-cpp/yaml.h"
#include "receivers/prometheus/scrape.h"
#include "tests/testutil/testutil.h"

namespace outrigger::receivers::prometheus {
namespace {

namespace mpb = opentelemetry::proto::metrics::v1;
using Req = opentelemetry::proto::collector::metrics::v1::ExportMetricsServiceRequest;

// One data point, flattened.
struct Pt {
  std::string name, kind;  // gauge, sum, histogram, summary
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

std::vector<Pt> Scrape(TargetState& st, const absl::StatusOr<std::string>& body, uint64_t t, ScrapeResult* r = nullptr) {
  pdata::MetricsBuilder b(st.Resource(), kScopeName, "");
  ScrapeResult res = st.Process(body, t, 0.01, &b);
  if (r) *r = res;
  return Flatten(b.Build());
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
                             "rpc{quantile=\"0.99\"} 0.9\n"
                             "rpc{quantile=\"0.5\"} 0.2\n"
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
  EXPECT_EQ(c->attrs, (std::map<std::string, std::string>{{"code", "200"}, {"env", "prod"}, {"exported_env", "scraped"}}));
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

TEST(PrometheusScrapeTest, HistogramWithoutInfBucketOrCount) {
  ScrapeConfig sc = Job("j");
  TargetState st(sc, "h:1", {});
  auto pts = Scrape(st, std::string("# TYPE x histogram\nx_bucket{le=\"1\"} 2\nx_bucket{le=\"2\"} 3\nx_count 7\nx_sum 1\n"
                                 "# TYPE y histogram\ny_bucket{le=\"1\"} 2\ny_bucket{le=\"+Inf\"} 4\n"),
                 kSec);
  const Pt* x = Find(pts, "x");
  ASSERT_NE(x, nullptr);
  EXPECT_EQ(x->buckets, (std::vector<uint64_t>{2, 1, 4}));  // +Inf implicit: count - 3
  const Pt* y = Find(pts, "y");
  ASSERT_NE(y, nullptr);
  EXPECT_EQ(y->count, 4u);  // no _count: the +Inf bucket
  EXPECT_EQ(y->buckets, (std::vector<uint64_t>{2, 2}));
}

TEST(PrometheusScrapeTest, StartTimesAndResetDetection) {
  ScrapeConfig sc = Job("j");
  TargetState st(sc, "h:1", {});
  auto body = [&](int v) {
    std::string s = absl::StrFormat("# TYPE c counter\nc %d\n# TYPE h histogram\nh_bucket{le=\"+Inf\"} %d\nh_count %d\n"
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
  Scrape(st, std::string("a 1\nb 2\n# TYPE c counter\nc 5\n# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_count 1\n"),
      kSec);
  // b disappears between two successful scrapes: one marker.
  ScrapeResult r;
  auto pts = Scrape(st, std::string("a 1\n# TYPE c counter\nc 6\n# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_count 1\n"),
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
  EXPECT_TRUE(b.tls.insecure);
}

TEST(PrometheusConfigTest, UnknownKeysAndInvalidValues) {
  config::Errors errors;
  Decode("config:\n  scrape_configs:\n    - job_name: a\n      relabel_configs: []\n"
         "      static_configs: [{targets: [\"h:1\"], lables: {}}]\n",
         &errors);
  ASSERT_EQ(errors.list().size(), 2u) << errors.Joined();
  EXPECT_NE(errors.Joined().find("relabel_configs"), std::string::npos);
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
    receiver_ = std::make_unique<PrometheusReceiver>(testutil::Settings(&telemetry_, "prometheus", Kind::kReceiver),
                                                     cfg_);
    receiver_->SetConsumers({nullptr, &rec_, nullptr});
    ASSERT_TRUE(receiver_->Start(host_).ok());
  }
  double Meter(const char* name) {
    return telemetry_.Value(name, {{"receiver", "prometheus"}, {"transport", "http"}});
  }
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
  EXPECT_GE(Meter("outrigger_receiver_accepted_metric_points_total"), 6);
  Serve(500, "oops");
  ASSERT_TRUE(WaitPoint("up", 0));
  ASSERT_TRUE(WaitPoint("requests_total", 0, /*stale=*/true));
  ASSERT_TRUE(WaitPoint("queue_depth", 0, /*stale=*/true));
  EXPECT_EQ(Meter("outrigger_receiver_malformed_requests_total"), 0);
  // Garbage: counted as malformed.
  Serve(200, "this is not { an exposition\n");
  ASSERT_TRUE(rec_.WaitFor([&](const std::vector<Pt>&) { return Meter("outrigger_receiver_malformed_requests_total") >= 1; }));
  EXPECT_GE(receiver_->scrapes(), 2);  // the third may still be finishing
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

}  // namespace
}  // namespace outrigger::receivers::prometheus
