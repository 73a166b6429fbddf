// Benchmarks of the Prometheus paths at 100,000 series (goals: <= 100 ms each on one
// core, see bench/README.md "Prometheus"):
//
//  - scrape side: receivers/prometheus TargetState::Process of a 100,000-series text
//    exposition into a MetricsBuilder, then Build() (and freeing the Metrics), as one
//    scrape of one target does in steady state; Parse alone, to split the cost.
//  - exporter side: exporters/prometheus Accumulator::Add of the same 100,000 series
//    as OTLP, Accumulator::Render as text 0.0.4 and OpenMetrics 1.0, and the whole
//    /metrics answer as Prometheus asks for it (Accept-Encoding: gzip).
//
// A "series" is a Prometheus series: one sample line of the exposition (a histogram with
// 10 finite buckets is 13 series: 11 `_bucket`, `_sum`, `_count`). The mix, generated
// here: 40% counters, 30% gauges, 30% histograms (by series); 4 labels per series
// (service, method, code, path) plus `le`.
//
// `prometheus_bench --rss=<scrape|add|render-text|render-om|handle>` runs one operation
// once, outside Google Benchmark, and prints the peak RSS it took (VmHWM reset after the
// input was made, via /proc/self/clear_refs).

#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "collector/common/strings.h"
#include "collector/http/server.h"
#include "collector/pdata/builders.h"
#include "collector/telemetry/telemetry.h"
#include "exporters/prometheus/accumulator.h"
#include "exporters/prometheus/config.h"
#include "exporters/prometheus/prometheus_exporter.h"
#include "receivers/prometheus/parser.h"
#include "receivers/prometheus/scrape.h"
#include "spdlog/spdlog.h"

namespace {

namespace rp = outrigger::receivers::prometheus;
namespace ep = outrigger::exporters::prometheus;
using outrigger::StrAppend;
using outrigger::StrCat;
using outrigger::pdata::Attributes;

constexpr size_t kSeries = 100000;
constexpr uint64_t kNow = 1700000000000000000ull;
constexpr double kBounds[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};  // 10 finite buckets
constexpr size_t kNumBounds = std::size(kBounds);
constexpr size_t kHistogramLines = kNumBounds + 3;  // + le="+Inf", _sum, _count
constexpr const char* kMethods[] = {"GET", "POST", "PUT", "DELETE"};
constexpr const char* kCodes[] = {"200", "201", "404", "500", "503"};

// Per 100 series: 40 counter, 30 gauge and 30 histogram series (2.3 histograms).
// Families hold 200 label sets (counters, gauges) or 20 (histograms: 260 series).
constexpr size_t kCounterFamily = 200, kGaugeFamily = 200, kHistogramFamily = 20;

// The label set `j` of a family: 4 labels, values that vary like real ones.
Attributes LabelSet(size_t j) {
  return {{"code", kCodes[j % std::size(kCodes)]},
          {"method", kMethods[(j / 5) % std::size(kMethods)]},
          {"path", StrCat("/api/v1/resource", j)},
          {"service", StrCat("svc", j % 8)}};
}

// One family of the workload; the same description drives the text and the OTLP form.
struct FamilySpec {
  enum Kind { kCounter, kGauge, kHistogram } kind;
  std::string name;
  size_t label_sets;
};

std::vector<FamilySpec> Families(size_t series) {
  std::vector<FamilySpec> out;
  size_t c = 0, g = 0, h = 0;  // series of each kind so far
  for (size_t i = 0; c + g + h < series; ++i) {
    // Keep 40/30/30 (by series): add to whichever kind is furthest behind.
    const double total = static_cast<double>(c + g + h) + 1;
    const double dc = 0.4 * total - static_cast<double>(c), dg = 0.3 * total - static_cast<double>(g),
                 dh = 0.3 * total - static_cast<double>(h);
    const size_t left = series - (c + g + h);
    if (dc >= dg && dc >= dh) {
      size_t n = std::min(kCounterFamily, left);
      out.push_back({FamilySpec::kCounter, StrCat("app_requests_", i, "_total"), n});
      c += n;
    } else if (dg >= dh) {
      size_t n = std::min(kGaugeFamily, left);
      out.push_back({FamilySpec::kGauge, StrCat("app_inflight_", i), n});
      g += n;
    } else {
      size_t n = std::max<size_t>(1, std::min(kHistogramFamily, left / kHistogramLines));
      out.push_back({FamilySpec::kHistogram, StrCat("app_latency_", i, "_seconds"), n});
      h += n * kHistogramLines;
    }
  }
  return out;
}

void AppendLabels(const Attributes& attrs, std::string* out) {
  bool first = true;
  for (const auto& [k, v] : attrs) {
    if (!first) out->push_back(',');
    first = false;
    StrAppend(out, k, "=\"", v, "\"");
  }
}

// Cumulative bucket counts of histogram series `j` (finite buckets; +Inf = count).
std::vector<uint64_t> CumulativeBuckets(size_t j) {
  std::vector<uint64_t> out;
  uint64_t cum = 0;
  for (size_t b = 0; b < kNumBounds; ++b) {
    cum += (j + b * 7) % 50;
    out.push_back(cum);
  }
  return out;
}

// The exposition one target answers (text 0.0.4).
struct Exposition {
  std::string text;
  size_t samples = 0;
};

Exposition MakeExposition(size_t series) {
  Exposition e;
  e.text.reserve(series * 90);
  for (const FamilySpec& f : Families(series)) {
    const char* type = f.kind == FamilySpec::kCounter ? "counter"
                       : f.kind == FamilySpec::kGauge ? "gauge"
                                                      : "histogram";
    StrAppend(&e.text, "# HELP ", f.name, " Synthetic ", type, " of the benchmark.\n# TYPE ", f.name, " ", type, "\n");
    for (size_t j = 0; j < f.label_sets; ++j) {
      const Attributes attrs = LabelSet(j);
      std::string labels;
      AppendLabels(attrs, &labels);
      switch (f.kind) {
        case FamilySpec::kCounter:
          StrAppend(&e.text, f.name, "{", labels, "} ", 1000 + j * 37, "\n");
          ++e.samples;
          break;
        case FamilySpec::kGauge:
          StrAppend(&e.text, f.name, "{", labels, "} ", static_cast<double>(j) * 0.25 + 0.125, "\n");
          ++e.samples;
          break;
        case FamilySpec::kHistogram: {
          const auto cum = CumulativeBuckets(j);
          const uint64_t count = cum.back() + j % 5;
          for (size_t b = 0; b < kNumBounds; ++b) {
            StrAppend(&e.text, f.name, "_bucket{", labels, ",le=\"", kBounds[b], "\"} ", cum[b], "\n");
          }
          StrAppend(&e.text, f.name, "_bucket{", labels, ",le=\"+Inf\"} ", count, "\n");
          StrAppend(&e.text, f.name, "_sum{", labels, "} ", static_cast<double>(count) * 0.0625, "\n");
          StrAppend(&e.text, f.name, "_count{", labels, "} ", count, "\n");
          e.samples += kHistogramLines;
          break;
        }
      }
    }
  }
  return e;
}

// The same series as OTLP (one resource, one scope), as a pipeline hands them to the
// prometheus exporter: cumulative sums, gauges, cumulative explicit-bucket histograms.
outrigger::pdata::Metrics MakeOtlp(size_t series) {
  outrigger::pdata::MetricsBuilder b(
      {{"service.name", "bench"}, {"service.instance.id", "bench-0"}, {"host.name", "bench-host"}}, "bench", "1.0");
  for (const FamilySpec& f : Families(series)) {
    // OTLP names without the Prometheus suffixes the exporter adds.
    std::string name = f.name;
    if (f.kind == FamilySpec::kCounter) name.resize(name.size() - 6);    // _total
    if (f.kind == FamilySpec::kHistogram) name.resize(name.size() - 8);  // _seconds
    const std::string unit = f.kind == FamilySpec::kHistogram ? "s" : "";
    for (size_t j = 0; j < f.label_sets; ++j) {
      const Attributes attrs = LabelSet(j);
      switch (f.kind) {
        case FamilySpec::kCounter:
          b.Sum(name, unit, attrs, static_cast<double>(1000 + j * 37), kNow - 60000000000ull, kNow, true,
                outrigger::pdata::Temporality::kCumulative);
          break;
        case FamilySpec::kGauge:
          b.Gauge(name, unit, attrs, static_cast<double>(j) * 0.25 + 0.125, kNow);
          break;
        case FamilySpec::kHistogram: {
          const auto cum = CumulativeBuckets(j);
          outrigger::pdata::HistogramPoint p;
          p.has_min_max = false;
          p.bounds.assign(std::begin(kBounds), std::end(kBounds));
          uint64_t prev = 0;
          for (uint64_t c : cum) {
            p.bucket_counts.push_back(c - prev);
            prev = c;
          }
          p.count = cum.back() + j % 5;
          p.bucket_counts.push_back(p.count - prev);
          p.sum = static_cast<double>(p.count) * 0.0625;
          b.Histogram(name, unit, attrs, p, kNow - 60000000000ull, kNow, outrigger::pdata::Temporality::kCumulative);
          break;
        }
      }
    }
  }
  return b.Build();
}

const Exposition& GetExposition() {
  static const Exposition e = MakeExposition(kSeries);
  return e;
}

rp::ScrapeConfig BenchScrapeConfig() {
  rp::ScrapeConfig sc;
  sc.job_name = "bench";
  sc.sample_limit = 0;  // 100,000 series: above the default limit (50,000), which refuses them unparsed
  return sc;
}

// ---- Scrape side -------------------------------------------------------------------

// One steady-state scrape: every series was in the previous scrape too (the state was
// primed by one untimed Process). Includes Build() and freeing the Metrics.
void BM_ScrapeConvert_100k(benchmark::State& state) {
  const Exposition& e = GetExposition();
  const rp::ScrapeConfig sc = BenchScrapeConfig();
  rp::TargetState target(sc, "127.0.0.1:9100", {});
  const absl::StatusOr<std::string> body = e.text;
  {
    outrigger::pdata::MetricsBuilder b(target.Resource(), rp::kScopeName, "");
    auto r = target.Process(body, kNow, 0.01, &b);
    if (!r.status.ok()) {
      state.SkipWithError(std::string(r.status.message()).c_str());
      return;
    }
  }
  size_t points = 0, samples = 0;
  uint64_t t = kNow;
  for (auto _ : state) {
    t += 15000000000ull;
    outrigger::pdata::MetricsBuilder b(target.Resource(), rp::kScopeName, "");
    auto r = target.Process(body, t, 0.01, &b);
    samples = r.samples;
    points = b.points();
    auto m = b.Build();
    benchmark::DoNotOptimize(m);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * samples));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * e.text.size()));
  state.counters["series"] = static_cast<double>(samples);
  state.counters["otlp_points"] = static_cast<double>(points);
  state.counters["body_MB"] = static_cast<double>(e.text.size()) / 1e6;
}

// The first scrape of a target (every series new: the reset-detection map is built).
void BM_ScrapeConvert_100k_FirstScrape(benchmark::State& state) {
  const Exposition& e = GetExposition();
  const rp::ScrapeConfig sc = BenchScrapeConfig();
  const absl::StatusOr<std::string> body = e.text;
  for (auto _ : state) {
    rp::TargetState target(sc, "127.0.0.1:9100", {});
    outrigger::pdata::MetricsBuilder b(target.Resource(), rp::kScopeName, "");
    auto r = target.Process(body, kNow, 0.01, &b);
    auto m = b.Build();
    benchmark::DoNotOptimize(m);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * e.samples));
}

// The text parser alone (receivers/prometheus Parse), freeing its result.
void BM_Parse_100k(benchmark::State& state) {
  const Exposition& e = GetExposition();
  for (auto _ : state) {
    auto families = rp::Parse(e.text);
    if (!families.ok()) {
      state.SkipWithError(std::string(families.status().message()).c_str());
      return;
    }
    benchmark::DoNotOptimize(families);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * e.samples));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * e.text.size()));
}

// MetricsBuilder alone: the points a steady-state scrape of the exposition emits (the
// same names, attributes and values, precomputed), then Build() and freeing the Metrics.
// The share of BM_ScrapeConvert_100k that is pdata building.
void BM_MetricsBuilder_100k(benchmark::State& state) {
  struct Point {
    FamilySpec::Kind kind;
    std::string name;
    Attributes attrs;
    double value;
    outrigger::pdata::HistogramPoint h;
  };
  std::vector<Point> points;
  for (const FamilySpec& f : Families(kSeries)) {
    for (size_t j = 0; j < f.label_sets; ++j) {
      Point p{f.kind, f.name, LabelSet(j), 0, {}};
      if (f.kind == FamilySpec::kCounter) p.value = static_cast<double>(1000 + j * 37);
      if (f.kind == FamilySpec::kGauge) p.value = static_cast<double>(j) * 0.25 + 0.125;
      if (f.kind == FamilySpec::kHistogram) {
        const auto cum = CumulativeBuckets(j);
        p.h.has_min_max = false;
        p.h.bounds.assign(std::begin(kBounds), std::end(kBounds));
        uint64_t prev = 0;
        for (uint64_t c : cum) {
          p.h.bucket_counts.push_back(c - prev);
          prev = c;
        }
        p.h.count = cum.back() + j % 5;
        p.h.bucket_counts.push_back(p.h.count - prev);
        p.h.sum = static_cast<double>(p.h.count) * 0.0625;
      }
      points.push_back(std::move(p));
    }
  }
  const Attributes resource = {{"service.name", "bench"},
                               {"service.instance.id", "127.0.0.1:9100"},
                               {"server.address", "127.0.0.1"},
                               {"server.port", "9100"},
                               {"url.scheme", "http"}};
  for (auto _ : state) {
    outrigger::pdata::MetricsBuilder b(resource, rp::kScopeName, "");
    for (const Point& p : points) {
      switch (p.kind) {
        case FamilySpec::kCounter:
          b.Sum(p.name, "", p.attrs, p.value, kNow - 60000000000ull, kNow, true,
                outrigger::pdata::Temporality::kCumulative);
          break;
        case FamilySpec::kGauge:
          b.Gauge(p.name, "", p.attrs, p.value, kNow);
          break;
        case FamilySpec::kHistogram:
          b.Histogram(p.name, "", p.attrs, p.h, kNow - 60000000000ull, kNow,
                      outrigger::pdata::Temporality::kCumulative);
          break;
      }
    }
    auto m = b.Build();
    benchmark::DoNotOptimize(m);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * points.size()));
  state.counters["otlp_points"] = static_cast<double>(points.size());
}

// ---- Exporter side -----------------------------------------------------------------

std::shared_ptr<spdlog::logger> QuietLogger() {
  static auto logger = [] {
    auto l = spdlog::default_logger()->clone("prometheus");
    l->set_level(spdlog::level::err);
    return l;
  }();
  return logger;
}

// Accumulator::Add of 100,000 series that are all stored already (steady state: every
// push updates them). The Metrics are decoded already (built in memory).
void BM_AccumulatorAdd_100k(benchmark::State& state) {
  const auto data = MakeOtlp(kSeries);
  ep::Config cfg;
  ep::Accumulator acc(cfg, QuietLogger());
  acc.Add(data);
  for (auto _ : state) {
    auto r = acc.Add(data);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * data.ItemCount()));
  state.counters["otlp_points"] = static_cast<double>(data.ItemCount());
}

void Render(benchmark::State& state, ep::Format format) {
  ep::Config cfg;
  ep::Accumulator acc(cfg, QuietLogger());
  acc.Add(MakeOtlp(kSeries));
  size_t bytes = 0, lines = 0;
  {
    std::string out = acc.Render(format);
    for (char c : out) lines += c == '\n';
  }
  for (auto _ : state) {
    std::string out = acc.Render(format);
    bytes = out.size();
    benchmark::DoNotOptimize(out);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kSeries));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
  state.counters["lines"] = static_cast<double>(lines);
  state.counters["body_MB"] = static_cast<double>(bytes) / 1e6;
}
void BM_Render_100k_Text(benchmark::State& state) { Render(state, ep::Format::kText); }
void BM_Render_100k_OpenMetrics(benchmark::State& state) { Render(state, ep::Format::kOpenMetrics); }

outrigger::CreateSettings Settings(outrigger::Telemetry* t) {
  return outrigger::CreateSettings{*outrigger::ComponentId::Parse("prometheus"), outrigger::Kind::kExporter, t,
                                   QuietLogger()};
}

outrigger::http::Request ScrapeRequest(bool open_metrics, bool gzip) {
  outrigger::http::Request req;
  req.method = "GET";
  req.path = ep::kMetricsPath;
  // What Prometheus 2.42 sends.
  req.headers["accept"] = (open_metrics ? "application/openmetrics-text;version=1.0.0,application/"
                                          "openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;"
                                          "q=0.5,*/*;q=0.1"
                                        : "text/plain;version=0.0.4;q=1,*/*;q=0.1");
  if (gzip) req.headers["accept-encoding"] = "gzip";
  return req;
}

// PrometheusExporter::Handle of a scrape: render, and gzip (level 1) when asked, as a
// real Prometheus asks (Accept-Encoding: gzip). The HTTP server's own work (headers,
// socket writes) is not included.
void Handle(benchmark::State& state, bool open_metrics, bool gzip) {
  outrigger::Telemetry telemetry;
  ep::Config cfg;
  cfg.enable_open_metrics = open_metrics;
  ep::PrometheusExporter exp(Settings(&telemetry), cfg);
  if (auto s = exp.ConsumeMetrics(MakeOtlp(kSeries)); !s.ok()) std::abort();
  const auto req = ScrapeRequest(open_metrics, gzip);
  size_t bytes = 0;
  for (auto _ : state) {
    auto r = exp.Handle(req);
    bytes = r.body.size();
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kSeries));
  state.counters["body_MB"] = static_cast<double>(bytes) / 1e6;
}
void BM_Handle_100k_Text_Gzip(benchmark::State& state) { Handle(state, false, true); }
void BM_Handle_100k_OpenMetrics_Gzip(benchmark::State& state) { Handle(state, true, true); }

// ---- --rss=<what> ------------------------------------------------------------------

long StatusKb(const char* field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  const size_t n = std::strlen(field);
  while (std::getline(in, line)) {
    if (line.compare(0, n, field) == 0 && line.size() > n && line[n] == ':') return std::atol(line.c_str() + n + 1);
  }
  return -1;
}

// Resets VmHWM to the current RSS (Linux >= 4.0).
void ResetPeak() {
  std::ofstream f("/proc/self/clear_refs");
  f << "5";
}

int RssMode(std::string_view what) {
  auto report = [&](const char* op, long before_kb) {
    const long peak = StatusKb("VmHWM"), now = StatusKb("VmRSS");
    std::printf("%s: RSS before %.1f MiB, peak during %.1f MiB (+%.1f MiB), after %.1f MiB\n", op, before_kb / 1024.0,
                peak / 1024.0, (peak - before_kb) / 1024.0, now / 1024.0);
  };
  if (what == "scrape") {
    const Exposition& e = GetExposition();
    const rp::ScrapeConfig sc = BenchScrapeConfig();
    rp::TargetState target(sc, "127.0.0.1:9100", {});
    const absl::StatusOr<std::string> body = e.text;
    std::printf("RSS with the exposition made: %.1f MiB\n", StatusKb("VmRSS") / 1024.0);
    std::printf("exposition: %zu series, %.1f MB\n", e.samples, static_cast<double>(e.text.size()) / 1e6);
    for (int i = 0; i < 2; ++i) {  // first scrape, then steady state
      ResetPeak();
      const long before = StatusKb("VmRSS");
      outrigger::pdata::MetricsBuilder b(target.Resource(), rp::kScopeName, "");
      auto r = target.Process(body, kNow + static_cast<uint64_t>(i) * 15000000000ull, 0.01, &b);
      if (!r.status.ok()) return 1;
      auto m = b.Build();
      report(i == 0 ? "first scrape (Process + Build, Metrics kept)"
                    : "steady-state scrape (Process + Build, Metrics kept)",
             before);
    }
    return 0;
  }
  std::printf("RSS at start: %.1f MiB\n", StatusKb("VmRSS") / 1024.0);
  ep::Config cfg;
  outrigger::Telemetry telemetry;
  cfg.enable_open_metrics = true;
  ep::PrometheusExporter exp(Settings(&telemetry), cfg);
  long before = StatusKb("VmRSS");
  {
    auto data = MakeOtlp(kSeries);
    std::printf("OTLP input: %zu points, RSS with it %.1f MiB\n", data.ItemCount(), StatusKb("VmRSS") / 1024.0);
    ResetPeak();
    before = StatusKb("VmRSS");
    (void)exp.ConsumeMetrics(std::move(data));
    report("first Add of 100k series (the Metrics are freed after)", before);
  }
  std::printf("accumulator holding 100k series: RSS %.1f MiB\n", StatusKb("VmRSS") / 1024.0);
  if (what == "add") return 0;
  const bool om = what == "render-om";
  if (what == "render-text" || what == "render-om") {
    ResetPeak();
    before = StatusKb("VmRSS");
    std::string out = exp.accumulator().Render(om ? ep::Format::kOpenMetrics : ep::Format::kText);
    report(om ? "Render OpenMetrics" : "Render text", before);
    std::printf("body %.1f MB\n", static_cast<double>(out.size()) / 1e6);
    return 0;
  }
  if (what == "handle") {
    ResetPeak();
    before = StatusKb("VmRSS");
    auto r = exp.Handle(ScrapeRequest(false, true));
    report("Handle, text + gzip", before);
    std::printf("gzipped body %.1f MB\n", static_cast<double>(r.body.size()) / 1e6);
    return 0;
  }
  std::fprintf(stderr, "--rss=scrape|add|render-text|render-om|handle\n");
  return 2;
}

}  // namespace

BENCHMARK(BM_ScrapeConvert_100k)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ScrapeConvert_100k_FirstScrape)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Parse_100k)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_MetricsBuilder_100k)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_AccumulatorAdd_100k)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Render_100k_Text)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Render_100k_OpenMetrics)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Handle_100k_Text_Gzip)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Handle_100k_OpenMetrics_Gzip)->Unit(benchmark::kMillisecond);

int main(int argc, char** argv) {
  spdlog::set_level(spdlog::level::err);
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a.rfind("--rss=", 0) == 0) return RssMode(a.substr(6));
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
