#include "collector/ottl/ottl.h"

#include <gtest/gtest.h>

#include <random>

#include "collector/common/strings.h"
#include "opentelemetry/proto/common/v1/common.pb.h"
#include "opentelemetry/proto/logs/v1/logs.pb.h"
#include "opentelemetry/proto/metrics/v1/metrics.pb.h"
#include "opentelemetry/proto/resource/v1/resource.pb.h"
#include "opentelemetry/proto/trace/v1/trace.pb.h"

namespace outrigger::ottl {
namespace {

namespace tpb = opentelemetry::proto::trace::v1;
namespace mpb = opentelemetry::proto::metrics::v1;

void Attr(KeyValues* m, const std::string& k, const std::string& v) { Upsert(m, k)->set_string_value(v); }
void Attr(KeyValues* m, const std::string& k, int64_t v) { Upsert(m, k)->set_int_value(v); }

// A span with its resource and scope, as the walkers set them.
struct SpanRecord {
  opentelemetry::proto::resource::v1::Resource resource;
  opentelemetry::proto::common::v1::InstrumentationScope scope;
  tpb::Span span;
  std::string resource_schema, scope_schema;
  EvalContext c;
  SpanRecord() {
    Attr(resource.mutable_attributes(), "service.name", "checkout");
    scope.set_name("io.opentelemetry.http");
    scope.set_version("1.2");
    span.set_name("GET /api");
    span.set_kind(tpb::Span::SPAN_KIND_SERVER);
    span.set_trace_id(std::string("\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10", 16));
    span.set_span_id(std::string("\x01\x02\x03\x04\x05\x06\x07\x08", 8));
    span.set_start_time_unix_nano(1000);
    span.set_end_time_unix_nano(3500);
    span.mutable_status()->set_code(tpb::Status::STATUS_CODE_ERROR);
    Attr(span.mutable_attributes(), "http.method", "GET");
    Attr(span.mutable_attributes(), "http.status_code", 503);
    c.resource = &resource;
    c.scope = &scope;
    c.span = &span;
    c.resource_schema_url = &resource_schema;
    c.scope_schema_url = &scope_schema;
  }
};

Value Get(ContextKind ctx, std::string_view expr, EvalContext& c) {
  ParseError err;
  auto ast = ParseValue(expr, &err);
  EXPECT_TRUE(ast.ok()) << err.ToString();
  auto e = CompileExpr(ctx, **ast);
  EXPECT_TRUE(e.ok()) << e.status();
  Value v;
  absl::Status st = (*e)->Eval(c, &v);
  EXPECT_TRUE(st.ok()) << st;
  if (v.type == Type::kString) return Value::String(std::string(v.s));  // outlive the Expr
  return v;
}

bool Holds(ContextKind ctx, std::string_view cond, EvalContext& c) {
  auto k = Condition::Compile(ctx, cond);
  EXPECT_TRUE(k.ok()) << k.status();
  if (!k.ok()) return false;
  auto r = k->Eval(c);
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() && *r;
}

void Exec(ContextKind ctx, std::string_view stmt, EvalContext& c) {
  auto s = Statement::Compile(ctx, stmt);
  ASSERT_TRUE(s.ok()) << s.status();
  absl::Status st = s->Execute(c);
  ASSERT_TRUE(st.ok()) << st;
}

std::string CompileError(ContextKind ctx, std::string_view stmt) {
  ParseError err;
  auto s = Statement::Compile(ctx, stmt, &err);
  if (s.ok()) return "OK";
  return err.ToString();
}

TEST(Ottl, SpanPaths) {
  SpanRecord r;
  EXPECT_EQ(Get(ContextKind::kSpan, "name", r.c).s, "GET /api");
  EXPECT_EQ(Get(ContextKind::kSpan, "span.name", r.c).s, "GET /api");
  EXPECT_EQ(Get(ContextKind::kSpan, "kind", r.c).i, 2);
  EXPECT_EQ(Get(ContextKind::kSpan, "kind.string", r.c).s, "Server");
  EXPECT_EQ(Get(ContextKind::kSpan, "status.code", r.c).i, 2);
  EXPECT_EQ(Get(ContextKind::kSpan, "trace_id.string", r.c).s, "0102030405060708090a0b0c0d0e0f10");
  EXPECT_EQ(Get(ContextKind::kSpan, "span_id.string", r.c).s, "0102030405060708");
  EXPECT_EQ(Get(ContextKind::kSpan, "end_time_unix_nano - start_time_unix_nano", r.c).i, 2500);
  EXPECT_EQ(Get(ContextKind::kSpan, "end_time - start_time", r.c).i, 2500);
  EXPECT_EQ(Get(ContextKind::kSpan, R"(resource.attributes["service.name"])", r.c).s, "checkout");
  EXPECT_EQ(Get(ContextKind::kSpan, "instrumentation_scope.name", r.c).s, "io.opentelemetry.http");
  EXPECT_EQ(Get(ContextKind::kSpan, "scope.version", r.c).s, "1.2");
  EXPECT_EQ(Get(ContextKind::kSpan, R"(attributes["http.status_code"])", r.c).i, 503);
  EXPECT_TRUE(Get(ContextKind::kSpan, R"(attributes["absent"])", r.c).IsNil());
  EXPECT_EQ(Get(ContextKind::kSpan, "attributes", r.c).type, Type::kMap);
}

TEST(Ottl, EnumsAndComparisons) {
  SpanRecord r;
  EXPECT_TRUE(Holds(ContextKind::kSpan, "kind == SPAN_KIND_SERVER and status.code == STATUS_CODE_ERROR", r.c));
  EXPECT_FALSE(Holds(ContextKind::kSpan, "kind == SPAN_KIND_CLIENT", r.c));
  EXPECT_TRUE(Holds(ContextKind::kSpan, R"(attributes["http.status_code"] >= 500)", r.c));
  EXPECT_TRUE(Holds(ContextKind::kSpan, R"(attributes["http.status_code"] > 502.5)", r.c));  // int vs double
  EXPECT_TRUE(Holds(ContextKind::kSpan, R"(attributes["absent"] == nil)", r.c));
  EXPECT_FALSE(Holds(ContextKind::kSpan, R"(attributes["http.method"] == 1)", r.c));  // different types
  EXPECT_TRUE(Holds(ContextKind::kSpan, R"(attributes["http.method"] != 1)", r.c));
  EXPECT_FALSE(Holds(ContextKind::kSpan, R"(attributes["http.method"] < 1)", r.c));
  EXPECT_TRUE(Holds(ContextKind::kSpan, R"("abc" < "abd")", r.c));
  EXPECT_TRUE(Holds(ContextKind::kSpan, "false < true", r.c));
  EXPECT_TRUE(Holds(ContextKind::kSpan, R"({"a": 1} == {"a": 1})", r.c));
  EXPECT_FALSE(Holds(ContextKind::kSpan, R"([1, 2] < [1, 3])", r.c));  // slices: only == and !=
  EXPECT_TRUE(Holds(ContextKind::kSpan, R"(not IsMatch(name, "^POST"))", r.c));
  EXPECT_TRUE(Holds(ContextKind::kSpan, "1 + 2 * 3 == 7 and (1 + 2) * 3 == 9 and 7 / 2 == 3", r.c));
}

TEST(Ottl, Set) {
  SpanRecord r;
  Exec(ContextKind::kSpan, R"(set(attributes["env"], resource.attributes["service.name"]))", r.c);
  Exec(ContextKind::kSpan, R"(set(name, Concat([name, "x"], "-")) where kind == SPAN_KIND_SERVER)", r.c);
  Exec(ContextKind::kSpan, R"(set(name, "never") where kind == SPAN_KIND_CLIENT)", r.c);
  Exec(ContextKind::kSpan, R"(set(attributes["nested"]["a"], 1))", r.c);
  Exec(ContextKind::kSpan, R"(set(status.code, STATUS_CODE_OK))", r.c);
  Exec(ContextKind::kSpan, R"(set(attributes["gone"], attributes["absent"]))", r.c);  // nil: nothing
  Exec(ContextKind::kSpan, R"(set(cache["x"], "1"))", r.c);
  Exec(ContextKind::kSpan, R"(set(attributes["from_cache"], cache["x"]))", r.c);
  Exec(ContextKind::kSpan, R"(set(trace_id.string, "ffffffffffffffffffffffffffffffff"))", r.c);
  EXPECT_EQ(r.span.name(), "GET /api-x");
  EXPECT_EQ(Find(r.span.attributes(), "env")->string_value(), "checkout");
  EXPECT_EQ(Find(Find(r.span.attributes(), "nested")->kvlist_value().values(), "a")->int_value(), 1);
  EXPECT_EQ(Find(r.span.attributes(), "gone"), nullptr);
  EXPECT_EQ(Find(r.span.attributes(), "from_cache")->string_value(), "1");
  EXPECT_EQ(r.span.status().code(), tpb::Status::STATUS_CODE_OK);
  EXPECT_EQ(r.span.trace_id(), std::string(16, '\xff'));
}

TEST(Ottl, CompileErrorsNameTheColumnAndTheAlternatives) {
  EXPECT_EQ(CompileError(ContextKind::kSpan, R"(sett(name, "x"))"),
            "column 1: unknown editor 'sett'; the editors are: set, delete_key, delete_matching_keys, keep_keys, "
            "keep_matching_keys, limit, merge_maps, replace_pattern, replace_all_patterns, replace_match, "
            "replace_all_matches, truncate_all, flatten");
  std::string unknown_converter = CompileError(ContextKind::kSpan, R"(set(name, Upper(name)))");
  EXPECT_EQ(unknown_converter.substr(0, 58), "column 11: unknown converter 'Upper'; the converters are: ");
  EXPECT_NE(unknown_converter.find("Concat, ConvertCase, Format"), std::string::npos);
  EXPECT_EQ(CompileError(ContextKind::kSpan, R"(set(nmae, "x"))").substr(0, 55),
            "column 5: unknown path nmae in the span context; span p");
  EXPECT_EQ(CompileError(ContextKind::kSpan, R"(set(name, "x") where log.body == "a")"),
            "column 22: path log.body: the span context has no log paths");
  EXPECT_EQ(CompileError(ContextKind::kSpan, R"(set(name, SPAN_KIND_SERVERR))"),
            "column 11: unknown enum SPAN_KIND_SERVERR");
  EXPECT_EQ(CompileError(ContextKind::kSpan, R"(set(name))"),
            "column 1: set needs the argument value (2 required: set(target, value): writes value to the path "
            "target; nil does nothing)");
  EXPECT_EQ(CompileError(ContextKind::kSpan, R"(keep_keys(attributes, ["a"], 1))"),
            "column 30: keep_keys takes at most 2 arguments");
  EXPECT_EQ(CompileError(ContextKind::kSpan, R"(set(name, "x", set(name, "y")))"),
            "column 16: set takes at most 2 arguments");
  EXPECT_EQ(CompileError(ContextKind::kSpan, R"(set(name, set(name, "y")))"),
            "column 11: editor set cannot be used as a value; only converters (upper case) can");
  EXPECT_EQ(CompileError(ContextKind::kSpan, R"(delete_matching_keys(attributes, "("))").substr(0, 48),
            "column 34: pattern \"(\" is not a valid regex: mis");
  EXPECT_EQ(CompileError(ContextKind::kSpan, R"(flatten(attributes, deep=1))"),
            "column 26: flatten has no argument named deep; its arguments are: target, prefix, depth, "
            "resolveConflicts");
  EXPECT_EQ(CompileError(ContextKind::kSpan, R"(set(name, 1 / 0))"), "OK");  // an error at run time
  EXPECT_EQ(CompileError(ContextKind::kResource, R"(set(name, "x"))").substr(0, 58),
            "column 5: unknown path name in the resource context; resou");
  EXPECT_EQ(CompileError(ContextKind::kSpan, R"(set(status.code, 1)  where name["x"] == 1)"),
            "column 28: path name cannot be indexed with [...]");
}

TEST(Ottl, RuntimeErrors) {
  SpanRecord r;
  auto s = Statement::Compile(ContextKind::kSpan, R"(set(attributes["x"], attributes["http.status_code"] / 0))");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->Execute(r.c).message(), "division by zero");
  auto mix = Condition::Compile(ContextKind::kSpan, R"(attributes["http.status_code"] + 1.5 > 0)");
  ASSERT_TRUE(mix.ok());
  EXPECT_EQ(mix->Eval(r.c).status().message(), "cannot compute int + double");
  auto not_bool = Condition::Compile(ContextKind::kSpan, R"(Int("1"))");
  ASSERT_TRUE(not_bool.ok());
  EXPECT_FALSE(not_bool->Eval(r.c).ok());
}

TEST(Ottl, OtherContexts) {
  opentelemetry::proto::resource::v1::Resource res;
  opentelemetry::proto::common::v1::InstrumentationScope scope;
  mpb::Metric metric;
  metric.set_name("http.requests");
  auto* sum = metric.mutable_sum();
  sum->set_aggregation_temporality(mpb::AGGREGATION_TEMPORALITY_CUMULATIVE);
  sum->set_is_monotonic(true);
  auto* dp = sum->add_data_points();
  dp->set_as_int(42);
  Attr(dp->mutable_attributes(), "route", "/a");
  EvalContext c;
  c.resource = &res;
  c.scope = &scope;
  c.metric = &metric;
  c.number = dp;
  EXPECT_TRUE(Holds(ContextKind::kDataPoint,
                    R"(metric.name == "http.requests" and metric.type == METRIC_DATA_TYPE_SUM and value_int == 42)",
                    c));
  EXPECT_TRUE(Holds(ContextKind::kMetric,
                    "aggregation_temporality == AGGREGATION_TEMPORALITY_CUMULATIVE and is_monotonic == true", c));
  EXPECT_TRUE(Holds(ContextKind::kDataPoint, R"(attributes["route"] == "/a" and value_double == nil)", c));
  Exec(ContextKind::kDataPoint, "set(value_int, value_int * 2)", c);
  EXPECT_EQ(dp->as_int(), 84);

  opentelemetry::proto::logs::v1::LogRecord log;
  log.mutable_body()->set_string_value(R"({"user":"ann","n":2})");
  log.set_severity_number(opentelemetry::proto::logs::v1::SEVERITY_NUMBER_WARN);
  EvalContext lc;
  lc.resource = &res;
  lc.scope = &scope;
  lc.log = &log;
  EXPECT_TRUE(Holds(ContextKind::kLog, "severity_number >= SEVERITY_NUMBER_WARN and IsString(body)", lc));
  Exec(ContextKind::kLog, R"(set(body, ParseJSON(body)))", lc);
  EXPECT_TRUE(Holds(ContextKind::kLog, R"(body["user"] == "ann" and log.body["n"] == 2.0)", lc));
  Exec(ContextKind::kLog, R"(set(attributes["u"], body["user"]))", lc);
  EXPECT_EQ(Find(log.attributes(), "u")->string_value(), "ann");
}

TEST(Ottl, InferContext) {
  auto infer = [](std::string_view s) -> std::string {
    auto p = ParseStatement(s, nullptr);
    if (!p.ok()) return "error";
    auto k = InferContext(*p);
    return k ? std::string(ContextName(*k)) : "none";
  };
  EXPECT_EQ(infer(R"(set(resource.attributes["a"], "b"))"), "resource");
  EXPECT_EQ(infer(R"(set(span.attributes["a"], resource.attributes["b"]))"), "span");
  EXPECT_EQ(infer(R"(set(metric.name, "x") where datapoint.attributes["a"] == "b")"), "datapoint");
  EXPECT_EQ(infer(R"(set(attributes["a"], "b"))"), "none");
}

// ---- compiled and interpreted forms agree on random expressions ----

class RandomExpr {
 public:
  explicit RandomExpr(uint32_t seed) : rng_(seed) {}

  std::string Bool(int depth) {
    switch (Pick(depth > 0 ? 6 : 2)) {
      case 0:
        return Pick(2) ? "true" : "false";
      case 1:
        return Comparison(depth);
      case 2:
        return StrCat(Bool(depth - 1), " and ", Bool(depth - 1));
      case 3:
        return StrCat(Bool(depth - 1), " or ", Bool(depth - 1));
      case 4:
        return StrCat("not ", Pick(2) ? Comparison(depth) : StrCat("(", Bool(depth - 1), ")"));
      default:
        return StrCat("(", Bool(depth - 1), ")");
    }
  }

 private:
  int Pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }

  std::string Comparison(int depth) {
    static const char* kOps[] = {"==", "!=", "<", "<=", ">", ">="};
    return StrCat(Value(depth), " ", kOps[Pick(6)], " ", Value(depth));
  }

  std::string Value(int depth) {
    static const char* kLeaves[] = {"name",
                                    "kind",
                                    "status.code",
                                    R"(attributes["n"])",
                                    R"(attributes["s"])",
                                    "1",
                                    "2",
                                    "-3",
                                    "1.5",
                                    R"("GET /api")",
                                    R"("x")",
                                    "nil",
                                    "true",
                                    R"(attributes["absent"])",
                                    "SPAN_KIND_SERVER",
                                    "0x0102",
                                    R"(resource.attributes["service.name"])",
                                    R"(attributes["d"])",
                                    "start_time_unix_nano",
                                    R"(Len(name))",
                                    R"(Int(attributes["s"]))",
                                    R"(IsMatch(name, "^GET"))",
                                    R"(Concat([name, "1"], ""))",
                                    R"([1, "a"])",
                                    R"({"k": 1})"};
    if (depth > 0 && Pick(3) == 0) {
      static const char* kMath[] = {"+", "-", "*", "/"};
      return StrCat("(", Operand(depth - 1), " ", kMath[Pick(4)], " ", Operand(depth - 1), ")");
    }
    return kLeaves[Pick(sizeof(kLeaves) / sizeof(kLeaves[0]))];
  }

  // Booleans are no math operands (the parser refuses `true + 1`).
  std::string Operand(int depth) {
    std::string v = Value(depth);
    return v == "true" ? "1" : v;
  }

  std::mt19937 rng_;
};

TEST(Ottl, CompiledAndInterpretedAgree) {
  std::mt19937 rng(12345);
  int compared = 0, errors = 0, trues = 0;
  for (int i = 0; i < 3000; ++i) {
    RandomExpr gen(static_cast<uint32_t>(rng()));
    std::string text = gen.Bool(3);
    ParseError err;
    auto ast = ParseCondition(text, &err);
    ASSERT_TRUE(ast.ok()) << text << ": " << err.ToString();
    auto compiled = CompileExpr(ContextKind::kSpan, **ast);
    ASSERT_TRUE(compiled.ok()) << text << ": " << compiled.status();

    SpanRecord r;
    Attr(r.span.mutable_attributes(), "n", static_cast<int64_t>(rng() % 5) - 2);
    Attr(r.span.mutable_attributes(), "s", std::to_string(rng() % 3));
    Upsert(r.span.mutable_attributes(), "d")->set_double_value(static_cast<double>(rng() % 4) / 2);
    r.span.set_kind(static_cast<tpb::Span::SpanKind>(rng() % 6));

    Value a, b;
    absl::Status sa = (*compiled)->Eval(r.c, &a);
    absl::Status sb = Interpret(ContextKind::kSpan, **ast, r.c, &b);
    ASSERT_EQ(sa.ok(), sb.ok()) << text << ": compiled " << sa << ", interpreted " << sb;
    if (!sa.ok()) {
      ++errors;
      continue;
    }
    ASSERT_EQ(a.type, b.type) << text;
    ASSERT_TRUE(Equal(a, b)) << text;
    ++compared;
    trues += a.type == Type::kBool && a.b;
  }
  // The generator exercises both outcomes and the error paths.
  EXPECT_GT(compared, 1500);
  EXPECT_GT(trues, 300);
  EXPECT_GT(errors, 10);
}

}  // namespace
}  // namespace outrigger::ottl
