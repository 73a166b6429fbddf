// Google Benchmark suite of the persistent queue's store (collector/storage/segment_log):
// append throughput by record size and fsync policy, append+read+ack (the queue's whole
// path), and recovery (Open) time for N records. Runs in $BENCH_DIR (default /tmp):
// what it measures is that file system. See bench/README.md.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "collector/storage/segment_log.h"

namespace {

using outrigger::storage::LogOptions;
using outrigger::storage::Position;
using outrigger::storage::SegmentLog;

std::string FreshDir() {
  const char* base = std::getenv("BENCH_DIR");
  std::string tmpl = std::string(base ? base : "/tmp") + "/storage_bench.XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) std::abort();
  return tmpl;
}

std::unique_ptr<SegmentLog> OpenLog(const std::string& dir, bool fsync) {
  LogOptions o;
  o.directory = dir + "/log";
  o.fsync = fsync;
  auto log = SegmentLog::Open(o);
  if (!log.ok()) std::abort();
  return std::move(*log);
}

// Appends only (the receiving side: what Enqueue costs). Arg 0: record bytes; arg 1: fsync.
void BM_Append(benchmark::State& state) {
  const std::string dir = FreshDir();
  auto log = OpenLog(dir, state.range(1) != 0);
  const std::string rec(static_cast<size_t>(state.range(0)), 'x');
  int64_t n = 0;
  for (auto _ : state) {
    if (!log->Append(rec).ok()) state.SkipWithError("append failed");
    // Keep the disk use bounded: read and acknowledge every 4096 records.
    if (++n % 4096 == 0) {
      state.PauseTiming();
      std::string p;
      Position pos;
      while (log->Next(&p, &pos)) log->Ack(pos);
      state.ResumeTiming();
    }
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
  state.SetItemsProcessed(state.iterations());
  log.reset();
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_Append)->Args({256, 0})->Args({4096, 0})->Args({65536, 0})->Args({1 << 20, 0});
// With fsync the time is spent waiting for the disk: rates by wall-clock time.
BENCHMARK(BM_Append)->Args({4096, 1})->Args({65536, 1})->UseRealTime();

// Append, read back and acknowledge (segments deleted as they empty): the whole path of
// a request through the persistent queue.
void BM_AppendReadAck(benchmark::State& state) {
  const std::string dir = FreshDir();
  auto log = OpenLog(dir, false);
  const std::string rec(static_cast<size_t>(state.range(0)), 'x');
  std::string p;
  Position pos;
  for (auto _ : state) {
    if (!log->Append(rec).ok()) state.SkipWithError("append failed");
    if (!log->Next(&p, &pos)) state.SkipWithError("nothing to read");
    log->Ack(pos);
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
  state.SetItemsProcessed(state.iterations());
  log.reset();
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_AppendReadAck)->Arg(4096)->Arg(65536);

// Open of a log holding N unacknowledged records of 4 KiB (every record is read and
// checked): the time a restart takes before the queue replays.
void BM_Recover(benchmark::State& state) {
  const std::string dir = FreshDir();
  const std::string rec(4096, 'x');
  {
    auto log = OpenLog(dir, false);
    for (int64_t i = 0; i < state.range(0); ++i) {
      if (!log->Append(rec).ok()) std::abort();
    }
  }
  for (auto _ : state) {
    int64_t seen = 0;
    LogOptions o;
    o.directory = dir + "/log";
    auto log = SegmentLog::Open(o, [&](std::string_view) { ++seen; });
    if (!log.ok() || seen != state.range(0)) state.SkipWithError("recovery lost records");
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
  state.SetBytesProcessed(state.iterations() * state.range(0) * 4096);
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_Recover)->Arg(10000)->Arg(100000)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
