// The file exporter's cost per request in each layout: OTLP/JSON lines (streamed), JSON
// with rotation (held once), format: proto, and zstd-compressed JSON / protobuf; with a
// flush per request (our default) or buffered (flush_interval). 100-span requests from
// bench/otlp_payload.h (~25 KB of protobuf each), written to a file in $TMPDIR (/tmp).
//   build/bench/file_exporter_bench
// Counters: input protobuf bytes per second, and file bytes per input byte (`ratio`).
#include <benchmark/benchmark.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <cstdlib>
#include <string>
#include <vector>

#include "bench/otlp_payload.h"
#include "collector/telemetry/telemetry.h"
#include "exporters/file/file_exporter.h"

namespace outrigger {
namespace {

class BenchHost : public Host {
 public:
  boost::asio::io_context& IoContext() override { return io_; }  // not run: no timer fires
  bool Ready() const override { return true; }

 private:
  boost::asio::io_context io_;
};

const std::vector<pdata::Traces>& Requests() {
  static const std::vector<pdata::Traces>* r = [] {
    auto* out = new std::vector<pdata::Traces>;
    bench::PayloadOptions o;
    for (const auto& bytes : bench::MakeTraceRequests(o, 64)) out->push_back(*pdata::Traces::FromProto(bytes));
    return out;
  }();
  return *r;
}

enum Layout { kJson, kJsonRotated, kProto, kJsonZstd, kProtoZstd };

void BM_FileExporter(benchmark::State& state) {
  const auto layout = static_cast<Layout>(state.range(0));
  const bool buffered = state.range(1) != 0;
  const char* tmp = std::getenv("TMPDIR");
  const std::string dir =
      std::string(tmp != nullptr ? tmp : "/tmp") + "/outrigger-file-bench-" + std::to_string(getpid());
  ::mkdir(dir.c_str(), 0755);
  exporters::file::Config cfg;
  cfg.path = dir + "/out";
  cfg.append = false;
  cfg.format = layout == kProto || layout == kProtoZstd ? "proto" : "json";
  if (layout == kJsonZstd || layout == kProtoZstd) cfg.compression = "zstd";
  if (layout == kJsonRotated) {
    cfg.rotation.enabled = true;
    cfg.rotation.max_megabytes = 8;
    cfg.rotation.max_backups = 2;
  }
  cfg.flush_interval = buffered ? absl::Seconds(1) : absl::ZeroDuration();
  Telemetry telemetry;
  CreateSettings settings{ComponentId::Parse("file").value(), Kind::kExporter, &telemetry, nullptr};
  exporters::file::FilePusher pusher(settings, cfg);
  BenchHost host;
  if (!pusher.Start(host).ok()) {
    state.SkipWithError("cannot start");
    return;
  }
  const auto& reqs = Requests();
  size_t i = 0;
  int64_t in_bytes = 0;
  for (auto _ : state) {
    const auto& r = reqs[i++ % reqs.size()];
    if (!pusher.PushTraces(r, absl::InfiniteFuture()).ok()) state.SkipWithError("push failed");
    in_bytes += static_cast<int64_t>(r.ByteSize());
  }
  (void)pusher.Shutdown();
  struct stat st;
  double file_bytes = ::stat(cfg.path.c_str(), &st) == 0 ? static_cast<double>(st.st_size) : 0;
  state.SetBytesProcessed(in_bytes);
  state.counters["spans/s"] =
      benchmark::Counter(static_cast<double>(state.iterations()) * 100, benchmark::Counter::kIsRate);
  if (layout != kJsonRotated && in_bytes > 0) state.counters["ratio"] = file_bytes / static_cast<double>(in_bytes);
  std::string rm = "rm -rf '" + dir + "'";
  (void)std::system(rm.c_str());
}

BENCHMARK(BM_FileExporter)
    ->ArgNames({"layout", "buffered"})
    ->ArgsProduct({{kJson, kJsonRotated, kProto, kJsonZstd, kProtoZstd}, {0, 1}})
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace outrigger

BENCHMARK_MAIN();
