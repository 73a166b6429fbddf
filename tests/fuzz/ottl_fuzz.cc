// An OTTL statement or condition (they come from configs, and their values from records):
// the first byte picks the context and the form, the rest is the text. What compiles is
// run on a small request of spans, span events and log records, so the evaluator, the
// functions and the editors see every value the statement makes.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "collector/ottl/ottl.h"
#include "collector/ottl/walk.h"
#include "opentelemetry/proto/collector/logs/v1/logs_service.pb.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"

using namespace outrigger;

namespace {

void Attr(google::protobuf::RepeatedPtrField<opentelemetry::proto::common::v1::KeyValue>* kvs, const char* k,
          const char* v) {
  auto* kv = kvs->Add();
  kv->set_key(k);
  kv->mutable_value()->set_string_value(v);
}

opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest Traces() {
  opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest req;
  auto* rs = req.add_resource_spans();
  Attr(rs->mutable_resource()->mutable_attributes(), "service.name", "checkout");
  auto* ss = rs->add_scope_spans();
  ss->mutable_scope()->set_name("lib");
  for (int i = 0; i < 3; ++i) {
    auto* s = ss->add_spans();
    s->set_name(i == 0 ? "GET /ready" : "POST /cart");
    s->set_trace_id(std::string(16, static_cast<char>(i + 1)));
    s->set_span_id(std::string(8, static_cast<char>(i + 1)));
    s->set_start_time_unix_nano(1000);
    s->set_end_time_unix_nano(5000 + i);
    Attr(s->mutable_attributes(), "http.route", "/ready");
    s->mutable_attributes()->Add()->set_key("n");
    s->mutable_attributes()->rbegin()->mutable_value()->set_int_value(i);
    auto* e = s->add_events();
    e->set_name("exception");
    Attr(e->mutable_attributes(), "exception.message", "{\"a\":[1,2,{\"b\":\"c\"}]}");
  }
  return req;
}

opentelemetry::proto::collector::logs::v1::ExportLogsServiceRequest Logs() {
  opentelemetry::proto::collector::logs::v1::ExportLogsServiceRequest req;
  auto* rl = req.add_resource_logs();
  Attr(rl->mutable_resource()->mutable_attributes(), "service.name", "checkout");
  auto* sl = rl->add_scope_logs();
  for (int i = 0; i < 2; ++i) {
    auto* l = sl->add_log_records();
    l->mutable_body()->set_string_value(i == 0 ? "level=info msg=\"ok\" user=42" : "{\"k\":\"v\",\"n\":1.5}");
    l->set_severity_number(opentelemetry::proto::logs::v1::SEVERITY_NUMBER_WARN);
    Attr(l->mutable_attributes(), "path", "/var/log/app.log");
  }
  return req;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const ottl::ContextKind contexts[] = {ottl::ContextKind::kResource, ottl::ContextKind::kScope,
                                        ottl::ContextKind::kSpan, ottl::ContextKind::kSpanEvent,
                                        ottl::ContextKind::kLog};
  const ottl::ContextKind ctx = contexts[(data[0] & 0x7f) % 5];
  const bool condition = data[0] & 0x80;
  std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  ottl::EvalContext c;
  auto run = [&](auto&& fn) {
    if (ctx == ottl::ContextKind::kLog) {
      auto req = Logs();
      (void)ottl::WalkLogs(req, ctx, c, fn);
    } else {
      auto req = Traces();
      (void)ottl::WalkTraces(req, ctx, c, fn);
    }
  };
  if (condition) {
    auto cond = ottl::Condition::Compile(ctx, text);
    if (!cond.ok()) return 0;
    run([&](ottl::EvalContext& ec) -> absl::StatusOr<bool> { return cond->Eval(ec); });
  } else {
    auto st = ottl::Statement::Compile(ctx, text);
    if (!st.ok()) return 0;
    run([&](ottl::EvalContext& ec) -> absl::StatusOr<bool> {
      auto r = st->Execute(ec);
      if (!r.ok()) return r;
      return false;
    });
  }
  return 0;
}
