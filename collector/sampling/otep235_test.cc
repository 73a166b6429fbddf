#include "collector/sampling/otep235.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

namespace outrigger::sampling {
namespace {

std::string TV(double p, int precision = 0) {
  auto t = ProbabilityToThreshold(p, precision);
  return t ? t->TValue() : "<out of range>";
}

// Golden vectors: opentelemetry-collector-contrib pkg/sampling/probability_test.go
// (ExampleProbabilityToThresholdWithPrecision, ExampleProbabilityToThreshold_rounding,
// _limitedprecision, _verysmall, TestProbabilityToThresholdWithPrecision).
TEST(Otep235, ProbabilityToThresholdUpstreamExamples) {
  EXPECT_EQ(TV(1.0 / 3, 3), "aab");
  EXPECT_EQ(TV(2.0 / 3, 3), "555");
  EXPECT_EQ(TV(3.0 / 3, 3), "0");
  EXPECT_EQ(TV(1.0 / 3), "aaaaaaaaaaaaac");
  auto next = [](double x, int n) {
    for (; n < 0; ++n) x = std::nextafter(x, 0.0);
    return x;
  };
  EXPECT_EQ(TV(next(15.0 / 16, 0)), "1");
  EXPECT_EQ(TV(next(15.0 / 16, -1)), "10000000000008");
  EXPECT_EQ(TV(next(15.0 / 16, -2)), "1000000000001");
  EXPECT_EQ(TV(next(15.0 / 16, -3)), "10000000000018");
  EXPECT_EQ(TV(next(0.5, -1)), "80000000000004");
  EXPECT_EQ(TV(next(0.25, -3)), "c0000000000006");
  EXPECT_EQ(TV(next(2.0 / 16, -3)), "e0000000000003");
  EXPECT_EQ(TV(next(1.0 / 16, -1)), "f");
  EXPECT_EQ(TV(next(1.0 / 16, -2)), "f0000000000001");
  EXPECT_EQ(TV(kMinSamplingProbability, 3), "ffffffffffffff");
  EXPECT_EQ(TV(0x2p-56, 3), "fffffffffffffe");
  EXPECT_EQ(TV(0x3p-56, 3), "fffffffffffffd");
  EXPECT_EQ(TV(0x8p-56, 3), "fffffffffffff8");
  EXPECT_EQ(TV(0x10p-56, 3), "fffffffffffff");
}

TEST(Otep235, ProbabilityToThresholdWithPrecisionTable) {
  struct Case {
    double prob;
    std::string exact;
    std::vector<std::string> rounded;
  };
  for (const Case& c : std::vector<Case>{
           {1 - 0x456789ap-28, "456789a", {"45678a", "45679", "4568", "456", "45", "4"}},
           {1 - 0x456789ap-40, "000456789a", {"00045678a", "00045679", "0004568", "000456", "00045", "0004"}},
           {1 - 0x789abcdefp-40,
            "0789abcdef",
            {"0789abcdef", "0789abcdf", "0789abce", "0789abd", "0789ac", "0789b", "078a", "079", "08"}},
           {1 - 0x12345678p-32, "12345678", {"1234568", "123456", "12345", "1234", "123", "12", "1"}},
           {1 - 0x80801p-28, "0080801", {"00808", "008"}},
           {1, "0", {"0"}},
       }) {
    EXPECT_EQ(TV(c.prob), c.exact);
    for (const std::string& r : c.rounded) {
      size_t digits = r.size() - r.find_first_not_of('0');
      if (r == "0") digits = 1;
      EXPECT_EQ(TV(c.prob, static_cast<int>(digits)), r) << c.exact;
    }
  }
}

TEST(Otep235, OutOfRange) {
  EXPECT_FALSE(ProbabilityToThreshold(0, 4));
  EXPECT_FALSE(ProbabilityToThreshold(1.5, 4));
  EXPECT_FALSE(ProbabilityToThreshold(-0.1, 4));
  EXPECT_FALSE(ProbabilityToThreshold(std::nan(""), 4));
}

TEST(Otep235, TValueAndRValueEncodings) {
  Threshold t;
  ASSERT_TRUE(TValueToThreshold("c", &t).ok());
  EXPECT_EQ(t.unsigned_value, uint64_t{0xc} << 52);
  EXPECT_EQ(t.TValue(), "c");
  EXPECT_DOUBLE_EQ(t.Probability(), 0.25);
  EXPECT_DOUBLE_EQ(t.AdjustedCount(), 4);
  ASSERT_TRUE(TValueToThreshold("80000000000000", &t).ok());
  EXPECT_EQ(t.TValue(), "8");  // trailing zeros are erased
  ASSERT_TRUE(TValueToThreshold("FD70A", &t).ok());
  EXPECT_EQ(t.TValue(), "fd70a");
  EXPECT_EQ(kAlwaysSampleThreshold.TValue(), "0");
  EXPECT_EQ(kNeverSampleThreshold.TValue(), "");
  EXPECT_EQ(kNeverSampleThreshold.AdjustedCount(), 0);
  EXPECT_EQ(TValueToThreshold("abababababababab", &t).message(), "t-value exceeds 14 hex digits");
  EXPECT_FALSE(TValueToThreshold("", &t).ok());
  EXPECT_FALSE(TValueToThreshold("-1", &t).ok());
  EXPECT_FALSE(TValueToThreshold("0x1", &t).ok());

  Randomness r;
  ASSERT_TRUE(RValueToRandomness("9b8233f7e3a151", &r).ok());
  EXPECT_EQ(r.unsigned_value, 0x9b8233f7e3a151u);
  EXPECT_EQ(r.RValue(), "9b8233f7e3a151");
  EXPECT_EQ(Randomness{0xaabbccddeeffu}.RValue(), "00aabbccddeeff");
  EXPECT_EQ(RValueToRandomness("abababababababab", &r).message(), "r-value must have 14 hex digits");
  EXPECT_FALSE(RValueToRandomness("9b8233f7e3a15g", &r).ok());

  // README: rv 9b8233f7e3a151 is sampled at 50% (th 8 zero-padded is below it).
  ASSERT_TRUE(TValueToThreshold("8", &t).ok());
  EXPECT_TRUE(t.ShouldSample(Randomness{0x9b8233f7e3a151u}));
  EXPECT_FALSE(t.ShouldSample(Randomness{0x7fffffffffffffu}));
  EXPECT_TRUE(t.ShouldSample(Randomness{0x80000000000000u}));  // T <= R
}

TEST(Otep235, TraceIdRandomnessIsTheLastSevenBytes) {
  std::string id("\xfe\xfe\xfe\xfe\xfe\xfe\xfe\xfe\xfe\x80\x00\x00\x00\x00\x00\x01", 16);
  EXPECT_EQ(TraceIdToRandomness(id).unsigned_value, 0x80000000000001u);
  EXPECT_TRUE(TraceIdEmpty(std::string(16, '\0')));
  EXPECT_TRUE(TraceIdEmpty(""));
  EXPECT_FALSE(TraceIdEmpty(id));
}

TEST(Otep235, TraceStateParseAndSerialize) {
  W3CTraceState ts;
  ASSERT_TRUE(W3CTraceState::Parse("ot=th:c;rv:9b8233f7e3a151;x:y,vendor=abc , other@sys=1", &ts).ok());
  EXPECT_EQ(ts.ot.tvalue, "c");
  EXPECT_EQ(ts.ot.rvalue, "9b8233f7e3a151");
  ASSERT_EQ(ts.ot.extra.size(), 1u);
  ASSERT_EQ(ts.members.size(), 2u);
  EXPECT_EQ(ts.members[1].first, "other@sys");
  // rv, th, then the other ot fields; ot first, then the other members in order.
  EXPECT_EQ(ts.Serialize(), "ot=rv:9b8233f7e3a151;th:c;x:y,vendor=abc,other@sys=1");

  ASSERT_TRUE(W3CTraceState::Parse("vendor=abc", &ts).ok());
  EXPECT_FALSE(ts.ot.HasAny());
  ASSERT_TRUE(ts.ot.UpdateThreshold(Threshold{uint64_t{8} << 52}));
  EXPECT_EQ(ts.Serialize(), "ot=th:8,vendor=abc");
  // Never raised: a smaller threshold (higher probability) is refused.
  EXPECT_FALSE(ts.ot.UpdateThreshold(Threshold{uint64_t{4} << 52}));
  EXPECT_EQ(ts.ot.tvalue, "8");
  EXPECT_TRUE(ts.ot.UpdateThreshold(Threshold{uint64_t{0xc} << 52}));
  EXPECT_EQ(ts.ot.tvalue, "c");
}

TEST(Otep235, TraceStateErrors) {
  W3CTraceState ts;
  EXPECT_EQ(W3CTraceState::Parse("ot=rv:abababababababab", &ts).message(), "r-value must have 14 hex digits");
  EXPECT_TRUE(ts.ot.rvalue.empty());
  EXPECT_EQ(W3CTraceState::Parse("ot=th:abababababababab", &ts).message(), "t-value exceeds 14 hex digits");
  EXPECT_FALSE(W3CTraceState::Parse("ot=th:-1", &ts).ok());
  EXPECT_FALSE(W3CTraceState::Parse("Upper=1", &ts).ok());
  EXPECT_FALSE(W3CTraceState::Parse("novalue", &ts).ok());
  EXPECT_FALSE(W3CTraceState::Parse("ot=th:8;", &ts).ok());
  EXPECT_FALSE(W3CTraceState::Parse("ot=th:8;;rv:1", &ts).ok());
  EXPECT_FALSE(W3CTraceState::Parse(std::string(1025, 'a'), &ts).ok());
  std::string many;
  for (int i = 0; i < 33; ++i) many += "k" + std::to_string(i) + "=v,";
  EXPECT_FALSE(W3CTraceState::Parse(many, &ts).ok());
  // Empty members are allowed.
  EXPECT_TRUE(W3CTraceState::Parse(",a=1,,", &ts).ok());
  // Arbitrary bytes never crash the parser.
  for (int i = 0; i < 2000; ++i) {
    std::string s;
    for (int j = 0; j < i % 40; ++j) s += static_cast<char>((i * 131 + j * 17) % 256);
    (void)W3CTraceState::Parse(s, &ts);
    (void)W3CTraceState::Parse("ot=" + s, &ts);
  }
}

}  // namespace
}  // namespace outrigger::sampling
