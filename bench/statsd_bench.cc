// Micro-benchmarks of the StatsD receiver's hot paths: ParseLine, Aggregator::Add,
// Aggregator::Flush and StatsdReceiver::HandleData (parse + aggregate + self-metrics of
// one datagram). items_per_second is lines/s.
//
// The traffic is statsd_blaster's (bench/statsd_lines.h): 1,000 series, mix
// c:40,g:20,ms:25,h:15, 25% of c/ms/h series with a sample rate, 3 DogStatsD tags,
// one value per line, 10 lines per datagram.

#include <benchmark/benchmark.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "bench/statsd_lines.h"
#include "collector/component/component.h"
#include "collector/pdata/builders.h"
#include "collector/telemetry/telemetry.h"
#include "receivers/statsd/aggregator.h"
#include "receivers/statsd/config.h"
#include "receivers/statsd/parser.h"
#include "receivers/statsd/statsd_receiver.h"
#include "spdlog/spdlog.h"

namespace {

namespace sd = outrigger::receivers::statsd;
using outrigger::bench::StatsdLoadOptions;

std::vector<std::string> Datagrams(const StatsdLoadOptions& o, size_t n = 0) {
  std::vector<outrigger::bench::MixEntry> mix;
  std::string err;
  if (!outrigger::bench::ParseMix(o.mix, &mix, &err)) std::abort();
  auto series = outrigger::bench::MakeSeries(o, mix);
  return outrigger::bench::MakeDatagrams(o, series, n > 0 ? n : outrigger::bench::DefaultPoolSize(o));
}

// The lines of the datagrams, as views into them (kept alive by the static pool).
struct Corpus {
  std::vector<std::string> datagrams;
  std::vector<std::string_view> lines;
  size_t bytes = 0;
};

const Corpus& GetCorpus(int which) {
  static Corpus corpora[4];
  static bool made[4] = {};
  if (!made[which]) {
    StatsdLoadOptions o;
    switch (which) {
      case 0:
        break;  // DogStatsD, the default mix
      case 1:
        o.tags = 0;
        o.sampled_fraction = 0;
        break;  // plain StatsD, no sample rates
      case 2:
        o.mix = "c:1,g:1";
        break;  // counters and gauges only
      case 3:
        o.series = 10000;
        break;  // 10k series
    }
    Corpus& c = corpora[which];
    c.datagrams = Datagrams(o);
    for (const auto& d : c.datagrams) {
      c.bytes += d.size();
      sd::ForEachLine(d, [&](std::string_view l) { c.lines.push_back(l); });
    }
    made[which] = true;
  }
  return corpora[which];
}

void ParseLines(benchmark::State& state, int which) {
  const Corpus& c = GetCorpus(which);
  sd::MetricLine m;
  sd::EventLine e;
  sd::ServiceCheckLine chk;
  std::string error;
  size_t i = 0;
  for (auto _ : state) {
    auto k = sd::ParseLine(c.lines[i], &m, &e, &chk, &error);
    if (k != sd::LineKind::kMetric) state.SkipWithError("line did not parse");
    benchmark::DoNotOptimize(m);
    if (++i == c.lines.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * (c.bytes / c.lines.size())));
}

// ParseLine alone, on typical DogStatsD lines such as
//   bench.ms.42:123.45|ms|@0.5|#env:bench,service:svc2,series:142
void BM_ParseLine_DogStatsD(benchmark::State& state) { ParseLines(state, 0); }
// Plain StatsD: bench.c.17:3|c
void BM_ParseLine_Plain(benchmark::State& state) { ParseLines(state, 1); }

// Parsed lines, with the values already in them.
std::vector<sd::MetricLine> Parsed(const Corpus& c) {
  std::vector<sd::MetricLine> out;
  sd::EventLine e;
  sd::ServiceCheckLine chk;
  std::string error;
  for (auto l : c.lines) {
    sd::MetricLine m;
    if (sd::ParseLine(l, &m, &e, &chk, &error) != sd::LineKind::kMetric) std::abort();
    out.push_back(std::move(m));
  }
  return out;
}

constexpr uint64_t kNow = 1700000000000000000ull;

// Aggregator::Add over 1,000 (or 10,000) existing series: tag sort, key build, hash
// lookup, update (timings and histograms with the default gauge mapping: count, sum,
// min, max, last). The aggregator is flushed (untimed) every 1M lines, as an interval
// would.
void AggregatorAdd(benchmark::State& state, int which) {
  const Corpus& c = GetCorpus(which);
  const auto lines = Parsed(c);
  sd::Config cfg;
  sd::Aggregator agg(cfg);
  for (const auto& l : lines) agg.Add(l, kNow);  // create every series first
  size_t i = 0, since_flush = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(agg.Add(lines[i], kNow));
    if (++i == lines.size()) i = 0;
    if (++since_flush == 1000000) {
      state.PauseTiming();
      outrigger::pdata::MetricsBuilder b({}, "bench", "");
      agg.Flush(b, kNow);
      since_flush = 0;
      state.ResumeTiming();
    }
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["series"] = static_cast<double>(agg.series());
}
void BM_AggregatorAdd_1kSeries(benchmark::State& state) { AggregatorAdd(state, 0); }
void BM_AggregatorAdd_1kSeries_CountersGauges(benchmark::State& state) { AggregatorAdd(state, 2); }
void BM_AggregatorAdd_10kSeries(benchmark::State& state) { AggregatorAdd(state, 3); }

// Aggregator::Flush of 1,000 series that received state.range(0) lines each, with the
// timing/histogram/distribution mapping given by `observer`, then MetricsBuilder::Build.
// items_per_second is aggregated lines flushed per second (the lines themselves are
// added untimed).
void AggregatorFlush(benchmark::State& state, const std::string& observer, bool explicit_buckets) {
  const Corpus& c = GetCorpus(0);
  const auto lines = Parsed(c);
  const int64_t per_series = state.range(0);
  sd::Config cfg;
  if (observer != "gauge") {
    for (const char* t : {"timing", "histogram", "distribution"}) {
      sd::TimerMapping m;
      m.statsd_type = t;
      m.observer_type = observer;
      if (explicit_buckets) m.explicit_buckets = {1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000};
      cfg.timer_histogram_mapping.push_back(m);
    }
  }
  sd::Aggregator agg(cfg);
  const size_t n = static_cast<size_t>(per_series) * 1000;  // the corpus walks the 1,000 series round-robin
  size_t points = 0;
  for (auto _ : state) {
    state.PauseTiming();
    for (size_t i = 0; i < n; ++i) agg.Add(lines[i % lines.size()], kNow);
    state.ResumeTiming();
    outrigger::pdata::MetricsBuilder b({}, "bench", "");
    agg.Flush(b, kNow + 1);
    points = b.points();
    auto m = b.Build();
    benchmark::DoNotOptimize(m);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * n));
  state.counters["points"] = static_cast<double>(points);
}
void BM_AggregatorFlush_1kSeries_Gauge(benchmark::State& s) { AggregatorFlush(s, "gauge", false); }
void BM_AggregatorFlush_1kSeries_Summary(benchmark::State& s) { AggregatorFlush(s, "summary", false); }
void BM_AggregatorFlush_1kSeries_ExplicitHistogram(benchmark::State& s) { AggregatorFlush(s, "histogram", true); }
void BM_AggregatorFlush_1kSeries_ExpHistogram(benchmark::State& s) { AggregatorFlush(s, "histogram", false); }

// Counts what the receiver emits.
class CountingConsumer : public outrigger::Consumer {
 public:
  absl::Status ConsumeMetrics(outrigger::pdata::Metrics&& d) override {
    points += d.ItemCount();
    ++calls;
    return absl::OkStatus();
  }
  absl::Status ConsumeLogs(outrigger::pdata::Logs&& d) override {
    logs += d.ItemCount();
    return absl::OkStatus();
  }
  size_t points = 0, logs = 0, calls = 0;
};

outrigger::CreateSettings Settings(outrigger::Telemetry* t) {
  // As tests/testutil's Settings(): id, kind, telemetry, a logger.
  static auto logger = [] {
    auto l = spdlog::default_logger()->clone("statsd");
    l->set_level(spdlog::level::err);
    return l;
  }();
  return outrigger::CreateSettings{*outrigger::ComponentId::Parse("statsd"), outrigger::Kind::kReceiver, t, logger};
}

// StatsdReceiver::HandleData over 10-line datagrams: line splitting, ParseLine,
// Aggregator::Add and the accepted-points counter, as the UDP read loop calls it per
// datagram. FlushNow runs (untimed) every 100,000 datagrams.
void HandleData(benchmark::State& state, int which) {
  const Corpus& c = GetCorpus(which);
  outrigger::Telemetry telemetry;
  sd::Config cfg;
  sd::StatsdReceiver r(Settings(&telemetry), cfg);
  CountingConsumer consumer;
  r.SetConsumers({nullptr, &consumer, &consumer});
  size_t i = 0, since_flush = 0;
  for (auto _ : state) {
    r.HandleData(c.datagrams[i]);
    if (++i == c.datagrams.size()) i = 0;
    if (++since_flush == 100000) {
      state.PauseTiming();
      r.FlushNow();
      since_flush = 0;
      state.ResumeTiming();
    }
  }
  r.FlushNow();
  const size_t lines_per_dg = c.lines.size() / c.datagrams.size();
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * lines_per_dg));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * (c.bytes / c.datagrams.size())));
  state.counters["accepted"] = telemetry.Value("outrigger_receiver_accepted_metric_points_total",
                                               {{"receiver", "statsd"}, {"transport", "udp"}});
  state.counters["points_out"] = static_cast<double>(consumer.points);
}
void BM_HandleData_10Lines_1kSeries(benchmark::State& state) { HandleData(state, 0); }
void BM_HandleData_10Lines_1kSeries_Plain(benchmark::State& state) { HandleData(state, 1); }
void BM_HandleData_10Lines_10kSeries(benchmark::State& state) { HandleData(state, 3); }

// The self-metric alone: one prometheus Counter::Increment per accepted line.
void BM_AcceptedCounterIncrement(benchmark::State& state) {
  outrigger::Telemetry telemetry;
  auto meter = telemetry.ForReceiver(*outrigger::ComponentId::Parse("statsd"), "udp");
  for (auto _ : state) meter.Accepted(outrigger::Signal::kMetrics, 1);
  state.SetItemsProcessed(state.iterations());
}

}  // namespace

BENCHMARK(BM_ParseLine_DogStatsD);
BENCHMARK(BM_ParseLine_Plain);
BENCHMARK(BM_AggregatorAdd_1kSeries);
BENCHMARK(BM_AggregatorAdd_1kSeries_CountersGauges);
BENCHMARK(BM_AggregatorAdd_10kSeries);
BENCHMARK(BM_AggregatorFlush_1kSeries_Gauge)->Arg(100)->Arg(1000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_AggregatorFlush_1kSeries_Summary)->Arg(100)->Arg(1000)->Unit(benchmark::kMillisecond);
// 40,000 lines per series: the 400 timing/histogram series hold full 16,384-value reservoirs.
BENCHMARK(BM_AggregatorFlush_1kSeries_Summary)->Arg(40000)->Iterations(2)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_AggregatorFlush_1kSeries_ExplicitHistogram)->Arg(100)->Arg(1000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_AggregatorFlush_1kSeries_ExpHistogram)->Arg(100)->Arg(1000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_HandleData_10Lines_1kSeries);
BENCHMARK(BM_HandleData_10Lines_1kSeries_Plain);
BENCHMARK(BM_HandleData_10Lines_10kSeries);
BENCHMARK(BM_AcceptedCounterIncrement);

BENCHMARK_MAIN();
