#include "processors/tail_sampling/policy.h"

#include <gtest/gtest.h>

#include "collector/ottl/context.h"
#include "opentelemetry/proto/trace/v1/trace.pb.h"
#include "spdlog/spdlog.h"

namespace outrigger::processors::tail_sampling {
namespace {

namespace tpb = opentelemetry::proto::trace::v1;
namespace cpb = opentelemetry::proto::common::v1;
namespace rpb = opentelemetry::proto::resource::v1;

std::string Id(int n) {
  std::string id(16, '\0');
  id[14] = static_cast<char>(n >> 8);
  id[15] = static_cast<char>(n);
  id[0] = 0x42;
  return id;
}

void Attr(google::protobuf::RepeatedPtrField<cpb::KeyValue>* attrs, const std::string& k, const std::string& v) {
  auto* kv = attrs->Add();
  kv->set_key(k);
  kv->mutable_value()->set_string_value(v);
}
void IntAttr(google::protobuf::RepeatedPtrField<cpb::KeyValue>* attrs, const std::string& k, int64_t v) {
  auto* kv = attrs->Add();
  kv->set_key(k);
  kv->mutable_value()->set_int_value(v);
}
void BoolAttr(google::protobuf::RepeatedPtrField<cpb::KeyValue>* attrs, const std::string& k, bool v) {
  auto* kv = attrs->Add();
  kv->set_key(k);
  kv->mutable_value()->set_bool_value(v);
}

PolicyCfg P(const std::string& name, const std::string& type) {
  PolicyCfg p;
  p.name = name;
  p.type = type;
  return p;
}

// One trace being folded and decided by a set of policies.
class Fixture {
 public:
  explicit Fixture(std::vector<PolicyCfg> cfgs) {
    auto p = Policies::Compile(cfgs, spdlog::default_logger());
    EXPECT_TRUE(p.ok()) << p.status();
    policies_ = std::move(*p);
  }
  // A fresh trace.
  void Begin(std::string id = Id(1)) {
    id_ = std::move(id);
    policies_->Init(&st_);
    spans_ = 0;
  }
  // Folds `span` (under `resource`) into the current trace.
  // (as the processor does: read from the encoding; decoded only for OTTL).
  void Span(const tpb::Span& span, const rpb::Resource& resource = rpb::Resource()) {
    const std::string res = resource.SerializeAsString();
    const std::string raw = span.SerializeAsString();
    std::vector<AttrView> attrs;
    ParseAttributes(res, 1, &attrs);
    TraceState rb;
    policies_->MatchResource(attrs, &rb);
    policies_->Merge(rb, &st_);
    SpanView v;
    ASSERT_TRUE(ParseSpan(raw, &v));
    resource_ = resource;
    span_ = span;
    policies_->OnSpan(v, &st_, [&] {
      ctx_.resource = &resource_;
      ctx_.scope = &scope_;
      ctx_.span = &span_;
      return &ctx_;
    });
    ++spans_;
  }
  Policies::Result Decide(int64_t now_ns = 0, int64_t now_s = 1000, uint64_t bytes = 100, bool first_match = false) {
    Policies::TraceInfo info;
    info.trace_id = id_;
    info.spans = spans_;
    info.bytes = bytes;
    info.now_ns = now_ns;
    info.now_unix_s = now_s;
    return policies_->Decide(st_, info, first_match);
  }
  bool Sampled(int64_t now_ns = 0, int64_t now_s = 1000) {
    return Decide(now_ns, now_s).decision == Decision::kSampled;
  }
  Policies& policies() { return *policies_; }

 private:
  std::unique_ptr<Policies> policies_;
  rpb::Resource resource_;
  cpb::InstrumentationScope scope_;
  tpb::Span span_;
  ottl::EvalContext ctx_;
  TraceState st_;
  std::string id_;
  uint64_t spans_ = 0;
};

tpb::Span SpanAt(uint64_t start_ms, uint64_t end_ms) {
  tpb::Span s;
  s.set_start_time_unix_nano(1'700'000'000'000'000'000ull + start_ms * 1'000'000);
  s.set_end_time_unix_nano(1'700'000'000'000'000'000ull + end_ms * 1'000'000);
  return s;
}

TEST(LatencyPolicy, HostileTimestampsAreNotAnOverflow) {
  // A client's start near 2^63 and end far below it: upstream's int64 difference wraps to
  // a negative duration (no match); here the same without signed overflow (UBSan-clean).
  PolicyCfg lo = P("slow", "latency");
  lo.threshold_ms = 100;
  Fixture f({lo});
  f.Begin();
  tpb::Span s;
  s.set_start_time_unix_nano(0x8000000000000000ull);
  s.set_end_time_unix_nano(0x4000000000000000ull);
  f.Span(s);
  EXPECT_FALSE(f.Sampled());
  f.Begin();
  s.set_start_time_unix_nano(1);
  s.set_end_time_unix_nano(~0ull);  // the longest duration there is
  f.Span(s);
  EXPECT_FALSE(f.Sampled());  // read as signed, as upstream: a negative duration
}

TEST(ProbabilisticPolicy, UpstreamHashAndThreshold) {
  // Golden values computed independently (FNV-1a 64; Go's big.Float product at 64 bits).
  std::string seq;
  for (int i = 0; i < 16; ++i) seq.push_back(static_cast<char>(i));
  EXPECT_EQ(ProbabilisticHash("default-hash-seed", seq), 0xa6622cfe5bfb0e0dull);
  EXPECT_EQ(ProbabilisticHash("my-salt", std::string(16, '\xff')), 0x73daea262c898636ull);
  EXPECT_EQ(ProbabilisticThreshold(10), 1844674407370955263ull);
  EXPECT_EQ(ProbabilisticThreshold(33.3), 6142765776545279999ull);
  EXPECT_EQ(ProbabilisticThreshold(0.1), 18446744073709551ull);
  EXPECT_EQ(ProbabilisticThreshold(50), 9223372036854775807ull);
  EXPECT_EQ(ProbabilisticThreshold(99.99), 18444899399302178815ull);
  EXPECT_EQ(ProbabilisticThreshold(100), 18446744073709551615ull);
  EXPECT_EQ(ProbabilisticThreshold(250), 18446744073709551615ull);
  EXPECT_EQ(ProbabilisticThreshold(0), 0u);
}

TEST(ProbabilisticPolicy, SamplesItsShareByTraceIdOnly) {
  PolicyCfg p = P("p", "probabilistic");
  p.sampling_percentage = 20;
  Fixture f({p});
  int sampled = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string id(16, '\0');
    for (int b = 0; b < 4; ++b) id[static_cast<size_t>(b)] = static_cast<char>(i >> (8 * b));
    f.Begin(id);
    f.Span(SpanAt(0, 1));
    const bool s = f.Sampled();
    EXPECT_EQ(s, ProbabilisticHash("default-hash-seed", id) <= ProbabilisticThreshold(20));
    sampled += s;
  }
  // 20% of 20,000 = 4,000; sd ~57: ±5 sd.
  EXPECT_NEAR(sampled, 4000, 300);
}

TEST(LatencyPolicy, ThresholdAndUpperBound) {
  PolicyCfg lo = P("slow", "latency");
  lo.threshold_ms = 100;
  Fixture f({lo});
  f.Begin();
  f.Span(SpanAt(0, 40));
  f.Span(SpanAt(50, 99));  // 99 ms overall
  EXPECT_FALSE(f.Sampled());
  f.Begin();
  f.Span(SpanAt(0, 40));
  f.Span(SpanAt(50, 100));  // earliest start to latest end: 100 ms
  EXPECT_TRUE(f.Sampled());

  PolicyCfg band = P("band", "latency");
  band.threshold_ms = 100;
  band.upper_threshold_ms = 200;
  Fixture g({band});
  g.Begin();
  g.Span(SpanAt(0, 100));  // not above 100
  EXPECT_FALSE(g.Sampled());
  g.Begin();
  g.Span(SpanAt(0, 150));
  EXPECT_TRUE(g.Sampled());
  g.Begin();
  g.Span(SpanAt(0, 250));
  EXPECT_FALSE(g.Sampled());
}

TEST(StatusCodePolicy, AnySpanWithAListedCode) {
  PolicyCfg p = P("errors", "status_code");
  p.status_codes = {"ERROR"};
  Fixture f({p});
  f.Begin();
  tpb::Span ok = SpanAt(0, 1);
  ok.mutable_status()->set_code(tpb::Status::STATUS_CODE_OK);
  f.Span(ok);
  EXPECT_FALSE(f.Sampled());
  tpb::Span err = SpanAt(0, 1);
  err.mutable_status()->set_code(tpb::Status::STATUS_CODE_ERROR);
  f.Span(err);
  EXPECT_TRUE(f.Sampled());
}

TEST(StringAttributePolicy, ExactRegexAndResource) {
  PolicyCfg exact = P("exact", "string_attribute");
  exact.key = "http.route";
  exact.values = {"/checkout", "/pay"};
  Fixture f({exact});
  tpb::Span s = SpanAt(0, 1);
  Attr(s.mutable_attributes(), "http.route", "/checkout/x");
  f.Begin();
  f.Span(s);
  EXPECT_FALSE(f.Sampled());
  tpb::Span s2 = SpanAt(0, 1);
  Attr(s2.mutable_attributes(), "http.route", "/pay");
  f.Span(s2);
  EXPECT_TRUE(f.Sampled());
  // On the resource.
  rpb::Resource r;
  Attr(r.mutable_attributes(), "http.route", "/checkout");
  f.Begin();
  f.Span(SpanAt(0, 1), r);
  EXPECT_TRUE(f.Sampled());

  PolicyCfg re = P("re", "string_attribute");
  re.key = "http.route";
  re.values = {"^/v1/name/.+"};
  re.enabled_regex_matching = true;
  Fixture g({re});
  g.Begin();
  g.Span(s);
  EXPECT_FALSE(g.Sampled());
  tpb::Span s3 = SpanAt(0, 1);
  Attr(s3.mutable_attributes(), "http.route", "/v1/name/42");
  g.Span(s3);
  EXPECT_TRUE(g.Sampled());
  // Go's MatchString is a search, not a full match.
  PolicyCfg search = P("search", "string_attribute");
  search.key = "http.route";
  search.values = {"name"};
  search.enabled_regex_matching = true;
  Fixture h({search});
  h.Begin();
  h.Span(s3);
  EXPECT_TRUE(h.Sampled());
}

TEST(StringAttributePolicy, InvertMatch) {
  // upstream: sampled (inverted) unless some span or resource matches; a trace without
  // the attribute at all is sampled.
  PolicyCfg inv = P("inv", "string_attribute");
  inv.key = "service.name";
  inv.values = {"noisy"};
  inv.invert_match = true;
  Fixture f({inv});
  f.Begin();
  f.Span(SpanAt(0, 1));
  EXPECT_EQ(f.Decide().per_policy[0], static_cast<int8_t>(Decision::kInvertSampled));
  EXPECT_TRUE(f.Sampled());
  rpb::Resource noisy;
  Attr(noisy.mutable_attributes(), "service.name", "noisy");
  f.Span(SpanAt(0, 1), noisy);
  EXPECT_EQ(f.Decide().per_policy[0], static_cast<int8_t>(Decision::kInvertNotSampled));
  EXPECT_FALSE(f.Sampled());

  // An inverted not-sampled wins over another policy's sampled.
  Fixture g({inv, P("all", "always_sample")});
  g.Begin();
  g.Span(SpanAt(0, 1), noisy);
  EXPECT_FALSE(g.Sampled());
  // An inverted sampled loses to a not-sampled.
  PolicyCfg never = P("never", "probabilistic");
  never.sampling_percentage = 0;
  Fixture h({inv, never});
  h.Begin();
  h.Span(SpanAt(0, 1));
  EXPECT_FALSE(h.Sampled());
}

TEST(NumericAndBooleanPolicies, Ranges) {
  PolicyCfg num = P("num", "numeric_attribute");
  num.key = "http.status_code";
  num.min_value = 500;
  num.max_value = 599;
  PolicyCfg boolean = P("bool", "boolean_attribute");
  boolean.key = "app.force_sample";
  boolean.bool_value = true;
  Fixture f({num});
  Fixture g({boolean});
  for (auto [code, want] :
       std::vector<std::pair<int64_t, bool>>{{200, false}, {499, false}, {500, true}, {599, true}, {600, false}}) {
    tpb::Span s = SpanAt(0, 1);
    IntAttr(s.mutable_attributes(), "http.status_code", code);
    f.Begin();
    f.Span(s);
    EXPECT_EQ(f.Sampled(), want) << code;
  }
  // Only min: no upper bound.
  PolicyCfg min_only = num;
  min_only.max_value = 0;
  Fixture m({min_only});
  tpb::Span big = SpanAt(0, 1);
  IntAttr(big.mutable_attributes(), "http.status_code", 1'000'000);
  m.Begin();
  m.Span(big);
  EXPECT_TRUE(m.Sampled());
  // A string is not a number.
  tpb::Span str = SpanAt(0, 1);
  Attr(str.mutable_attributes(), "http.status_code", "500");
  f.Begin();
  f.Span(str);
  EXPECT_FALSE(f.Sampled());

  tpb::Span yes = SpanAt(0, 1), no = SpanAt(0, 1);
  BoolAttr(yes.mutable_attributes(), "app.force_sample", true);
  BoolAttr(no.mutable_attributes(), "app.force_sample", false);
  g.Begin();
  g.Span(no);
  EXPECT_FALSE(g.Sampled());
  g.Span(yes);
  EXPECT_TRUE(g.Sampled());
}

TEST(SpanCountTraceStateAndFlagsPolicies, Match) {
  PolicyCfg count = P("count", "span_count");
  count.min_spans = 2;
  count.max_spans = 3;
  Fixture f({count});
  f.Begin();
  f.Span(SpanAt(0, 1));
  EXPECT_FALSE(f.Sampled());
  f.Span(SpanAt(0, 1));
  EXPECT_TRUE(f.Sampled());
  f.Span(SpanAt(0, 1));
  f.Span(SpanAt(0, 1));
  EXPECT_FALSE(f.Sampled());

  PolicyCfg ts = P("ts", "trace_state");
  ts.key = "vendor";
  ts.values = {"keep"};
  Fixture g({ts});
  tpb::Span a = SpanAt(0, 1), b = SpanAt(0, 1), bad = SpanAt(0, 1);
  a.set_trace_state("other=keep,vendor=drop");
  b.set_trace_state("ot=th:8, vendor=keep");
  bad.set_trace_state("vendor=keep,garbage");
  g.Begin();
  g.Span(a);
  g.Span(bad);
  EXPECT_FALSE(g.Sampled());
  g.Span(b);
  EXPECT_TRUE(g.Sampled());

  Fixture h({P("flags", "trace_flags")});
  tpb::Span unsampled = SpanAt(0, 1), sampled = SpanAt(0, 1);
  sampled.set_flags(0x101);
  h.Begin();
  h.Span(unsampled);
  EXPECT_FALSE(h.Sampled());
  h.Span(sampled);
  EXPECT_TRUE(h.Sampled());
}

TEST(RateLimitingPolicy, TokenBucketOfSpans) {
  PolicyCfg rl = P("rl", "rate_limiting");
  rl.spans_per_second = 10;  // burst 20
  Fixture f({rl});
  auto trace_of = [&](int spans) {
    f.Begin();
    for (int i = 0; i < spans; ++i) f.Span(SpanAt(0, 1));
  };
  const int64_t t0 = 5'000'000'000;
  trace_of(15);
  EXPECT_TRUE(f.Sampled(t0));  // 20 → 5
  trace_of(6);
  EXPECT_FALSE(f.Sampled(t0));  // 5 < 6
  trace_of(5);
  EXPECT_TRUE(f.Sampled(t0));  // 5 → 0
  trace_of(10);
  EXPECT_TRUE(f.Sampled(t0 + 1'000'000'000));  // refilled 10 in a second
  trace_of(21);
  EXPECT_FALSE(f.Sampled(t0 + 100'000'000'000));  // more than the burst: never
}

TEST(BytesLimitingPolicy, TokenBucketOfBytes) {
  PolicyCfg bl = P("bl", "bytes_limiting");
  bl.bytes_per_second = 1000;
  bl.burst_capacity = 1500;
  Fixture f({bl});
  f.Begin();
  f.Span(SpanAt(0, 1));
  EXPECT_EQ(f.Decide(0, 1000, 1000).decision, Decision::kSampled);  // 1500 → 500
  EXPECT_EQ(f.Decide(0, 1000, 600).decision, Decision::kNotSampled);
  EXPECT_EQ(f.Decide(500'000'000, 1000, 1000).decision, Decision::kSampled);  // +500 after 0.5 s
}

TEST(AndNotDropPolicies, Combine) {
  PolicyCfg svc = P("svc", "string_attribute");
  svc.key = "service.name";
  svc.values = {"checkout"};
  PolicyCfg errors = P("errors", "status_code");
  errors.status_codes = {"ERROR"};
  PolicyCfg both = P("both", "and");
  both.sub = {svc, errors};
  Fixture f({both});
  rpb::Resource checkout;
  Attr(checkout.mutable_attributes(), "service.name", "checkout");
  tpb::Span err = SpanAt(0, 1);
  err.mutable_status()->set_code(tpb::Status::STATUS_CODE_ERROR);
  f.Begin();
  f.Span(SpanAt(0, 1), checkout);
  EXPECT_FALSE(f.Sampled());
  f.Span(err);
  EXPECT_TRUE(f.Sampled());

  PolicyCfg health = P("health", "string_attribute");
  health.key = "url.path";
  health.values = {"/health"};
  PolicyCfg drop = P("drop-health", "drop");
  drop.sub = {health};
  // Listed last, evaluated first: a drop wins over always_sample.
  Fixture g({P("all", "always_sample"), drop});
  EXPECT_EQ(g.policies().names(), (std::vector<std::string>{"drop-health", "all"}));
  tpb::Span h = SpanAt(0, 1);
  Attr(h.mutable_attributes(), "url.path", "/health");
  g.Begin();
  g.Span(SpanAt(0, 1));
  EXPECT_TRUE(g.Sampled());
  g.Span(h);
  auto r = g.Decide();
  EXPECT_EQ(r.decision, Decision::kDropped);
  EXPECT_EQ(r.per_policy[1], -1);  // evaluation stops at a drop

  PolicyCfg nt = P("not-health", "not");
  nt.sub = {health};
  Fixture n({nt});
  n.Begin();
  n.Span(SpanAt(0, 1));
  EXPECT_TRUE(n.Sampled());
  n.Span(h);
  EXPECT_FALSE(n.Sampled());
}

TEST(CompositePolicy, RateAllocationPerSecond) {
  PolicyCfg gold = P("gold", "string_attribute");
  gold.key = "tier";
  gold.values = {"gold"};
  PolicyCfg rest = P("rest", "always_sample");
  PolicyCfg unlisted = P("unlisted", "always_sample");
  PolicyCfg c = P("composite", "composite");
  c.max_total_spans_per_second = 10;
  c.sub = {gold, rest, unlisted};
  c.rate_allocation = {{"gold", 50}, {"rest", 30}};  // 5 and 3 spans a second; unlisted: 0
  Fixture f({c});
  rpb::Resource g;
  Attr(g.mutable_attributes(), "tier", "gold");
  auto trace = [&](bool is_gold, int spans) {
    f.Begin();
    for (int i = 0; i < spans; ++i) f.Span(SpanAt(0, 1), is_gold ? g : rpb::Resource());
  };
  trace(true, 3);
  EXPECT_TRUE(f.Sampled(0, 100));  // gold 3/5
  trace(true, 3);
  EXPECT_FALSE(f.Sampled(0, 100));  // gold would be 6/5; the next sub-policy is not tried
  trace(true, 2);
  EXPECT_TRUE(f.Sampled(0, 100));  // 5/5
  trace(false, 3);
  EXPECT_TRUE(f.Sampled(0, 100));  // rest 3/3
  trace(false, 1);
  EXPECT_FALSE(f.Sampled(0, 100));  // rest full; unlisted has no allocation
  trace(false, 1);
  EXPECT_TRUE(f.Sampled(0, 101));  // a new second
}

TEST(SampleOnFirstMatch, StopsAtTheFirstSampled) {
  PolicyCfg rl = P("rl", "rate_limiting");
  rl.spans_per_second = 1;  // burst 2
  Fixture f({P("all", "always_sample"), rl});
  f.Begin();
  f.Span(SpanAt(0, 1));
  auto r = f.Decide(0, 1000, 100, /*first_match=*/true);
  EXPECT_EQ(r.decision, Decision::kSampled);
  EXPECT_EQ(r.per_policy[1], -1);
  // Without it, every policy is evaluated (the limiter spends its tokens).
  EXPECT_EQ(f.Decide(0, 1000, 100, false).per_policy[1], static_cast<int8_t>(Decision::kSampled));
  EXPECT_EQ(f.Decide(0, 1000, 100, false).per_policy[1], static_cast<int8_t>(Decision::kSampled));
  EXPECT_EQ(f.Decide(0, 1000, 100, false).per_policy[1], static_cast<int8_t>(Decision::kNotSampled));
}

TEST(OttlConditionPolicy, SpanAndSpanEventConditions) {
  PolicyCfg o = P("ottl", "ottl_condition");
  o.span_conditions.push_back(*ottl::Condition::Compile(ottl::ContextKind::kSpan, R"(attributes["k"] == "v")"));
  o.spanevent_conditions.push_back(*ottl::Condition::Compile(ottl::ContextKind::kSpanEvent, R"(name == "exception")"));
  Fixture f({o});
  f.Begin();
  f.Span(SpanAt(0, 1));
  EXPECT_FALSE(f.Sampled());
  tpb::Span e = SpanAt(0, 1);
  e.add_events()->set_name("exception");
  f.Span(e);
  EXPECT_TRUE(f.Sampled());
  tpb::Span a = SpanAt(0, 1);
  Attr(a.mutable_attributes(), "k", "v");
  f.Begin();
  f.Span(a);
  EXPECT_TRUE(f.Sampled());
}

TEST(OttlConditionPolicy, ErrorModes) {
  // int + string fails at run time.
  auto cond = *ottl::Condition::Compile(ottl::ContextKind::kSpan, R"(attributes["n"] + 1 > 2)");
  tpb::Span s = SpanAt(0, 1);
  Attr(s.mutable_attributes(), "n", "not a number");
  PolicyCfg o = P("ottl", "ottl_condition");
  o.span_conditions = {cond};
  Fixture propagate({o});
  propagate.Begin();
  propagate.Span(s);
  auto r = propagate.Decide();
  EXPECT_EQ(r.per_policy[0], static_cast<int8_t>(Decision::kError));
  EXPECT_EQ(r.decision, Decision::kNotSampled);
  o.error_mode = ottl::ErrorMode::kIgnore;
  Fixture ignore({o});
  ignore.Begin();
  ignore.Span(s);
  EXPECT_EQ(ignore.Decide().per_policy[0], static_cast<int8_t>(Decision::kNotSampled));
}

}  // namespace
}  // namespace outrigger::processors::tail_sampling
