// Micro-benchmarks of the attributes processor's per-record work (collector/attraction,
// collector/filterset): an include match alone, and an include match + an upsert + a
// hash, on spans of 8 string attributes each (1,000 spans per iteration, on a protobuf
// arena as the receiver decodes them). Counters: ns per record (from items/s) and heap
// allocations per record (global operator new, which protobuf's arenas use too).
//
// The records are processed again each iteration: after the first pass the upsert writes
// the value the attribute already has and the hash re-hashes a 64-character hash, so the
// steady state measures lookups, comparisons, hashing and in-place writes.

#include <benchmark/benchmark.h>
#include <google/protobuf/arena.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <string>

#include "bench/alloc_counter.h"

#include "collector/attraction/attraction.h"
#include "collector/filterset/filterset.h"
#include "opentelemetry/proto/trace/v1/trace.pb.h"
#include "yaml-cpp/yaml.h"

namespace {

using namespace outrigger;  // NOLINT
namespace tracepb = opentelemetry::proto::trace::v1;

constexpr int kSpans = 1000;

struct Fixture {
  google::protobuf::Arena arena;
  tracepb::ResourceSpans* rs = nullptr;
  tracepb::ScopeSpans* ss = nullptr;
  Fixture() {
    rs = google::protobuf::Arena::CreateMessage<tracepb::ResourceSpans>(&arena);
    auto* svc = rs->mutable_resource()->add_attributes();
    svc->set_key("service.name");
    svc->mutable_value()->set_string_value("auth-service");
    ss = rs->add_scope_spans();
    ss->mutable_scope()->set_name("io.opentelemetry.auth");
    for (int i = 0; i < kSpans; ++i) {
      auto* s = ss->add_spans();
      s->set_name(i % 2 == 0 ? "login" : "logout");
      s->set_kind(tracepb::Span::SPAN_KIND_SERVER);
      const char* keys[] = {"http.method", "http.route", "http.status_code", "net.peer.ip",
                            "user.id",     "user.email", "deployment.env",   "thread.name"};
      for (const char* k : keys) {
        auto* kv = s->add_attributes();
        kv->set_key(k);
        kv->mutable_value()->set_string_value(std::string(k) + "-value-" + std::to_string(i));
      }
    }
  }
};

filterset::Matcher IncludeMatcher() {
  config::Errors errors;
  config::Node node(YAML::Load(R"(
include:
  match_type: strict
  services: [auth-service, billing]
  span_names: [login]
  attributes:
    - key: http.method
)"),
                    "bench", &errors);
  filterset::MatchConfig mc;
  mc.Decode(node);
  auto m = filterset::Matcher::Compile(mc, Signal::kTraces);
  if (!m.ok()) std::abort();
  return std::move(*m);
}

attraction::AttrProc Actions() {
  config::Errors errors;
  config::Node node(YAML::Load(R"(
actions:
  - {key: deployment.env, value: prod, action: upsert}
  - {key: user.email, action: hash}
)"),
                    "bench", &errors);
  auto p = attraction::AttrProc::Create(attraction::DecodeActions(node, "actions"));
  if (!p.ok()) std::abort();
  return std::move(*p);
}

void Report(benchmark::State& state, uint64_t allocs) {
  const auto records = static_cast<double>(state.iterations()) * kSpans;
  state.SetItemsProcessed(static_cast<int64_t>(records));
  state.counters["allocs/record"] = static_cast<double>(allocs) / records;
}

void BM_IncludeMatch(benchmark::State& state) {
  Fixture f;
  filterset::Matcher m = IncludeMatcher();
  size_t matched = 0;
  const uint64_t before = bench::g_allocs.load();
  for (auto _ : state) {
    for (const auto& span : f.ss->spans()) matched += m.SkipSpan(f.rs->resource(), f.ss->scope(), span) ? 0 : 1;
    benchmark::DoNotOptimize(matched);
  }
  Report(state, bench::g_allocs.load() - before);
}
BENCHMARK(BM_IncludeMatch);

void BM_UpsertHashWithInclude(benchmark::State& state) {
  Fixture f;
  filterset::Matcher m = IncludeMatcher();
  attraction::AttrProc actions = Actions();
  // First pass outside the measurement: the upsert and hash reach their steady state.
  for (auto& span : *f.ss->mutable_spans()) actions.Process(nullptr, span.mutable_attributes());
  const uint64_t before = bench::g_allocs.load();
  for (auto _ : state) {
    for (auto& span : *f.ss->mutable_spans()) {
      if (m.SkipSpan(f.rs->resource(), f.ss->scope(), span)) continue;
      actions.Process(nullptr, span.mutable_attributes());
    }
    benchmark::ClobberMemory();
  }
  Report(state, bench::g_allocs.load() - before);
}
BENCHMARK(BM_UpsertHashWithInclude);

// Every span (no include), to see the actions alone.
void BM_UpsertHash(benchmark::State& state) {
  Fixture f;
  attraction::AttrProc actions = Actions();
  for (auto& span : *f.ss->mutable_spans()) actions.Process(nullptr, span.mutable_attributes());
  const uint64_t before = bench::g_allocs.load();
  for (auto _ : state) {
    for (auto& span : *f.ss->mutable_spans()) actions.Process(nullptr, span.mutable_attributes());
    benchmark::ClobberMemory();
  }
  Report(state, bench::g_allocs.load() - before);
}
BENCHMARK(BM_UpsertHash);

}  // namespace

BENCHMARK_MAIN();
