#include "processors/probabilistic_sampler/probabilistic_sampler.h"

#include <gtest/gtest.h>

#include <random>
#include <set>
#include <string>

#include "tests/testutil/config_util.h"
#include "tests/testutil/testutil.h"

namespace outrigger::processors::probabilistic_sampler {
namespace {

namespace tpb = opentelemetry::proto::trace::v1;
namespace lpb = opentelemetry::proto::logs::v1;
namespace ctpb = opentelemetry::proto::collector::trace::v1;
namespace clpb = opentelemetry::proto::collector::logs::v1;
using opentelemetry::proto::common::v1::AnyValue;
using opentelemetry::proto::common::v1::KeyValue;

std::string Unhex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2)
    out += static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16));
  return out;
}

// One span per (trace id, tracestate), with a sampling.priority attribute if given.
struct SpanIn {
  SpanIn(std::string t, std::string ts, std::optional<AnyValue> p = std::nullopt)
      : tid(std::move(t)), tracestate(std::move(ts)), priority(std::move(p)) {}
  std::string tid;  // 16 bytes
  std::string tracestate;
  std::optional<AnyValue> priority;  // sampling.priority
};

pdata::Traces Spans(const std::vector<SpanIn>& in) {
  ctpb::ExportTraceServiceRequest* req;
  pdata::Traces d = pdata::Traces::New(&req);
  auto* ss = req->add_resource_spans()->add_scope_spans();
  int i = 0;
  for (const SpanIn& s : in) {
    tpb::Span* sp = ss->add_spans();
    sp->set_trace_id(s.tid);
    sp->set_span_id(std::string(8, static_cast<char>(++i)));
    sp->set_name("s" + std::to_string(i));
    sp->set_trace_state(s.tracestate);
    if (s.priority) {
      KeyValue* kv = sp->add_attributes();
      kv->set_key("sampling.priority");
      *kv->mutable_value() = *s.priority;
    }
  }
  return d;
}

std::vector<const tpb::Span*> AllSpans(const std::vector<pdata::Traces>& got) {
  std::vector<const tpb::Span*> out;
  for (const pdata::Traces& t : got) {
    t.ForEachRequest([&](const ctpb::ExportTraceServiceRequest& r) {
      for (const auto& rs : r.resource_spans()) {
        for (const auto& ss : rs.scope_spans()) {
          for (const auto& sp : ss.spans()) out.push_back(&sp);
        }
      }
    });
  }
  return out;
}

class Capture : public Consumer {
 public:
  absl::Status ConsumeTraces(pdata::Traces&& d) override {
    if (!fail.ok()) return fail;
    traces.push_back(std::move(d));
    return absl::OkStatus();
  }
  absl::Status ConsumeMetrics(pdata::Metrics&&) override { return absl::OkStatus(); }
  absl::Status ConsumeLogs(pdata::Logs&& d) override {
    if (!fail.ok()) return fail;
    logs.push_back(std::move(d));
    return absl::OkStatus();
  }
  std::vector<pdata::Traces> traces;
  std::vector<pdata::Logs> logs;
  absl::Status fail;
};

AnyValue Int(int64_t v) {
  AnyValue a;
  a.set_int_value(v);
  return a;
}
AnyValue Dbl(double v) {
  AnyValue a;
  a.set_double_value(v);
  return a;
}
AnyValue Str(const std::string& v) {
  AnyValue a;
  a.set_string_value(v);
  return a;
}

class SamplerTest : public ::testing::Test {
 protected:
  std::unique_ptr<Processor> Make(std::string_view yaml, Signal signal = Signal::kTraces, Capture* next = nullptr) {
    cfg_ = Config();
    config::Errors errors;
    EXPECT_TRUE(testutil::DecodeYaml(yaml, &cfg_, &errors).ok()) << errors.Joined();
    EXPECT_TRUE(cfg_.Validate().ok()) << cfg_.Validate();
    return NewProbabilisticSampler(testutil::Settings(&telemetry_, "probabilistic_sampler", Kind::kProcessor), cfg_,
                                   signal, next ? next : &next_);
  }
  // The tracestate of the one span `yaml`'s sampler keeps from `in`, or nullopt if dropped.
  std::optional<std::string> One(std::string_view yaml, SpanIn in) {
    Capture next;
    auto p = Make(yaml, Signal::kTraces, &next);
    EXPECT_TRUE(p->ConsumeTraces(Spans({std::move(in)})).ok());
    auto spans = AllSpans(next.traces);
    if (spans.empty()) return std::nullopt;
    return spans[0]->trace_state();
  }
  double Items(std::string_view decision, std::string_view reason, std::string_view signal = "traces") {
    return telemetry_.Value(
        "outrigger_processor_probabilistic_sampler_items_total",
        {{"signal", std::string(signal)}, {"decision", std::string(decision)}, {"reason", std::string(reason)}});
  }
  double Errors(std::string_view reason, std::string_view signal = "traces") {
    return telemetry_.Value("outrigger_processor_probabilistic_sampler_errors_total",
                            {{"signal", std::string(signal)}, {"reason", std::string(reason)}});
  }
  Config cfg_;
  Telemetry telemetry_;
  Capture next_;
};

// Golden vectors: opentelemetry-collector-contrib
// processor/probabilisticsamplerprocessor/tracesprocessor_test.go TestHashingFunction
// (upstream recorded these from its legacy hash_seed sampler, 50%, the given seed).
struct HashCase {
  uint32_t seed;
  const char* tid;
  bool sampled;
};
constexpr HashCase kUpstreamHashVectors[] = {
    {653, "474a03c76d75951a4b4c537ced8f1122", true},  {563, "53a518291e91307e43cd8467bb06f986", true},
    {142, "a56a02f843b9bc6ee0b13889249e90e6", true},  {904, "4e40762d3ee97a1c0932e4fa584f89a8", false},
    {445, "5224507db93db513f0ea2a4b4e0578c8", true},  {38, "0c8717ced36216037af657e9d7f8b35b", true},
    {561, "2a8aa76c18d08e1e8be935541f9318c7", false}, {757, "9e3d0f9481dc422cb613ea550897ae71", false},
    {22, "66a66c516ac22054673e5da5e6492545", false},  {172, "84a1ce7bcea3e66194e72b4aa2694e31", true},
    {552, "a811a7def34ca4b98d8e320afd115fad", false}, {546, "e3a345cc8dbb6f014bfa1edad3981820", true},
    {315, "a71effb50e28d27cbdc9892f3765b8c2", false}, {510, "55ee665a3fa22f8ea1b744ce15a7339d", false},
    {230, "7a5006be4d0ce7b542d59f83cd6f1c41", false}, {544, "825b8fb9cfd45867794f4cd8a5a699bd", false},
    {790, "7629ecbea89398bfd9752a2f51c2c137", true},  {555, "de6cdfb44d69e211f886c57120d7bda0", true},
    {147, "a8a5c3bb9205883fae17ead6675b2450", false}, {238, "937e6cb3332dbe87062fa3997f48f425", false},
    {122, "5a357e150995e005847816c431ba502d", false}, {963, "20cb3dcebe2cf8abe6102f4a2e548245", false},
    {141, "1b0afbd09abaaf7996cd26f8f6533795", false}, {666, "3ee60b013303bcfda06be89071b90bd1", true},
    {305, "c90c7cf3471bbc3a804a8a831633705b", true},  {270, "18dda74dfca45a7b0261510f385fb4de", true},
    {381, "600cf70c7bb4918e54aefd78c84f3996", true},  {35, "855f493c5b5b1e2fcbc9993f8061eac8", false},
    {839, "89bc498feb21d969cf0eabf916aa621a", false}, {561, "0a0af00f63e098a39883705a423b0aa8", true},
    {667, "0c38553d71f54dfc37155c22cc8bf243", false}, {603, "49493809d1a49ea879e6aba37afde958", true},
    {92, "eb60d98b8f8fe22d8970f44f0e2b6bad", true},   {70, "19c386ee7a9f2d56ff9ab2e6374540af", false},
    {567, "2a033c15405f1c7a311f653719ed47b7", false}, {936, "62dda24e4be24f5198e4d8dd4010c811", true},
    {210, "bb134e26ee92e282e29cabdb1d00d333", true},  {835, "6c77db08bbded7bdd5c99c6e2fea41d2", false},
    {864, "99f6a7e7b50845b4fb64b7c2ee49f53c", true},  {775, "e908cb91224bee8fd4b5f3632f65717f", true},
    {687, "45a5ace7234d92d9983b4f3858bc0b8e", false}, {761, "8c8a25d232fd4d3a37a5f70ccb82d752", false},
    {400, "54156d7434a894ef07f2a80dbf0f1138", true},  {741, "67e3bfb02b0526dbb79420468d7b83dd", false},
    {871, "f6ea221283dcb42f89bfb15fa33398d2", false}, {244, "b663ca45004decf8123a19fb5d7f7115", true},
    {885, "d0e299d54d6dc6469276fd4e48301d73", true},  {607, "03240c2748aa67a185909a9345d84aba", false},
    {434, "b00de72ba67e6fe0ed661decac911f7e", true},  {889, "20fff68a7cc715b30e4e6d69d53e0f60", false},
    {810, "6bf2bb105e594f6220803da5253551af", false}, {494, "54fbb1d3ebe3883b0a01bbf2c9a2bf3e", true},
    {413, "a8a2ecba129d8537e360cf54de9d7460", false}, {215, "2df034262b775136f2a313fdcc09738a", true},
    {557, "e3c1b943d9c1199d1108a69aa32a4587", false}, {662, "1975d5f5640bac1064d53c2c21e02aae", false},
    {482, "6e4f16727dec3c09539b5f50d35d2c13", false}, {223, "63a088446ef0ed60a9cace4698ede026", false},
    {261, "9b662cd6f67a4e3d1f904b4c5d4275b1", true},  {112, "a2db788dbadc402b8c466b93b8749a6c", true},
    {6, "d6a68b47c66d1f94eed46b8ddc72faf4", false},   {575, "e8a83c42f4515568d0942ec4472c9d2c", true},
    {568, "030e14c2954e3f08134b355f33414ba9", false}, {965, "022315846d42a38322d6fd26250444b3", true},
    {512, "b3ba1ed226288dede87ac1f2ba88de2b", true},  {108, "c57d0dcf43d5b154ef04c7953c94cd12", true},
    {248, "a835fe521d9cbfcfb724b603f87c7403", false}, {46, "eda867e6df95e74abefac336c7f4cd1a", false},
    {879, "09e9e67a261ea3e00d817105b57ffd4e", false}, {853, "6a780cf250cb3d2b699394042e6723a8", false},
    {639, "4c99d7f14c66b3123caf57980f8e2a31", false}, {111, "79dc8d7a54bc3e8ef513b9cd8d830564", true},
    {135, "9c2e5d9d713e5219b0f9e5b884835e69", false}, {209, "3ccb300bf7b983229979e0c46db267b0", true},
    {629, "0bb7b9da64da250c3934bb39130dc990", true},  {910, "b25713ca4cea377871eaa334bc2dd382", true},
    {667, "69afc041003851cec60f41db97e005a9", true},  {449, "c844b5428abe0cf82eaf02566781870a", true},
    {16, "2533c732bed8c1ba4721c25a1205f06c", false},  {936, "ecc770b4be885dfc8d6fa135bc2c93bb", true},
    {595, "63b67cbb42de52e9916241ad94fcd5e8", true},  {83, "fc4998bc53ccd42a5b8e7c86a93d4c88", false},
    {878, "59f0677dffe1a0a8c5895cb263e3a019", false}, {206, "eb897eff9e7c7363e063b340a0c6b315", true},
    {710, "89e4c7e6af305be6cd139abcae953db5", true},  {650, "97563d45ee254231e1ace05fb746bcce", false},
    {233, "3f580864f295ff13f179c3c907032ea9", true},  {836, "e9b78e03706265a6936bff2a41530104", false},
    {568, "c458603ee921fa8711085c15b871b245", false}, {816, "4bbfffab5b5975c1b007ebc518bf416d", false},
    {397, "61a1a65746287d78a431c6848ed1ffb3", false}, {847, "53eee02f4672a72e93369b2c2ecf36eb", false},
    {354, "6ea23c3068a2c304488c8e67a072db97", false}, {961, "eed247645e510ded87bd9afcf1d3e237", false},
    {799, "092af4ff2fdea5bb1c708b2169bdfd95", false}, {99, "497f02db51c898ac441aae18a8b7ced9", false},
    {773, "988481445600bb91bbe23e3103034bcd", true},  {928, "f1813835ac0f456721ef3aac39c0269a", true},
    {235, "1999920085682c007eb3a6984d2a7f05", true},  {460, "60c3b9a2dde734d71ba5cca7eb164bce", true},
};

TEST_F(SamplerTest, HashSeedGivesUpstreamsDecisions) {
  int sampled = 0;
  for (const HashCase& c : kUpstreamHashVectors) {
    auto ts = One(StrCat("sampling_percentage: 50\nhash_seed: ", c.seed, "\n"), {Unhex(c.tid), ""});
    EXPECT_EQ(ts.has_value(), c.sampled) << c.seed << " " << c.tid;
    sampled += c.sampled;
  }
  EXPECT_GT(sampled, 30);  // the table has both outcomes
}

// tracesprocessor_test.go Test_tracesamplerprocessor_HashSeedTraceState: the threshold a
// hash_seed sampler writes, with the item's randomness beside it.
TEST_F(SamplerTest, HashSeedWritesRandomnessAndThreshold) {
  std::mt19937_64 rng(7);
  for (auto [pct, tv] : std::vector<std::pair<std::string, std::string>>{
           {"100", "0"}, {"75", "4"}, {"50", "8"}, {"25", "c"}, {"10", "e668"}, {"33.333333333", "aaac"}}) {
    int found = 0;
    for (int i = 0; i < 10000 && found < 10; ++i) {
      std::string tid(16, '\0');
      for (char& c : tid) c = static_cast<char>(rng());
      auto got = One(StrCat("mode: hash_seed\nhash_seed: 22\nsampling_percentage: ", pct, "\n"), {tid, ""});
      if (!got) continue;
      ++found;
      sampling::W3CTraceState ts;
      ASSERT_TRUE(sampling::W3CTraceState::Parse(*got, &ts).ok()) << *got;
      EXPECT_EQ(ts.ot.tvalue, tv) << pct;
      ASSERT_EQ(ts.ot.rvalue.size(), 14u) << *got;
      EXPECT_EQ(ts.ot.randomness, HashSeedRandomness(tid, 22));
      EXPECT_TRUE(ts.ot.threshold.ShouldSample(ts.ot.randomness));
    }
    EXPECT_EQ(found, 10) << pct;
  }
}

// tracesprocessor_test.go Test_tracesamplerprocessor_TraceState: expected tracestates per
// mode (fail_closed false and full precision where upstream's test left them zero).
TEST_F(SamplerTest, Otep235TraceStateGoldenVectors) {
  const std::string kDefaultTid = Unhex("fefefefefefefefefe80000000000000");
  const std::string kImprobable = Unhex("111111111111111111ffffffffffffff");
  struct Case {
    std::string name, cfg, tid, ts;
    std::optional<std::string> equalizing, proportional;  // the tracestate kept, nullopt: dropped
  };
  std::vector<Case> cases = {
      {"100 percent", "sampling_percentage: 100", "", "", "ot=th:0", "ot=th:0"},
      {"50 percent sampled", "sampling_percentage: 50", "", "", "ot=th:8", "ot=th:8"},
      {"25 percent sampled", "sampling_percentage: 25", "ddddddddddddddddddc0000000000000", "", "ot=th:c", "ot=th:c"},
      {"25 percent unsampled", "sampling_percentage: 25", "ddddddddddddddddddb0000000000000", "", {}, {}},
      {"1 percent sampled", "sampling_percentage: 1\nsampling_precision: 14", "", "ot=rv:FD70A3D70A3D71",
       "ot=rv:FD70A3D70A3D71;th:fd70a3d70a3d71", "ot=rv:FD70A3D70A3D71;th:fd70a3d70a3d71"},
      {"1 percent rv precision 4", "sampling_percentage: 1\nsampling_precision: 4", "", "ot=rv:FD70A3D70A3D71",
       "ot=rv:FD70A3D70A3D71;th:fd70a", "ot=rv:FD70A3D70A3D71;th:fd70a"},
      {"1 percent rv precision 3", "sampling_percentage: 1\nsampling_precision: 3", "", "ot=rv:FD70A3D70A3D71", {}, {}},
      {"1 percent not sampled with rv",
       "sampling_percentage: 1\nsampling_precision: 14",
       "",
       "ot=rv:FD70A3D70A3D70",
       {},
       {}},
      {"49 percent not sampled", "sampling_percentage: 49", "", "", {}, {}},
      {"1 percent sampled with rv", "sampling_percentage: 1\nsampling_precision: 14", "", "ot=rv:fd70B000000000",
       "ot=rv:fd70B000000000;th:fd70a3d70a3d71", "ot=rv:fd70B000000000;th:fd70a3d70a3d71"},
      {"1 percent sampled with tid", "sampling_percentage: 1\nsampling_precision: 4",
       "a0a0a0a0a0a0a0a0a0fe000000000000", "", "ot=th:fd70a", "ot=th:fd70a"},
      {"incoming 50 percent with rv",
       "sampling_percentage: 50\nsampling_precision: 14",
       "",
       "ot=rv:90000000000000;th:80000000000000",
       "ot=rv:90000000000000;th:8",
       {}},
      {"incoming 50 at 25 not sampled", "sampling_percentage: 25", "", "ot=th:8", {}, {}},
      {"incoming 50 at 25 sampled", "sampling_percentage: 25", "ffffffffffffffffffffffffffffffff", "ot=th:8", "ot=th:c",
       "ot=th:e"},
      {"equalizing vs proportional", "sampling_percentage: 50", "", "ot=rv:c0000000000000;th:8",
       "ot=rv:c0000000000000;th:8", "ot=rv:c0000000000000;th:c"},
      {"inconsistent arriving threshold", "sampling_percentage: 100", "", "ot=rv:40000000000000;th:8",
       "ot=rv:40000000000000;th:0", "ot=rv:40000000000000;th:0"},
      {"inconsistent not sampled",
       "sampling_percentage: 1\nfail_closed: true",
       "",
       "ot=rv:40000000000000;th:8",
       {},
       {}},
      {"40 percent precision 3 with rv", "sampling_percentage: 40\nsampling_precision: 3", "", "ot=rv:a0000000000000",
       "ot=rv:a0000000000000;th:99a", "ot=rv:a0000000000000;th:99a"},
      {"arriving 50 at 40 precision 6", "sampling_percentage: 40\nsampling_precision: 6",
       "a0a0a0a0a0a0a0a0a0d0000000000000", "ot=th:8", "ot=th:99999a", "ot=th:cccccd"},
      {"arriving 50 at 40 partly",
       "sampling_percentage: 40\nsampling_precision: 3",
       "a0a0a0a0a0a0a0a0a0b0000000000000",
       "ot=th:8",
       "ot=th:99a",
       {}},
      {"arriving 50 at 40 not sampled",
       "sampling_percentage: 40\nsampling_precision: 3",
       "a0a0a0a0a0a0a0a0a080000000000000",
       "ot=th:8",
       {},
       {}},
      {"200 percent equals 100", "sampling_percentage: 200", "", "", "ot=th:0", "ot=th:0"},
      {"tiny probability rounding", "sampling_percentage: 0.006103515625\nsampling_precision: 14",
       "111111111111111111ffffffffffffff", "ot=th:fffc", "ot=th:fffc", "ot=th:fffffff"},
      {"almost 100pct", "sampling_percentage: 99.99992\nsampling_precision: 10", "111111111111111111ffffffffffffff", "",
       "ot=th:00000cccccccd", "ot=th:00000cccccccd"},
      {"probability underflow",
       "sampling_percentage: 0.0625\nsampling_precision: 14",
       "111111111111111111ffffffffffffff",
       "ot=th:fffffffffffff8",
       "ot=th:fffffffffffff8",
       {}},
  };
  for (const Case& c : cases) {
    for (std::string mode : {"equalizing", "proportional"}) {
      std::string yaml = StrCat("mode: ", mode, "\n", c.cfg, "\n");
      if (c.cfg.find("fail_closed") == std::string::npos) yaml += "fail_closed: false\n";
      if (c.cfg.find("precision") == std::string::npos) yaml += "sampling_precision: 14\n";
      auto got = One(yaml, {c.tid.empty() ? kDefaultTid : Unhex(c.tid), c.ts});
      auto want = mode == "equalizing" ? c.equalizing : c.proportional;
      EXPECT_EQ(got, want) << mode << ": " << c.name;
    }
  }
  (void)kImprobable;
}

// tracesprocessor_test.go Test_tracesamplerprocessor_TraceStateErrors: with fail_closed,
// items whose sampling information is unusable are dropped, and counted.
TEST_F(SamplerTest, FailClosedDropsUnusableItems) {
  const std::string tid = Unhex("fefefefefefefefefe80000000000000");
  struct Case {
    std::string tid, ts, reason;
  };
  for (const Case& c : std::vector<Case>{
           {std::string(16, '\0'), "ot=th:8", "missing_randomness"},
           {tid, "ot=rv:abababababababab", "invalid_sampling_info"},
           {tid, "ot=th:abababababababab", "invalid_sampling_info"},
           {tid, "ot=th:-1", "invalid_sampling_info"},
           {Unhex("ffffffffffffffffff70000000000000"), "ot=th:8", "inconsistent_threshold"},
           {tid, "ot=th:8;rv:70000000000000", "inconsistent_threshold"},
       }) {
    for (std::string mode : {"equalizing", "proportional"}) {
      double before = Errors(c.reason);
      EXPECT_EQ(One(StrCat("mode: ", mode, "\nsampling_percentage: 100\n"), {c.tid, c.ts}), std::nullopt)
          << mode << " " << c.ts;
      EXPECT_EQ(Errors(c.reason), before + 1) << mode << " " << c.ts;
    }
  }
  // fail_closed: false lets them through (an inconsistent threshold is cleared first).
  EXPECT_EQ(One("mode: proportional\nsampling_percentage: 50\nfail_closed: false\n", {tid, "ot=th:-1"}), "ot=th:-1");
  // hash_seed leaves OTEP 235 information alone: such items are errors.
  EXPECT_EQ(One("mode: hash_seed\nsampling_percentage: 100\n", {tid, "ot=th:8"}), std::nullopt);
  EXPECT_EQ(Errors("threshold_in_use"), 1);
  EXPECT_EQ(One("mode: hash_seed\nsampling_percentage: 100\nfail_closed: false\n", {tid, "ot=rv:40000000000000"}),
            "ot=rv:40000000000000");
  EXPECT_EQ(Errors("randomness_in_use"), 1);
}

// An incoming threshold is honoured and never raised: a 100% equalizing sampler keeps
// th:c (25%) and passes the span only if its randomness passes th:c.
TEST_F(SamplerTest, IncomingThresholdIsNeverRaised) {
  EXPECT_EQ(One("mode: equalizing\nsampling_percentage: 100\n", {Unhex("ffffffffffffffffffffffffffffffff"), "ot=th:c"}),
            "ot=th:c");
  EXPECT_EQ(
      One("mode: proportional\nsampling_percentage: 100\n", {Unhex("ffffffffffffffffffffffffffffffff"), "ot=th:c"}),
      "ot=th:c");
  // sampling.priority forces sampling, but the arriving threshold stays (counted).
  EXPECT_EQ(One("mode: proportional\nsampling_percentage: 50\n",
                {Unhex("ffffffffffffffffffffffffffffffff"), "ot=th:c,vendor=x", Int(1)}),
            "ot=th:c,vendor=x");
  EXPECT_EQ(telemetry_.Value("outrigger_processor_probabilistic_sampler_threshold_kept_total", {{"signal", "traces"}}),
            1);
}

TEST_F(SamplerTest, SamplingPriority) {
  const std::string low = Unhex("010000000000000000000000000000ff");  // randomness ~0: sampled only at 100%
  for (std::string mode : {"hash_seed", "equalizing", "proportional"}) {
    std::string at1 = StrCat("mode: ", mode, "\nsampling_percentage: 1\n");
    std::string at100 = StrCat("mode: ", mode, "\nsampling_percentage: 100\n");
    EXPECT_TRUE(One(at1, {low, "", Int(2)})) << mode;
    EXPECT_TRUE(One(at1, {low, "", Dbl(0.5)})) << mode;
    EXPECT_TRUE(One(at1, {low, "", Str("1")})) << mode;
    EXPECT_FALSE(One(at100, {low, "", Int(0)})) << mode;
    EXPECT_FALSE(One(at100, {low, "", Dbl(0)})) << mode;
    EXPECT_FALSE(One(at100, {low, "", Str("0.0")})) << mode;
    EXPECT_TRUE(One(at100, {low, "", Int(-1)})) << mode;  // negative defers
    EXPECT_TRUE(One(at100, {low, "", Str("NaN")})) << mode;
    EXPECT_TRUE(One(at100, {low, "", Str("x")})) << mode;
    // 0% never samples, except by priority.
    EXPECT_FALSE(One(StrCat("mode: ", mode, "\nsampling_percentage: 0\n"), {low, ""})) << mode;
    EXPECT_TRUE(One(StrCat("mode: ", mode, "\nsampling_percentage: 0\n"), {low, "", Int(1)})) << mode;
  }
  EXPECT_EQ(One("mode: proportional\nsampling_percentage: 1\n", {low, "", Int(2)}), "ot=th:0");
  EXPECT_GT(Items("sampled", "sampling_priority"), 0);
  EXPECT_GT(Items("dropped", "sampling_priority"), 0);
}

// 100,000 traces with random ids: the share kept is within 5 standard deviations of the
// configured rate, in every mode.
TEST_F(SamplerTest, RatesOverManyTraces) {
  constexpr int kTraces = 100000;
  std::mt19937_64 rng(12345);
  std::vector<SpanIn> in;
  for (int i = 0; i < kTraces; ++i) {
    std::string tid(16, '\0');
    for (char& c : tid) c = static_cast<char>(rng());
    in.push_back({tid, ""});
  }
  for (std::string mode : {"hash_seed", "equalizing", "proportional"}) {
    for (double pct : {1.0, 10.0, 33.3, 50.0, 90.0}) {
      Capture next;
      auto p = Make(StrCat("mode: ", mode, "\nsampling_percentage: ", pct, "\n"), Signal::kTraces, &next);
      ASSERT_TRUE(p->ConsumeTraces(Spans(in)).ok());
      double kept = static_cast<double>(AllSpans(next.traces).size());
      double expect = kTraces * pct / 100, sd = std::sqrt(kTraces * pct / 100 * (1 - pct / 100));
      EXPECT_NEAR(kept, expect, 5 * sd) << mode << " " << pct;
    }
  }
}

// Two instances with the same config keep exactly the same traces; a lower rate keeps a
// subset of a higher one (consistency); another hash_seed keeps another set.
TEST_F(SamplerTest, InstancesDecideIdentically) {
  std::mt19937_64 rng(99);
  std::vector<SpanIn> in;
  for (int i = 0; i < 20000; ++i) {
    std::string tid(16, '\0');
    for (char& c : tid) c = static_cast<char>(rng());
    in.push_back({tid, ""});
  }
  auto kept = [&](std::string_view yaml) {
    Capture next;
    auto p = Make(yaml, Signal::kTraces, &next);
    EXPECT_TRUE(p->ConsumeTraces(Spans(in)).ok());
    std::set<std::string> ids;
    for (const tpb::Span* s : AllSpans(next.traces)) ids.insert(s->trace_id());
    return ids;
  };
  for (std::string mode : {"hash_seed", "equalizing", "proportional"}) {
    std::string cfg = StrCat("mode: ", mode, "\nhash_seed: 7\nsampling_percentage: ");
    auto a = kept(cfg + "20\n"), b = kept(cfg + "20\n"), low = kept(cfg + "5\n");
    EXPECT_EQ(a, b) << mode;
    EXPECT_GT(a.size(), 3000u);
    for (const std::string& id : low) EXPECT_TRUE(a.count(id)) << mode;
  }
  auto seed7 = kept("mode: hash_seed\nhash_seed: 7\nsampling_percentage: 20\n");
  auto seed8 = kept("mode: hash_seed\nhash_seed: 8\nsampling_percentage: 20\n");
  EXPECT_NE(seed7, seed8);
}

TEST_F(SamplerTest, CountsAndBackpressure) {
  auto p = Make("mode: proportional\nsampling_percentage: 50\n");
  std::vector<SpanIn> in = {{Unhex("0000000000000000ffffffffffffffff"), ""},
                            {Unhex("00000000000000000000000000000001"), ""},
                            {std::string(16, '\0'), ""}};
  ASSERT_TRUE(p->ConsumeTraces(Spans(in)).ok());
  EXPECT_EQ(Items("sampled", "trace_id_w3c"), 1);
  EXPECT_EQ(Items("dropped", "trace_id_w3c"), 1);
  EXPECT_EQ(Items("dropped", "missing_randomness"), 1);  // fail_closed by default
  EXPECT_EQ(Errors("missing_randomness"), 1);
  // All dropped: nothing is passed on, OK.
  ASSERT_TRUE(p->ConsumeTraces(Spans({{Unhex("00000000000000000000000000000001"), ""}})).ok());
  EXPECT_EQ(next_.traces.size(), 1u);
  // The next consumer's refusal comes back to the caller.
  next_.fail = absl::UnavailableError("full");
  EXPECT_EQ(p->ConsumeTraces(Spans(in)).code(), absl::StatusCode::kUnavailable);
}

// ---- logs ----

struct LogIn {
  std::string tid;
  std::vector<std::pair<std::string, AnyValue>> attrs;
};

pdata::Logs Logs(const std::vector<LogIn>& in) {
  clpb::ExportLogsServiceRequest* req;
  pdata::Logs d = pdata::Logs::New(&req);
  auto* sl = req->add_resource_logs()->add_scope_logs();
  for (const LogIn& l : in) {
    lpb::LogRecord* r = sl->add_log_records();
    r->set_trace_id(l.tid);
    for (const auto& [k, v] : l.attrs) {
      KeyValue* kv = r->add_attributes();
      kv->set_key(k);
      *kv->mutable_value() = v;
    }
  }
  return d;
}

std::vector<const lpb::LogRecord*> AllLogs(const std::vector<pdata::Logs>& got) {
  std::vector<const lpb::LogRecord*> out;
  for (const pdata::Logs& t : got) {
    t.ForEachRequest([&](const clpb::ExportLogsServiceRequest& r) {
      for (const auto& rl : r.resource_logs()) {
        for (const auto& sl : rl.scope_logs()) {
          for (const auto& lr : sl.log_records()) out.push_back(&lr);
        }
      }
    });
  }
  return out;
}

std::string AttrStr(const lpb::LogRecord& r, std::string_view key) {
  for (const KeyValue& kv : r.attributes()) {
    if (kv.key() == key) return kv.value().string_value();
  }
  return "<absent>";
}

// Upstream drops records without a trace ID even at 100% (contrib#36119); we keep them:
// every randomness value passes a 100% sampler.
TEST_F(SamplerTest, LogsAt100PercentKeepRecordsWithoutTraceId) {
  for (std::string mode : {"hash_seed", "equalizing", "proportional"}) {
    Capture next;
    auto p = Make(StrCat("mode: ", mode, "\nsampling_percentage: 100\n"), Signal::kLogs, &next);
    ASSERT_TRUE(
        p->ConsumeLogs(Logs({{"", {}}, {std::string(16, '\0'), {}}, {Unhex("0102030405060708090a0b0c0d0e0f10"), {}}}))
            .ok());
    EXPECT_EQ(AllLogs(next.logs).size(), 3u) << mode;
  }
  // Below 100%, fail_closed drops them (and counts them).
  Capture next;
  auto p = Make("sampling_percentage: 99\n", Signal::kLogs, &next);
  ASSERT_TRUE(p->ConsumeLogs(Logs({{"", {}}})).ok());
  EXPECT_TRUE(next.logs.empty());
  EXPECT_EQ(Errors("missing_randomness", "logs"), 1);
}

TEST_F(SamplerTest, LogsByTraceIdMatchSpans) {
  std::mt19937_64 rng(5);
  std::vector<SpanIn> spans;
  std::vector<LogIn> logs;
  for (int i = 0; i < 5000; ++i) {
    std::string tid(16, '\0');
    for (char& c : tid) c = static_cast<char>(rng());
    spans.push_back({tid, ""});
    logs.push_back({tid, {}});
  }
  for (std::string mode : {"hash_seed", "proportional"}) {
    Capture tn, ln;
    std::string cfg = StrCat("mode: ", mode, "\nsampling_percentage: 30\n");
    ASSERT_TRUE(Make(cfg, Signal::kTraces, &tn)->ConsumeTraces(Spans(spans)).ok());
    ASSERT_TRUE(Make(cfg, Signal::kLogs, &ln)->ConsumeLogs(Logs(logs)).ok());
    std::set<std::string> a, b;
    for (auto* s : AllSpans(tn.traces)) a.insert(s->trace_id());
    for (auto* l : AllLogs(ln.logs)) {
      b.insert(l->trace_id());
      EXPECT_NE(AttrStr(*l, "sampling.threshold"), "<absent>");
    }
    EXPECT_EQ(a, b) << mode;
    EXPECT_GT(a.size(), 1000u);
  }
}

TEST_F(SamplerTest, LogsByAttribute) {
  // attribute_source: record hashes from_attribute's value: equal values, equal decisions.
  std::vector<LogIn> in;
  for (int i = 0; i < 4000; ++i) {
    in.push_back({Unhex("0102030405060708090a0b0c0d0e0f10"), {{"logID", Str("id-" + std::to_string(i % 1000))}}});
  }
  Capture next;
  auto p = Make("sampling_percentage: 25\nattribute_source: record\nfrom_attribute: logID\n", Signal::kLogs, &next);
  ASSERT_TRUE(p->ConsumeLogs(Logs(in)).ok());
  std::map<std::string, int> kept;
  for (auto* l : AllLogs(next.logs)) {
    kept[AttrStr(*l, "logID")]++;
    EXPECT_EQ(AttrStr(*l, "sampling.randomness").size(), 14u);
  }
  for (const auto& [id, n] : kept) EXPECT_EQ(n, 4) << id;  // all four copies or none
  EXPECT_NEAR(static_cast<double>(kept.size()), 250, 5 * std::sqrt(1000 * 0.25 * 0.75));
  EXPECT_EQ(Items("sampled", "logID", "logs"), static_cast<double>(kept.size() * 4));
  // The same decision as a hash over the value with the seed (0).
  for (int i = 0; i < 1000; ++i) {
    std::string id = "id-" + std::to_string(i);
    bool want = HashSeedRandomness(id, 0).unsigned_value >= (uint64_t{0x4000 - 4096} << 42);
    EXPECT_EQ(kept.count(id) == 1, want) << id;
  }
}

TEST_F(SamplerTest, LogsPriorityAndSamplingAttributes) {
  const std::string low = Unhex("010000000000000000000000000000ff");
  Capture next;
  auto p = Make("mode: proportional\nsampling_percentage: 1\nsampling_priority: prio\n", Signal::kLogs, &next);
  ASSERT_TRUE(p->ConsumeLogs(Logs({{low, {{"prio", Int(100)}}},
                                   {low, {{"prio", Dbl(250)}}},
                                   {low, {{"prio", Int(0)}}},
                                   {low, {}},
                                   {Unhex("0000000000000000ffffffffffffffff"), {{"prio", Int(0)}}}}))
                  .ok());
  auto got = AllLogs(next.logs);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(AttrStr(*got[0], "sampling.threshold"), "0");
  // An explicit sampling.randomness is the randomness; the threshold is written beside it.
  Capture n2;
  auto q = Make("mode: proportional\nsampling_percentage: 50\n", Signal::kLogs, &n2);
  ASSERT_TRUE(q->ConsumeLogs(Logs({{"", {{"sampling.randomness", Str("90000000000000")}}},
                                   {"", {{"sampling.randomness", Str("70000000000000")}}},
                                   {"", {{"sampling.randomness", Str("zz")}}}}))
                  .ok());
  auto kept = AllLogs(n2.logs);
  ASSERT_EQ(kept.size(), 1u);
  EXPECT_EQ(AttrStr(*kept[0], "sampling.threshold"), "8");
  EXPECT_EQ(Errors("invalid_sampling_info", "logs"), 1);
}

}  // namespace
}  // namespace outrigger::processors::probabilistic_sampler
