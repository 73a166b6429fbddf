// Micro-benchmarks of the pdata hot paths the OTLP pipeline runs per request and per
// batch: decode (receiver), DropInvalidIds + ItemCount (receiver, batch processor),
// Append + ToProto (batch processor -> otlp exporter), Gzip (exporter), SplitFront (send_batch_max_size),
// and OTLP/JSON (OTLP/HTTP JSON, file exporter). Items are spans.
//
// The payloads are those of otlp_loadgen: 100 spans per request, about 250 B per span.
// A "batch" is 82 such requests appended (8,200 spans: one default send_batch_size of
// 8,192 plus change), as the batch processor builds it.

#include <benchmark/benchmark.h>
#include <malloc.h>

#include <string>
#include <vector>

#include "bench/otlp_payload.h"
#include "collector/otlp/wire.h"
#include "collector/pdata/pdata.h"
#include "collector/pdata/wire_scan.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"

namespace {

using outrigger::pdata::Traces;

constexpr size_t kSpansPerRequest = 100;
constexpr size_t kRequestsPerBatch = 82;

const std::vector<std::string>& Requests() {
  static const std::vector<std::string> r = [] {
    outrigger::bench::PayloadOptions o;
    o.spans_per_request = kSpansPerRequest;
    return outrigger::bench::MakeTraceRequests(o, kRequestsPerBatch);
  }();
  return r;
}

Traces Decode(const std::string& bytes) {
  auto t = Traces::FromProto(bytes);
  if (!t.ok()) std::abort();
  return std::move(*t);
}

Traces Batch() {
  Traces b;
  for (const auto& r : Requests()) b.Append(Decode(r));
  return b;
}

void SetCounters(benchmark::State& state, size_t items_per_iter, size_t bytes_per_iter) {
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * items_per_iter));
  if (bytes_per_iter > 0) state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes_per_iter));
}

// Receiver: one 100-span request decoded into pdata (arena allocation, protobuf parse).
void BM_FromProto_100(benchmark::State& state) {
  const auto& reqs = Requests();
  size_t i = 0;
  for (auto _ : state) {
    Traces t = Decode(reqs[i++ % reqs.size()]);
    benchmark::DoNotOptimize(t);
  }
  SetCounters(state, kSpansPerRequest, reqs[0].size());
}
BENCHMARK(BM_FromProto_100);

// Receiver, per request: FromProto + DropInvalidIds + ItemCount (what Deliver does).
void BM_ReceiverPath_100(benchmark::State& state) {
  const auto& reqs = Requests();
  size_t i = 0;
  std::string why;
  for (auto _ : state) {
    Traces t = Decode(reqs[i++ % reqs.size()]);
    benchmark::DoNotOptimize(t.DropInvalidIds(&why));
    benchmark::DoNotOptimize(t.ItemCount());
  }
  SetCounters(state, kSpansPerRequest, reqs[0].size());
}
BENCHMARK(BM_ReceiverPath_100);

// Receiver, per request, as it runs now: the received request checked without decoding
// (collector/pdata/wire_scan.h), the bytes kept for a pass-through pipeline.
void BM_ScanRequest_100(benchmark::State& state) {
  const auto& reqs = Requests();
  const auto* type = opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest::descriptor();
  size_t i = 0;
  for (auto _ : state) {
    auto r = outrigger::pdata::ScanRequest(reqs[i++ % reqs.size()], type);
    if (!r.ok) std::abort();
    benchmark::DoNotOptimize(r);
  }
  SetCounters(state, kSpansPerRequest, reqs[0].size());
}
BENCHMARK(BM_ScanRequest_100);

void BM_DropInvalidIds_100(benchmark::State& state) {
  Traces t = Decode(Requests()[0]);
  std::string why;
  for (auto _ : state) benchmark::DoNotOptimize(t.DropInvalidIds(&why));
  SetCounters(state, kSpansPerRequest, 0);
}
BENCHMARK(BM_DropInvalidIds_100);

// Batch processor / exporter: the 82-request batch encoded as one request.
void BM_ToProto_Batch82(benchmark::State& state) {
  Traces b = Batch();
  size_t bytes = 0;
  for (auto _ : state) {
    std::string out = b.ToProto();
    bytes = out.size();
    benchmark::DoNotOptimize(out);
  }
  SetCounters(state, kSpansPerRequest * kRequestsPerBatch, bytes);
}
BENCHMARK(BM_ToProto_Batch82);

// OTLP exporter with gzip: one 200 ms batch of the sidecar bench's traces (two 100-span
// requests) compressed at level 1 (gRPC, kGrpcGzipLevel) and 6 (otlphttp's default).
// Bytes are the uncompressed ones; `ratio` is compressed / uncompressed.
void BM_Gzip_200Spans(benchmark::State& state) {
  Traces b;
  b.Append(Decode(Requests()[0]));
  b.Append(Decode(Requests()[1]));
  const std::string body = b.ToProto();
  size_t out = 0;
  for (auto _ : state) {
    std::string z = outrigger::otlp::Gzip(body, static_cast<int>(state.range(0)));
    out = z.size();
    benchmark::DoNotOptimize(z);
  }
  SetCounters(state, 2 * kSpansPerRequest, body.size());
  state.counters["ratio"] = static_cast<double>(out) / static_cast<double>(body.size());
}
BENCHMARK(BM_Gzip_200Spans)->Arg(1)->Arg(6);

// ByteSize alone (ToProto calls it to reserve, then serialization computes it again).
void BM_ByteSize_Batch82(benchmark::State& state) {
  Traces b = Batch();
  for (auto _ : state) benchmark::DoNotOptimize(b.ByteSize());
  SetCounters(state, kSpansPerRequest * kRequestsPerBatch, 0);
}
BENCHMARK(BM_ByteSize_Batch82);

void BM_ItemCount_Batch82(benchmark::State& state) {
  Traces b = Batch();
  for (auto _ : state) benchmark::DoNotOptimize(b.ItemCount());
  SetCounters(state, kSpansPerRequest * kRequestsPerBatch, 0);
}
BENCHMARK(BM_ItemCount_Batch82);

void BM_Append_Batch82(benchmark::State& state) {
  // Decoding is excluded: only the Append calls and the batch's destruction are timed.
  for (auto _ : state) {
    state.PauseTiming();
    std::vector<Traces> parts;
    parts.reserve(kRequestsPerBatch);
    for (const auto& r : Requests()) parts.push_back(Decode(r));
    state.ResumeTiming();
    Traces b;
    for (auto& p : parts) b.Append(std::move(p));
    benchmark::DoNotOptimize(b);
  }
  SetCounters(state, kSpansPerRequest * kRequestsPerBatch, 0);
}
BENCHMARK(BM_Append_Batch82);

// SplitFront(8192) of an 82-part batch: 81 whole parts move, one part is split (copied).
void BM_SplitFront8192_Batch82(benchmark::State& state) {
  for (auto _ : state) {
    state.PauseTiming();
    Traces b = Batch();
    state.ResumeTiming();
    Traces front = b.SplitFront(8192);
    benchmark::DoNotOptimize(front);
    state.PauseTiming();
    {
      Traces drop = std::move(front);
      Traces drop2 = std::move(b);
    }
    state.ResumeTiming();
  }
  SetCounters(state, 8192, 0);
}
BENCHMARK(BM_SplitFront8192_Batch82);

// SplitFront(50) inside one 100-span request: the copying path, per span moved.
void BM_SplitFront50_Request100(benchmark::State& state) {
  const auto& reqs = Requests();
  size_t i = 0;
  for (auto _ : state) {
    state.PauseTiming();
    Traces t = Decode(reqs[i++ % reqs.size()]);
    state.ResumeTiming();
    Traces front = t.SplitFront(50);
    benchmark::DoNotOptimize(front);
    state.PauseTiming();
    {
      Traces drop = std::move(front);
      Traces drop2 = std::move(t);
    }
    state.ResumeTiming();
  }
  SetCounters(state, 50, 0);
}
BENCHMARK(BM_SplitFront50_Request100);

// The collector's whole data path without the network: 82 requests decoded (receiver),
// appended (batch), encoded as one request (exporter), freed.
void BM_Pipeline_DecodeBatchEncode_Batch82(benchmark::State& state) {
  const auto& reqs = Requests();
  std::string why;
  size_t bytes_in = 0;
  for (const auto& r : reqs) bytes_in += r.size();
  for (auto _ : state) {
    Traces b;
    for (const auto& r : reqs) {
      Traces t = Decode(r);
      benchmark::DoNotOptimize(t.DropInvalidIds(&why));
      benchmark::DoNotOptimize(t.ItemCount());
      b.Append(std::move(t));
    }
    benchmark::DoNotOptimize(b.ItemCount());
    std::string out = b.ToProto();
    benchmark::DoNotOptimize(out);
  }
  SetCounters(state, kSpansPerRequest * kRequestsPerBatch, bytes_in);
}
BENCHMARK(BM_Pipeline_DecodeBatchEncode_Batch82);

// Not pdata: what the same path costs if the collector kept the received bytes instead
// of decoding them. Each request is walked on the wire (spans counted, ids checked as
// DropInvalidIds does) and the batch is one concatenation: a bound for a pass-through
// pdata representation.
void BM_WireScanPassThrough_Batch82(benchmark::State& state) {
  const auto& reqs = Requests();
  size_t bytes_in = 0;
  for (const auto& r : reqs) bytes_in += r.size();
  for (auto _ : state) {
    uint64_t invalid = 0;
    int64_t spans = 0;
    for (const auto& r : reqs) spans += outrigger::bench::CountSpansWire(r.data(), r.size(), &invalid);
    std::string out;
    out.reserve(bytes_in);
    for (const auto& r : reqs) out.append(r);
    benchmark::DoNotOptimize(spans);
    benchmark::DoNotOptimize(invalid);
    benchmark::DoNotOptimize(out);
  }
  SetCounters(state, kSpansPerRequest * kRequestsPerBatch, bytes_in);
}
BENCHMARK(BM_WireScanPassThrough_Batch82);

// Memory, not time: heap bytes held per span by a decoded batch (protobuf arenas and the
// strings they own), against the encoded bytes per span. This is what a queued batch
// costs in RSS.
void BM_DecodedHeapBytesPerSpan_Batch82(benchmark::State& state) {
  size_t wire = 0;
  for (const auto& r : Requests()) wire += r.size();
  double heap = 0;
  for (auto _ : state) {
    state.PauseTiming();
    const size_t before = mallinfo2().uordblks;
    state.ResumeTiming();
    Traces b = Batch();
    state.PauseTiming();
    heap = static_cast<double>(mallinfo2().uordblks - before);
    state.ResumeTiming();
    benchmark::DoNotOptimize(b);
  }
  const double spans = static_cast<double>(kSpansPerRequest * kRequestsPerBatch);
  state.counters["heap_B_per_span"] = heap / spans;
  state.counters["wire_B_per_span"] = static_cast<double>(wire) / spans;
  SetCounters(state, kSpansPerRequest * kRequestsPerBatch, 0);
}
BENCHMARK(BM_DecodedHeapBytesPerSpan_Batch82)->Iterations(20);

const std::string& Json100() {
  static const std::string j = Decode(Requests()[0]).ToJson();
  return j;
}

void BM_FromJson_100(benchmark::State& state) {
  const std::string& j = Json100();
  for (auto _ : state) {
    auto t = Traces::FromJson(j);
    if (!t.ok()) {
      state.SkipWithError("FromJson failed");
      break;
    }
    benchmark::DoNotOptimize(t);
  }
  SetCounters(state, kSpansPerRequest, j.size());
}
BENCHMARK(BM_FromJson_100);

void BM_ToJson_100(benchmark::State& state) {
  Traces t = Decode(Requests()[0]);
  size_t bytes = 0;
  for (auto _ : state) {
    std::string j = t.ToJson();
    bytes = j.size();
    benchmark::DoNotOptimize(j);
  }
  SetCounters(state, kSpansPerRequest, bytes);
}
BENCHMARK(BM_ToJson_100);

}  // namespace

BENCHMARK_MAIN();
