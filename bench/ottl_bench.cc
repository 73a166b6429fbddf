// OTTL on the hot path (collector/ottl): the filter processor's work with one condition,
// and the transform processor's with five statements, per span, on 1,000 spans of 8
// attributes per iteration (a protobuf arena, as the receiver decodes them). Counters:
// ns per record (from items/s) and heap allocations per record (global operator new).
// Goals (issue 16): filter ≤ 50 ns, transform ≤ 500 ns per record, no allocation for
// attribute lookups and comparisons.
//
// The records are processed again each iteration: after the first pass the statements
// write the values the fields already hold, so the steady state measures lookups,
// comparisons and in-place writes.

#include <benchmark/benchmark.h>
#include <google/protobuf/arena.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <string>

#include "bench/alloc_counter.h"

#include "collector/ottl/ottl.h"
#include "collector/ottl/walk.h"

namespace {

using namespace outrigger;  // NOLINT
namespace ctpb = opentelemetry::proto::collector::trace::v1;

constexpr int kSpans = 1000;

ctpb::ExportTraceServiceRequest* MakeRequest(google::protobuf::Arena* arena) {
  auto* req = google::protobuf::Arena::CreateMessage<ctpb::ExportTraceServiceRequest>(arena);
  auto* rs = req->add_resource_spans();
  ottl::Upsert(rs->mutable_resource()->mutable_attributes(), "service.name")->set_string_value("checkout");
  auto* ss = rs->add_scope_spans();
  ss->mutable_scope()->set_name("io.opentelemetry.http");
  for (int i = 0; i < kSpans; ++i) {
    auto* s = ss->add_spans();
    s->set_name(i % 2 ? "GET /api/orders" : "POST /api/cart");
    s->set_kind(opentelemetry::proto::trace::v1::Span::SPAN_KIND_SERVER);
    auto* a = s->mutable_attributes();
    ottl::Upsert(a, "http.method")->set_string_value(i % 2 ? "GET" : "POST");
    ottl::Upsert(a, "http.route")->set_string_value(i % 10 == 0 ? "/health" : "/api/orders/{id}");
    ottl::Upsert(a, "http.status_code")->set_int_value(i % 7 == 0 ? 503 : 200);
    ottl::Upsert(a, "net.peer.name")->set_string_value("db.internal.example.com");
    ottl::Upsert(a, "user_agent.original")->set_string_value("Mozilla/5.0 (X11; Linux x86_64)");
    ottl::Upsert(a, "thread.name")->set_string_value("worker-7");
    ottl::Upsert(a, "component")->set_string_value("http");
    ottl::Upsert(a, "error")->set_bool_value(i % 7 == 0);
  }
  return req;
}

void Report(benchmark::State& state, uint64_t allocs) {
  state.SetItemsProcessed(state.iterations() * kSpans);
  state.counters["allocs_per_record"] = static_cast<double>(allocs) / static_cast<double>(state.iterations() * kSpans);
}

// The filter processor's walk with one condition (no span matches, so the data stays).
void BM_FilterOneCondition(benchmark::State& state) {
  google::protobuf::Arena arena;
  auto* req = MakeRequest(&arena);
  auto cond = ottl::Condition::Compile(ottl::ContextKind::kSpan, R"(attributes["http.route"] == "/ready")");
  if (!cond.ok()) {
    state.SkipWithError(std::string(cond.status().message()).c_str());
    return;
  }
  ottl::EvalContext c;
  size_t matched = 0;
  std::function<absl::StatusOr<bool>(ottl::EvalContext&)> fn = [&](ottl::EvalContext& ec) -> absl::StatusOr<bool> {
    absl::StatusOr<bool> r = cond->Eval(ec);
    matched += r.ok() && *r;
    return false;
  };
  (void)ottl::WalkTraces(*req, ottl::ContextKind::kSpan, c, fn);  // warm up
  uint64_t before = bench::g_allocs.load();
  for (auto _ : state) {
    (void)ottl::WalkTraces(*req, ottl::ContextKind::kSpan, c, fn);
  }
  Report(state, bench::g_allocs.load() - before);
  benchmark::DoNotOptimize(matched);
}
BENCHMARK(BM_FilterOneCondition);

// One condition evaluated alone (no walk): the cost of the compiled expression.
void BM_ConditionEvalOnly(benchmark::State& state) {
  google::protobuf::Arena arena;
  auto* req = MakeRequest(&arena);
  auto cond = ottl::Condition::Compile(ottl::ContextKind::kSpan, R"(attributes["http.route"] == "/ready")");
  ottl::EvalContext c;
  auto& rs = *req->mutable_resource_spans(0);
  c.resource = rs.mutable_resource();
  c.scope = rs.mutable_scope_spans(0)->mutable_scope();
  auto* spans = rs.mutable_scope_spans(0)->mutable_spans();
  uint64_t before = bench::g_allocs.load();
  size_t matched = 0;
  for (auto _ : state) {
    for (auto& s : *spans) {
      c.span = &s;
      absl::StatusOr<bool> r = cond->Eval(c);
      matched += r.ok() && *r;
    }
  }
  Report(state, bench::g_allocs.load() - before);
  benchmark::DoNotOptimize(matched);
}
BENCHMARK(BM_ConditionEvalOnly);

// The transform processor's work with five statements in the span context.
void BM_TransformFiveStatements(benchmark::State& state) {
  google::protobuf::Arena arena;
  auto* req = MakeRequest(&arena);
  std::vector<ottl::Statement> statements;
  for (
      const char* text : {
          R"(set(attributes["deployment.environment"], "production"))",
          R"(set(attributes["service"], resource.attributes["service.name"]))",
          R"(delete_key(attributes, "thread.name"))",
          R"(set(status.code, STATUS_CODE_ERROR) where attributes["http.status_code"] >= 500)",
          R"(set(attributes["route.class"], "health") where attributes["http.route"] == "/health" and kind == SPAN_KIND_SERVER)",
      }) {
    auto s = ottl::Statement::Compile(ottl::ContextKind::kSpan, text);
    if (!s.ok()) {
      state.SkipWithError(std::string(s.status().message()).c_str());
      return;
    }
    statements.push_back(std::move(*s));
  }
  ottl::EvalContext c;
  std::function<absl::StatusOr<bool>(ottl::EvalContext&)> fn = [&](ottl::EvalContext& ec) -> absl::StatusOr<bool> {
    for (const auto& s : statements) {
      if (absl::Status st = s.Execute(ec); !st.ok()) return st;
    }
    return false;
  };
  (void)ottl::WalkTraces(*req, ottl::ContextKind::kSpan, c, fn);  // first pass adds the attributes
  uint64_t before = bench::g_allocs.load();
  for (auto _ : state) {
    (void)ottl::WalkTraces(*req, ottl::ContextKind::kSpan, c, fn);
  }
  Report(state, bench::g_allocs.load() - before);
}
BENCHMARK(BM_TransformFiveStatements);

}  // namespace

BENCHMARK_MAIN();
