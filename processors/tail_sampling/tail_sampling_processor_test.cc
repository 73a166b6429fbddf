#include "processors/tail_sampling/tail_sampling_processor.h"

#include <gtest/gtest.h>

#include <set>

#include "processors/tail_sampling/policy.h"
#include "tests/testutil/testutil.h"

namespace outrigger::processors::tail_sampling {
namespace {

namespace tpb = opentelemetry::proto::trace::v1;
using Request = opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest;

std::string Id(int n) {
  std::string id(16, '\0');
  for (int b = 0; b < 4; ++b) id[static_cast<size_t>(12 + b)] = static_cast<char>(n >> (8 * b));
  id[0] = 0x17;
  return id;
}

// One request: one resource (service.name = svc) and scope "lib", spans named
// "t<trace>-s<span>" with trace id Id(trace); span 0 of a trace is its root.
pdata::Traces Req(const std::vector<std::pair<int, int>>& spans, const std::string& svc = "svc",
                  const std::function<void(tpb::Span*)>& mod = nullptr) {
  Request req;
  auto* rs = req.add_resource_spans();
  auto* kv = rs->mutable_resource()->add_attributes();
  kv->set_key("service.name");
  kv->mutable_value()->set_string_value(svc);
  auto* ss = rs->add_scope_spans();
  ss->mutable_scope()->set_name("lib");
  for (auto [t, s] : spans) {
    tpb::Span* span = ss->add_spans();
    span->set_trace_id(Id(t));
    span->set_span_id(std::string(7, '\1') + static_cast<char>(s + 1));
    if (s != 0) span->set_parent_span_id(std::string(7, '\1') + '\1');
    span->set_name("t" + std::to_string(t) + "-s" + std::to_string(s));
    span->set_start_time_unix_nano(1'700'000'000'000'000'000ull);
    span->set_end_time_unix_nano(1'700'000'000'001'000'000ull);
    if (mod) mod(span);
  }
  return *pdata::Traces::FromProto(req.SerializeAsString());
}

// Records what reaches it (span names with their resource's service), and can refuse.
class Recorder : public Consumer {
 public:
  absl::Status ConsumeTraces(pdata::Traces&& d) override {
    std::lock_guard<std::mutex> lock(mu_);
    ++calls_;
    if (fail_ > 0) {
      --fail_;
      return fail_status_;
    }
    Request req;
    EXPECT_TRUE(req.ParseFromString(d.ToProto()));
    for (const auto& rs : req.resource_spans()) {
      std::string svc;
      for (const auto& kv : rs.resource().attributes()) {
        if (kv.key() == "service.name") svc = kv.value().string_value();
      }
      for (const auto& ss : rs.scope_spans()) {
        for (const auto& s : ss.spans()) {
          names_.push_back(s.name());
          services_.insert(svc + "/" + ss.scope().name());
        }
      }
    }
    return absl::OkStatus();
  }
  void Fail(int n, absl::Status st) {
    std::lock_guard<std::mutex> lock(mu_);
    fail_ = n;
    fail_status_ = std::move(st);
  }
  size_t Spans() const {
    std::lock_guard<std::mutex> lock(mu_);
    return names_.size();
  }
  std::multiset<std::string> Names() const {
    std::lock_guard<std::mutex> lock(mu_);
    return std::multiset<std::string>(names_.begin(), names_.end());
  }
  std::set<std::string> Traces() const {  // "t<n>" of every span received
    std::lock_guard<std::mutex> lock(mu_);
    std::set<std::string> out;
    for (const auto& n : names_) out.insert(n.substr(0, n.find('-')));
    return out;
  }
  std::set<std::string> Services() const {
    std::lock_guard<std::mutex> lock(mu_);
    return services_;
  }
  size_t Calls() const {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::string> names_;
  std::set<std::string> services_;
  size_t calls_ = 0;
  int fail_ = 0;
  absl::Status fail_status_;
};

PolicyCfg Policy(const std::string& name, const std::string& type) {
  PolicyCfg p;
  p.name = name;
  p.type = type;
  return p;
}

PolicyCfg Errors() {
  PolicyCfg p = Policy("errors", "status_code");
  p.status_codes = {"ERROR"};
  return p;
}

void SetError(tpb::Span* s) { s->mutable_status()->set_code(tpb::Status::STATUS_CODE_ERROR); }

class TailSamplingTest : public ::testing::Test {
 protected:
  std::unique_ptr<Processor> Make(Config cfg, Recorder* out = nullptr, const std::string& id = "tail_sampling") {
    auto p = NewTailSamplingProcessor(testutil::Settings(&telemetry_, id, Kind::kProcessor), cfg,
                                      out != nullptr ? out : &out_);
    EXPECT_TRUE(p.ok()) << p.status();
    EXPECT_TRUE((*p)->Start(host_).ok());
    return std::move(*p);
  }
  double Metric(const std::string& name, std::map<std::string, std::string> labels = {}) {
    labels.emplace("processor", "tail_sampling");
    return telemetry_.Value(name, labels);
  }

  Telemetry telemetry_;
  testutil::TestHost host_;
  Recorder out_;
};

TEST_F(TailSamplingTest, GroupsSpansOfManyRequestsAndDecidesAfterDecisionWait) {
  Config cfg;
  cfg.decision_wait = absl::Milliseconds(200);
  cfg.policies = {Errors()};
  auto p = Make(cfg);
  ASSERT_TRUE(p->ConsumeTraces(Req({{1, 0}, {2, 0}}, "front")).ok());
  ASSERT_TRUE(p->ConsumeTraces(Req({{1, 1}, {2, 1}}, "back", [](tpb::Span* s) {
                 if (s->name() == "t1-s1") SetError(s);
               })).ok());
  EXPECT_EQ(Metric("outrigger_processor_tail_sampling_traces_held"), 2);
  EXPECT_EQ(out_.Spans(), 0u);  // nothing before decision_wait
  ASSERT_TRUE(testutil::WaitFor([&] { return Metric("outrigger_processor_tail_sampling_traces_held") == 0; }));
  ASSERT_TRUE(testutil::WaitFor([&] { return out_.Spans() == 2; }));
  // The sampled trace arrives whole, each span under its own resource and scope.
  EXPECT_EQ(out_.Names(), (std::multiset<std::string>{"t1-s0", "t1-s1"}));
  EXPECT_EQ(out_.Services(), (std::set<std::string>{"front/lib", "back/lib"}));
  EXPECT_EQ(Metric("outrigger_processor_tail_sampling_traces_decided_total", {{"decision", "sampled"}}), 1);
  EXPECT_EQ(Metric("outrigger_processor_tail_sampling_traces_decided_total", {{"decision", "not_sampled"}}), 1);
  EXPECT_EQ(Metric("outrigger_processor_tail_sampling_policy_decisions_total",
                   {{"policy", "errors"}, {"decision", "sampled"}}),
            1);
  EXPECT_EQ(Metric("outrigger_processor_tail_sampling_bytes_held"), 0);
}

TEST_F(TailSamplingTest, LateSpansFollowTheDecision) {
  Config cfg;
  cfg.decision_wait = absl::Milliseconds(50);
  cfg.policies = {Errors()};
  auto p = Make(cfg);
  ASSERT_TRUE(p->ConsumeTraces(Req({{1, 0}, {2, 0}}, "svc", [](tpb::Span* s) {
                 if (s->name() == "t1-s0") SetError(s);
               })).ok());
  ASSERT_TRUE(testutil::WaitFor([&] { return out_.Spans() == 1; }));
  ASSERT_TRUE(testutil::WaitFor([&] { return Metric("outrigger_processor_tail_sampling_traces_held") == 0; }));
  // Late spans: the sampled trace's go on at once, the other's are dropped, even one
  // with an error (it would have been sampled as a new trace).
  ASSERT_TRUE(p->ConsumeTraces(Req({{1, 1}, {2, 1}}, "svc", [](tpb::Span* s) { SetError(s); })).ok());
  EXPECT_EQ(out_.Names(), (std::multiset<std::string>{"t1-s0", "t1-s1"}));
  EXPECT_EQ(Metric("outrigger_processor_tail_sampling_traces_held"), 0);
  EXPECT_EQ(Metric("outrigger_processor_tail_sampling_late_spans_total", {{"decision", "sampled"}}), 1);
  EXPECT_EQ(Metric("outrigger_processor_tail_sampling_late_spans_total", {{"decision", "not_sampled"}}), 1);
}

TEST_F(TailSamplingTest, WithoutADecisionCacheLateSpansStartANewTrace) {
  Config cfg;
  cfg.decision_wait = absl::Milliseconds(50);
  cfg.sampled_cache_size = 0;
  cfg.non_sampled_cache_size = 0;
  cfg.policies = {Errors()};
  auto p = Make(cfg);
  ASSERT_TRUE(p->ConsumeTraces(Req({{2, 0}})).ok());
  ASSERT_TRUE(testutil::WaitFor([&] { return Metric("outrigger_processor_tail_sampling_traces_held") == 0; }));
  ASSERT_TRUE(p->ConsumeTraces(Req({{2, 1}}, "svc", SetError)).ok());
  EXPECT_EQ(Metric("outrigger_processor_tail_sampling_traces_held"), 1);  // upstream's default behaviour
  ASSERT_TRUE(testutil::WaitFor([&] { return out_.Spans() == 1; }));
  EXPECT_EQ(out_.Names(), (std::multiset<std::string>{"t2-s1"}));
}

TEST_F(TailSamplingTest, MemoryBoundHoldsUnderAFloodOfUniqueTraces) {
  Config cfg;
  cfg.decision_wait = absl::Hours(1);  // only the bound decides
  cfg.max_memory_mib = 1;
  cfg.num_traces = 1'000'000;
  cfg.policies = {Policy("all", "always_sample")};
  auto p = Make(cfg);
  const double limit = 1 << 20;
  size_t sent = 0;
  double max_held = 0;
  for (int r = 0; r < 400; ++r) {
    std::vector<std::pair<int, int>> spans;
    for (int i = 0; i < 50; ++i) spans.push_back({r * 50 + i, 0});
    pdata::Traces d = Req(spans, std::string(200, 'x'));  // ~300 bytes a span
    ASSERT_TRUE(p->ConsumeTraces(std::move(d)).ok());
    sent += spans.size();
    // What is held (traces, and output not yet taken) stays within the bound.
    max_held = std::max(max_held, Metric("outrigger_processor_tail_sampling_bytes_held"));
    ASSERT_LE(Metric("outrigger_processor_tail_sampling_bytes_held"), limit * 1.25) << r;
  }
  EXPECT_GT(max_held, limit / 2);  // the flood did fill it
  const double early =
      Metric("outrigger_processor_tail_sampling_traces_decided_early_total", {{"reason", "max_memory"}});
  EXPECT_GT(early, 10000);
  // Nothing lost: every trace decided early went on (always_sample); the rest is held.
  ASSERT_TRUE(testutil::WaitFor([&] {
    return out_.Spans() + static_cast<size_t>(Metric("outrigger_processor_tail_sampling_traces_held")) == sent;
  }));
  EXPECT_EQ(static_cast<double>(out_.Spans()), early);
  ASSERT_TRUE(p->Shutdown(absl::Now() + absl::Seconds(10)).ok());
  EXPECT_EQ(out_.Spans(), sent);
}

TEST_F(TailSamplingTest, NumTracesBoundDecidesTheOldestEarly) {
  Config cfg;
  cfg.decision_wait = absl::Hours(1);
  cfg.num_traces = 10;
  cfg.policies = {Policy("all", "always_sample")};
  auto p = Make(cfg);
  for (int t = 0; t < 25; ++t) ASSERT_TRUE(p->ConsumeTraces(Req({{t, 0}})).ok());
  EXPECT_EQ(Metric("outrigger_processor_tail_sampling_traces_held"), 10);
  EXPECT_EQ(Metric("outrigger_processor_tail_sampling_traces_decided_early_total", {{"reason", "num_traces"}}), 15);
  ASSERT_TRUE(testutil::WaitFor([&] { return out_.Spans() == 15; }));
  std::set<std::string> want;
  for (int t = 0; t < 15; ++t) want.insert("t" + std::to_string(t));  // the oldest first
  EXPECT_EQ(out_.Traces(), want);
}

TEST_F(TailSamplingTest, BlockOnOverflowRefusesInsteadOfDecidingEarly) {
  Config cfg;
  cfg.decision_wait = absl::Hours(1);
  cfg.num_traces = 2;
  cfg.block_on_overflow = true;
  cfg.policies = {Policy("all", "always_sample")};
  auto p = Make(cfg);
  ASSERT_TRUE(p->ConsumeTraces(Req({{1, 0}})).ok());
  ASSERT_TRUE(p->ConsumeTraces(Req({{2, 0}})).ok());
  EXPECT_EQ(p->ConsumeTraces(Req({{3, 0}})).code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(Metric("outrigger_processor_tail_sampling_refused_spans_total", {{"reason", "block_on_overflow"}}), 1);
  EXPECT_EQ(Metric("outrigger_processor_tail_sampling_traces_decided_early_total", {{"reason", "num_traces"}}), 0);
}

TEST_F(TailSamplingTest, RootSpanShortensTheWait) {
  Config cfg;
  cfg.decision_wait = absl::Hours(1);
  cfg.decision_wait_after_root_received = absl::Milliseconds(50);
  cfg.policies = {Policy("all", "always_sample")};
  auto p = Make(cfg);
  ASSERT_TRUE(p->ConsumeTraces(Req({{1, 1}, {2, 1}})).ok());  // no roots yet
  ASSERT_TRUE(p->ConsumeTraces(Req({{1, 0}})).ok());          // trace 1's root
  ASSERT_TRUE(testutil::WaitFor([&] { return out_.Spans() == 2; }));
  EXPECT_EQ(out_.Traces(), (std::set<std::string>{"t1"}));
  EXPECT_EQ(Metric("outrigger_processor_tail_sampling_traces_held"), 1);  // trace 2 waits its hour
}

TEST_F(TailSamplingTest, RetryableRefusalDownstreamLosesNothing) {
  Config cfg;
  cfg.decision_wait = absl::Milliseconds(20);
  cfg.policies = {Policy("all", "always_sample")};
  auto p = Make(cfg);
  out_.Fail(3, absl::UnavailableError("backend down"));
  ASSERT_TRUE(p->ConsumeTraces(Req({{1, 0}, {1, 1}, {2, 0}})).ok());
  ASSERT_TRUE(testutil::WaitFor([&] { return out_.Spans() == 3; }));
  EXPECT_GE(out_.Calls(), 4u);
  EXPECT_EQ(telemetry_.Value("outrigger_processor_dropped_spans_total", {{"processor", "tail_sampling"}}), 0);
}

TEST_F(TailSamplingTest, PermanentRefusalIsCountedAsDropped) {
  Config cfg;
  cfg.decision_wait = absl::Milliseconds(20);
  cfg.policies = {Policy("all", "always_sample")};
  auto p = Make(cfg);
  out_.Fail(1, absl::InvalidArgumentError("rejected"));
  ASSERT_TRUE(p->ConsumeTraces(Req({{1, 0}, {1, 1}})).ok());
  ASSERT_TRUE(testutil::WaitFor([&] {
    return telemetry_.Value("outrigger_processor_dropped_spans_total", {{"processor", "tail_sampling"}}) == 2;
  }));
  EXPECT_EQ(out_.Spans(), 0u);
}

TEST_F(TailSamplingTest, RefusesNewDataWhileTheNextConsumerHoldsOutputBack) {
  Config cfg;
  cfg.decision_wait = absl::Milliseconds(1);
  cfg.max_memory_mib = 1;  // output held back: a quarter of it, then refusals
  cfg.policies = {Policy("all", "always_sample")};
  auto p = Make(cfg);
  out_.Fail(1'000'000, absl::UnavailableError("backend down"));
  size_t accepted = 0;
  int t = 0;
  ASSERT_TRUE(testutil::WaitFor([&] {
    std::vector<std::pair<int, int>> spans;
    for (int i = 0; i < 20; ++i) spans.push_back({t++, 0});
    absl::Status st = p->ConsumeTraces(Req(spans, std::string(500, 'y')));
    if (st.ok()) accepted += spans.size();
    return st.code() == absl::StatusCode::kResourceExhausted;
  }));
  EXPECT_GT(Metric("outrigger_processor_tail_sampling_refused_spans_total", {{"reason", "output_backlog"}}), 0);
  out_.Fail(0, absl::OkStatus());
  ASSERT_TRUE(testutil::WaitFor([&] { return out_.Spans() == accepted; }, absl::Seconds(20)));
}

TEST_F(TailSamplingTest, ShutdownDecidesAndSendsWhatIsHeld) {
  Config cfg;
  cfg.decision_wait = absl::Hours(1);
  cfg.policies = {Errors()};
  auto p = Make(cfg);
  ASSERT_TRUE(p->ConsumeTraces(Req({{1, 0}, {2, 0}}, "svc", [](tpb::Span* s) {
                 if (s->name() == "t1-s0") SetError(s);
               })).ok());
  ASSERT_TRUE(p->Shutdown(absl::Now() + absl::Seconds(5)).ok());
  EXPECT_EQ(out_.Names(), (std::multiset<std::string>{"t1-s0"}));  // evaluated, not dropped
  EXPECT_EQ(Metric("outrigger_processor_tail_sampling_traces_decided_early_total", {{"reason", "shutdown"}}), 2);
  EXPECT_EQ(p->ConsumeTraces(Req({{3, 0}})).code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(p->Shutdown(absl::Now()).ok());  // idempotent
}

TEST_F(TailSamplingTest, DropPendingTracesOnShutdown) {
  Config cfg;
  cfg.decision_wait = absl::Hours(1);
  cfg.drop_pending_traces_on_shutdown = true;
  cfg.policies = {Policy("all", "always_sample")};
  auto p = Make(cfg);
  ASSERT_TRUE(p->ConsumeTraces(Req({{1, 0}, {1, 1}})).ok());
  ASSERT_TRUE(p->Shutdown(absl::Now() + absl::Seconds(5)).ok());
  EXPECT_EQ(out_.Spans(), 0u);
  EXPECT_EQ(telemetry_.Value("outrigger_processor_dropped_spans_total", {{"processor", "tail_sampling"}}), 2);
}

TEST_F(TailSamplingTest, ShutdownWithoutStartIsSafe) {
  Config cfg;
  cfg.policies = {Policy("all", "always_sample")};
  auto p = NewTailSamplingProcessor(testutil::Settings(&telemetry_, "tail_sampling", Kind::kProcessor), cfg, &out_);
  ASSERT_TRUE(p.ok());
  ASSERT_TRUE((*p)->ConsumeTraces(Req({{1, 0}})).ok());
  EXPECT_TRUE((*p)->Shutdown(absl::Now() + absl::Seconds(1)).ok());
  EXPECT_EQ(out_.Spans(), 1u);
}

TEST_F(TailSamplingTest, TracesPastMaximumTraceSizeAreNotSampled) {
  Config cfg;
  cfg.decision_wait = absl::Hours(1);
  cfg.maximum_trace_size_bytes = 2000;
  cfg.policies = {Policy("all", "always_sample")};
  auto p = Make(cfg);
  ASSERT_TRUE(p->ConsumeTraces(Req({{1, 0}, {2, 0}})).ok());
  ASSERT_TRUE(p->ConsumeTraces(Req({{1, 1}}, std::string(3000, 'z'))).ok());
  EXPECT_EQ(Metric("outrigger_processor_tail_sampling_traces_too_large_total"), 1);
  EXPECT_EQ(Metric("outrigger_processor_tail_sampling_traces_held"), 1);
  ASSERT_TRUE(p->ConsumeTraces(Req({{1, 2}})).ok());  // follows the decision
  EXPECT_EQ(Metric("outrigger_processor_tail_sampling_late_spans_total", {{"decision", "not_sampled"}}), 1);
  ASSERT_TRUE(p->Shutdown(absl::Now() + absl::Seconds(5)).ok());
  EXPECT_EQ(out_.Traces(), (std::set<std::string>{"t2"}));
}

TEST_F(TailSamplingTest, TwoInstancesDecideIdenticallyWithTheProbabilisticPolicy) {
  Config cfg;
  cfg.decision_wait = absl::Hours(1);
  PolicyCfg prob = Policy("ten", "probabilistic");
  prob.sampling_percentage = 30;
  prob.hash_salt = "fleet";
  cfg.policies = {prob};
  Recorder other;
  auto a = Make(cfg, &out_, "tail_sampling/a");
  auto b = Make(cfg, &other, "tail_sampling/b");
  std::set<std::string> want;
  for (int r = 0; r < 100; ++r) {
    std::vector<std::pair<int, int>> spans, reversed;
    for (int i = 0; i < 20; ++i) {
      const int t = r * 20 + i;
      spans.push_back({t, 0});
      if (ProbabilisticHash("fleet", Id(t)) <= ProbabilisticThreshold(30)) want.insert("t" + std::to_string(t));
    }
    reversed.assign(spans.rbegin(), spans.rend());
    ASSERT_TRUE(a->ConsumeTraces(Req(spans)).ok());
    ASSERT_TRUE(b->ConsumeTraces(Req(reversed)).ok());  // order does not matter
  }
  ASSERT_TRUE(a->Shutdown(absl::Now() + absl::Seconds(5)).ok());
  ASSERT_TRUE(b->Shutdown(absl::Now() + absl::Seconds(5)).ok());
  EXPECT_EQ(out_.Traces(), other.Traces());
  EXPECT_EQ(out_.Traces(), want);
  EXPECT_NEAR(static_cast<double>(want.size()), 600, 100);  // 30% of 2,000
}

TEST_F(TailSamplingTest, DropPolicyWinsOverSampled) {
  Config cfg;
  cfg.decision_wait = absl::Hours(1);
  PolicyCfg health = Policy("health", "string_attribute");
  health.key = "url.path";
  health.values = {"/health"};
  PolicyCfg drop = Policy("no-health", "drop");
  drop.sub = {health};
  cfg.policies = {Policy("all", "always_sample"), drop};
  auto p = Make(cfg);
  ASSERT_TRUE(p->ConsumeTraces(Req({{1, 0}, {2, 0}}, "svc", [](tpb::Span* s) {
                 if (s->name() == "t1-s0") {
                   auto* kv = s->add_attributes();
                   kv->set_key("url.path");
                   kv->mutable_value()->set_string_value("/health");
                 }
               })).ok());
  ASSERT_TRUE(p->Shutdown(absl::Now() + absl::Seconds(5)).ok());
  EXPECT_EQ(out_.Traces(), (std::set<std::string>{"t2"}));
  EXPECT_EQ(Metric("outrigger_processor_tail_sampling_traces_decided_total", {{"decision", "dropped"}}), 1);
}

TEST_F(TailSamplingTest, AResourceWrittenTwiceIsMergedAsProtobufWould) {
  // Two `resource` fields in one ResourceSpans: protobuf merges them (the attributes of
  // both); the processor reads such a request through a canonical encoding.
  Config cfg;
  cfg.decision_wait = absl::Hours(1);
  PolicyCfg team = Policy("team", "string_attribute");
  team.key = "team";
  team.values = {"a"};
  cfg.policies = {team};
  auto p = Make(cfg);
  Request first;
  ASSERT_TRUE(first.ParseFromString(Req({{1, 0}}, "svc").ToProto()));
  opentelemetry::proto::resource::v1::Resource extra;
  auto* kv = extra.add_attributes();
  kv->set_key("team");
  kv->mutable_value()->set_string_value("a");
  std::string rs = first.resource_spans(0).SerializeAsString();
  const std::string more = extra.SerializeAsString();
  rs.push_back('\x0A');
  rs.push_back(static_cast<char>(more.size()));
  rs += more;
  std::string req = "\x0A";
  for (size_t v = rs.size(); true; v >>= 7) {  // the length, as a varint
    req.push_back(static_cast<char>(v >= 0x80 ? (v & 0x7f) | 0x80 : v));
    if (v < 0x80) break;
  }
  req += rs;
  auto d = pdata::Traces::FromProto(req);
  ASSERT_TRUE(d.ok()) << d.status();
  ASSERT_TRUE(p->ConsumeTraces(std::move(*d)).ok());
  ASSERT_TRUE(p->Shutdown(absl::Now() + absl::Seconds(5)).ok());
  EXPECT_EQ(out_.Names(), (std::multiset<std::string>{"t1-s0"}));
  EXPECT_EQ(out_.Services(), (std::set<std::string>{"svc/lib"}));
}

}  // namespace
}  // namespace outrigger::processors::tail_sampling
