// The validity rules of the OpenMetrics 1.0 specification and of the Prometheus text
// format 0.0.4, one test per rule (the rule is quoted or named in each). What is valid
// parses; what a rule forbids fails with the line in the error.
#include <gtest/gtest.h>

#include "collector/common/strings.h"
#include "receivers/prometheus/parser.h"

namespace outrigger::receivers::prometheus {
namespace {

std::string Om(std::string_view text) {
  auto r = ParseOpenMetrics(text);
  return r.ok() ? "" : std::string(r.status().message());
}

std::string Text(std::string_view text) {
  auto r = Parse(text);
  auto v = ParseView(text);  // the scraper's parser agrees with the copying one
  EXPECT_EQ(r.ok(), v.ok()) << text;
  if (!r.ok() && !v.ok()) {
    EXPECT_EQ(r.status().message(), v.status().message());
  }
  return r.ok() ? "" : std::string(r.status().message());
}

// ---- OpenMetrics 1.0 ----

// Counter: "A Total is a non-NaN and MUST be monotonically non-decreasing over time,
// starting from 0" (so not negative). `_created` is a timestamp, not a total.
TEST(OpenMetricsRulesTest, CounterTotalIsNotNaNOrNegative) {
  EXPECT_EQ(Om("# TYPE c counter\nc_total 0\nc_created -5\n# EOF\n"), "");
  EXPECT_EQ(Om("# TYPE c counter\nc_total NaN\n# EOF\n"),
            "line 2: counter sample c_total has value nan: a counter's total is not NaN or negative");
  EXPECT_EQ(Om("# TYPE c counter\nc_total -1\n# EOF\n"),
            "line 2: counter sample c_total has value -1: a counter's total is not NaN or negative");
  EXPECT_EQ(Om("# TYPE c_total counter\nc_total -1\n# EOF\n"),
            "line 2: counter sample c_total has value -1: a counter's total is not NaN or negative");
  EXPECT_EQ(Om("# TYPE c counter\nc_total +Inf\n# EOF\n"), "");  // a real number, however large
}

// Histogram: "Sum, and buckets values are counters so MUST NOT be NaN or negative";
// "Count and bucket values MUST be integers".
TEST(OpenMetricsRulesTest, HistogramBucketCountAndSumValues) {
  const std::string head = "# TYPE h histogram\n";
  EXPECT_EQ(Om(head + "h_bucket{le=\"+Inf\"} 2.0\nh_count 2\nh_sum 0\n# EOF\n"), "");  // 2.0 is an integer
  EXPECT_EQ(Om(head + "h_bucket{le=\"+Inf\"} -1\n# EOF\n"),
            "line 2: histogram sample h_bucket has value -1: bucket and count values are non-negative integers");
  EXPECT_EQ(Om(head + "h_bucket{le=\"+Inf\"} NaN\n# EOF\n"),
            "line 2: histogram sample h_bucket has value nan: bucket and count values are non-negative integers");
  EXPECT_EQ(Om(head + "h_bucket{le=\"+Inf\"} 1.5\n# EOF\n"),
            "line 2: histogram sample h_bucket has value 1.5: bucket and count values are non-negative integers");
  EXPECT_EQ(Om(head + "h_bucket{le=\"+Inf\"} 1\nh_count 1.5\n# EOF\n"),
            "line 3: histogram sample h_count has value 1.5: bucket and count values are non-negative integers");
  EXPECT_EQ(Om(head + "h_bucket{le=\"+Inf\"} 1\nh_count 1\nh_sum NaN\n# EOF\n"),
            "line 4: histogram sample h_sum has value nan: a histogram's sum is not NaN or negative");
  EXPECT_EQ(Om(head + "h_bucket{le=\"+Inf\"} 1\nh_count 1\nh_sum -2\n# EOF\n"),
            "line 4: histogram sample h_sum has value -2: a histogram's sum is not NaN or negative");
  // GaugeHistogram: "bucket values MUST NOT be negative or NaN ... Gsum MUST NOT be NaN".
  EXPECT_EQ(Om("# TYPE g gaugehistogram\ng_bucket{le=\"+Inf\"} -1\n# EOF\n"),
            "line 2: gaugehistogram sample g_bucket has value -1: bucket and count values are non-negative integers");
  EXPECT_EQ(Om("# TYPE g gaugehistogram\ng_bucket{le=\"+Inf\"} 1\ng_gcount 1\ng_gsum NaN\n# EOF\n"),
            "line 4: gaugehistogram sample g_gsum has value nan: a gaugehistogram's gsum is not NaN");
}

// "Buckets MUST be sorted in number increasing order of "le""; "Bucket thresholds within
// a MetricPoint MUST be unique"; "Bucket thresholds MUST NOT equal NaN".
TEST(OpenMetricsRulesTest, HistogramBucketsInIncreasingOrderOfUniqueThresholds) {
  const std::string head = "# TYPE h histogram\n";
  EXPECT_EQ(Om(head + "h_bucket{le=\"-1\"} 0\nh_bucket{le=\"0.0\"} 0\nh_bucket{le=\"1e-05\"} 1\n"
                      "h_bucket{le=\"1.1e+23\"} 1\nh_bucket{le=\"+Inf\"} 1\n# EOF\n"),
            "");
  EXPECT_EQ(Om(head + "h_bucket{le=\"2\"} 0\nh_bucket{le=\"1\"} 0\nh_bucket{le=\"+Inf\"} 0\n# EOF\n"),
            "line 3: bucket le=\"1\" of h is not above the previous one (OpenMetrics: buckets in increasing order of "
            "le, each threshold once)");
  EXPECT_EQ(Om(head + "h_bucket{le=\"1\"} 0\nh_bucket{le=\"1.0\"} 0\nh_bucket{le=\"+Inf\"} 0\n# EOF\n"),
            "line 3: bucket le=\"1.0\" of h is not above the previous one (OpenMetrics: buckets in increasing order "
            "of le, each threshold once)");
  EXPECT_EQ(Om(head + "h_bucket{le=\"NaN\"} 0\nh_bucket{le=\"+Inf\"} 0\n# EOF\n"),
            "line 2: bucket le=\"NaN\" of h: thresholds are not NaN");
  // The +Inf bucket is last: a bucket after it is out of order.
  EXPECT_EQ(Om(head + "h_bucket{le=\"+Inf\"} 0\nh_bucket{le=\"5\"} 0\n# EOF\n"),
            "line 3: bucket le=\"5\" of h is not above the previous one (OpenMetrics: buckets in increasing order of "
            "le, each threshold once)");
}

// "Buckets MUST be cumulative ... value_1 <= value_2 <= value_3 <= value_+Inf".
TEST(OpenMetricsRulesTest, HistogramBucketsAreCumulative) {
  EXPECT_EQ(Om("# TYPE h histogram\nh_bucket{le=\"1\"} 5\nh_bucket{le=\"2\"} 5\nh_bucket{le=\"+Inf\"} 6\n# EOF\n"), "");
  EXPECT_EQ(Om("# TYPE h histogram\nh_bucket{le=\"1\"} 5\nh_bucket{le=\"2\"} 4\nh_bucket{le=\"+Inf\"} 6\n# EOF\n"),
            "line 3: bucket le=\"2\" of h has 4, less than the previous bucket's 5 (OpenMetrics: buckets are "
            "cumulative)");
  EXPECT_EQ(Om("# TYPE g gaugehistogram\ng_bucket{le=\"1\"} 5\ng_bucket{le=\"+Inf\"} 3\n# EOF\n"),
            "line 3: bucket le=\"+Inf\" of g has 3, less than the previous bucket's 5 (OpenMetrics: buckets are "
            "cumulative)");
}

// "Histogram MetricPoints MUST have one bucket with an +Inf threshold" (gaugehistograms
// too), and canonical numbers: "Exposers MUST produce output for positive infinity as
// +Inf" (other thresholds may be written any way).
TEST(OpenMetricsRulesTest, HistogramHasAnInfBucketSpelledPlusInf) {
  EXPECT_EQ(Om("# TYPE h histogram\nh_bucket{le=\"1e-04\"} 0\nh_bucket{le=\"1.1e-4\"} 0\nh_bucket{le=\"+Inf\"} 0\n"
               "# EOF\n"),
            "");
  for (std::string_view inf : {"+inf", "Inf", "+Infinity", "+INF"}) {
    EXPECT_EQ(Om(StrCat("# TYPE h histogram\nh_bucket{le=\"1\"} 0\nh_bucket{le=\"", inf, "\"} 0\n# EOF\n")),
              StrCat("line 3: bucket le=\"", inf, "\" of h: positive infinity is written +Inf in OpenMetrics"))
        << inf;
  }
  EXPECT_EQ(Om("# TYPE h histogram\nh_bucket{le=\"1\"} 0\nh_bucket{le=\"-Inf\"} 0\n# EOF\n"),
            "line 3: bucket le=\"-Inf\" of h is not above the previous one (OpenMetrics: buckets in increasing order "
            "of le, each threshold once)");
  EXPECT_EQ(Om("# TYPE h histogram\nh_bucket{le=\"1\"} 0\nh_bucket{le=\"\xe2\x88\x9e\"} 0\n# EOF\n"),
            "line 3: histogram bucket h_bucket needs a numeric \"le\" label");
  EXPECT_EQ(Om("# TYPE h histogram\nh_bucket{le=\"1\"} 0\nh_bucket{le=\"1e999\"} 0\n# EOF\n"),
            "line 3: histogram bucket h_bucket needs a numeric \"le\" label");  // not a float64
  EXPECT_EQ(Om("# TYPE h histogram\nh_bucket{le=\"1\"} 0\nh_count 0\nh_sum 0\n# EOF\n"),
            "line 2: histogram h{} has no +Inf bucket");
  EXPECT_EQ(Om("# TYPE h histogram\nh_count 0\nh_sum 0\n# EOF\n"), "line 2: histogram h{} has no +Inf bucket");
  EXPECT_EQ(Om("# TYPE g gaugehistogram\ng_bucket{le=\"1\"} 0\n# EOF\n"),
            "line 2: gaugehistogram g{} has no +Inf bucket");
}

// "the MetricPoint's +Inf Bucket value MUST also appear in a Sample with a MetricName
// with the suffix "_count"" (_gcount for gaugehistograms).
TEST(OpenMetricsRulesTest, HistogramCountEqualsTheInfBucket) {
  EXPECT_EQ(Om("# TYPE h histogram\nh_bucket{le=\"+Inf\"} 3\nh_count 4\nh_sum 1\n# EOF\n"),
            "line 3: histogram h{}: _count 4 is not the value of its +Inf bucket (3)");
  EXPECT_EQ(Om("# TYPE g gaugehistogram\ng_bucket{le=\"+Inf\"} 3\ng_gcount 2\ng_gsum 1\n# EOF\n"),
            "line 3: gaugehistogram g{}: _gcount 2 is not the value of its +Inf bucket (3)");
}

// "If and only if a Sum Value is present in a MetricPoint, then the MetricPoint's +Inf
// Bucket value MUST also appear in a Sample with ... _count" (_gsum/_gcount).
TEST(OpenMetricsRulesTest, HistogramSumAndCountComeTogether) {
  EXPECT_EQ(Om("# TYPE h histogram\nh_bucket{le=\"+Inf\"} 3\n# EOF\n"), "");  // neither
  EXPECT_EQ(Om("# TYPE h histogram\nh_bucket{le=\"+Inf\"} 3\nh_sum 1\n# EOF\n"),
            "line 3: histogram h{} has _sum without _count (OpenMetrics: both or neither)");
  EXPECT_EQ(Om("# TYPE h histogram\nh_bucket{le=\"+Inf\"} 3\nh_count 3\n# EOF\n"),
            "line 3: histogram h{} has _count without _sum (OpenMetrics: both or neither)");
  EXPECT_EQ(Om("# TYPE g gaugehistogram\ng_bucket{le=\"+Inf\"} 3\ng_gsum 1\n# EOF\n"),
            "line 3: gaugehistogram g{} has _gsum without _gcount (OpenMetrics: both or neither)");
}

// "Negative threshold buckets MAY be used, but then the Histogram MetricPoint MUST NOT
// contain a sum value"; a gaugehistogram's gsum "MAY be negative" only with them.
TEST(OpenMetricsRulesTest, NegativeThresholdsAndSums) {
  EXPECT_EQ(Om("# TYPE h histogram\nh_bucket{le=\"-1\"} 1\nh_bucket{le=\"+Inf\"} 3\n# EOF\n"), "");
  EXPECT_EQ(Om("# TYPE h histogram\nh_bucket{le=\"-1\"} 1\nh_bucket{le=\"+Inf\"} 3\nh_count 3\nh_sum 2\n# EOF\n"),
            "line 5: histogram h{} has buckets with negative thresholds and a _sum (OpenMetrics: no _sum then)");
  EXPECT_EQ(Om("# TYPE g gaugehistogram\ng_bucket{le=\"-1\"} 1\ng_bucket{le=\"+Inf\"} 3\ng_gcount 3\ng_gsum -2\n"
               "# EOF\n"),
            "");
  EXPECT_EQ(Om("# TYPE g gaugehistogram\ng_bucket{le=\"+Inf\"} 3\ng_gcount 3\ng_gsum -2\n# EOF\n"),
            "line 4: gaugehistogram g{}: _gsum -2 is negative without buckets of negative thresholds");
}

// "A Histogram's Metric's LabelSet MUST NOT have a "le" label name"; "A Quantile's
// Metric's LabelSet MUST NOT have "quantile" label name".
TEST(OpenMetricsRulesTest, LeAndQuantileAreReservedLabels) {
  EXPECT_EQ(Om("# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1\nh_count{le=\"1\"} 1\n# EOF\n"),
            "line 3: sample h_count of histogram h has a \"le\" label (only its buckets have one)");
  EXPECT_EQ(Om("# TYPE s summary\ns_count{quantile=\"0.5\"} 1\n# EOF\n"),
            "line 2: sample s_count of summary s has a \"quantile\" label (only its quantiles have one)");
  EXPECT_EQ(Om("# TYPE g gauge\ng{le=\"1\",quantile=\"2\"} 1\n# EOF\n"), "");  // other types may have them
}

// Exemplars: "Exemplars MAY be attached to the MetricPoint's Total sample" (counters),
// "Bucket values MAY have exemplars" (histograms, gaugehistograms); nowhere else.
TEST(OpenMetricsRulesTest, ExemplarsOnlyOnCounterTotalsAndBuckets) {
  EXPECT_EQ(Om("# TYPE c counter\nc_total 1 # {a=\"b\"} 1\n# EOF\n"), "");
  EXPECT_EQ(Om("# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1 # {a=\"b\"} 1\n# EOF\n"), "");
  EXPECT_EQ(Om("# TYPE g gaugehistogram\ng_bucket{le=\"+Inf\"} 1 # {a=\"b\"} 1\n# EOF\n"), "");
  const std::string rule =
      ": OpenMetrics allows exemplars only on a counter's _total and on histogram and gaugehistogram buckets";
  EXPECT_EQ(Om("# TYPE c counter\nc_total 1\nc_created 1 # {a=\"b\"} 1\n# EOF\n"),
            "line 3: exemplar on counter sample c_created" + rule);
  EXPECT_EQ(Om("# TYPE g gauge\ng 1 # {a=\"b\"} 1\n# EOF\n"), "line 2: exemplar on gauge sample g" + rule);
  EXPECT_EQ(Om("u_total 1 # {a=\"b\"} 1\n# EOF\n"), "line 1: exemplar on untyped sample u_total" + rule);
  EXPECT_EQ(Om("# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1\nh_count 1 # {a=\"b\"} 1\nh_sum 1\n# EOF\n"),
            "line 3: exemplar on histogram sample h_count" + rule);
  EXPECT_EQ(Om("# TYPE s summary\ns_count 1 # {a=\"b\"} 1\n# EOF\n"),
            "line 2: exemplar on summary sample s_count" + rule);
  EXPECT_EQ(Om("# TYPE i info\ni_info 1 # {a=\"b\"} 1\n# EOF\n"), "line 2: exemplar on info sample i_info" + rule);
}

// "the combined length of the label names and values of an Exemplar's LabelSet MUST NOT
// exceed 128 UTF-8 character code points" (more in OpenMetricsParserTest.Exemplars).
TEST(OpenMetricsRulesTest, ExemplarLabelsAtMost128CodePoints) {
  const std::string ok(127, 'x'), over(128, 'x');
  EXPECT_EQ(Om("# TYPE c counter\nc_total 1 # {a=\"" + ok + "\"} 1\n# EOF\n"), "");
  EXPECT_EQ(Om("# TYPE c counter\nc_total 1 # {a=\"" + over + "\"} 1\n# EOF\n"),
            "line 2: exemplar labels of c_total have 129 characters; OpenMetrics allows at most 128");
}

// "Each bucket covers the values less and or equal to it, and the value of the exemplar
// MUST be within this range."
TEST(OpenMetricsRulesTest, ExemplarValueWithinItsBucket) {
  EXPECT_EQ(Om("# TYPE h histogram\nh_bucket{le=\"1\"} 1 # {} 1\nh_bucket{le=\"+Inf\"} 1 # {} 99\n# EOF\n"), "");
  EXPECT_EQ(Om("# TYPE h histogram\nh_bucket{le=\"1\"} 1 # {} 1.5\nh_bucket{le=\"+Inf\"} 1\n# EOF\n"),
            "line 2: exemplar value 1.5 of bucket le=\"1\" of h is above the bucket's threshold");
}

// Info: "The Sample value MUST always be 1."
TEST(OpenMetricsRulesTest, InfoValueIsOne) {
  EXPECT_EQ(Om("# TYPE i info\ni_info{v=\"1\"} 1.0\n# EOF\n"), "");
  EXPECT_EQ(Om("# TYPE i info\ni_info{v=\"1\"} 2\n# EOF\n"),
            "line 2: info sample i_info has value 2: an info's value is always 1");
  EXPECT_EQ(Om("# TYPE i info\ni_info{v=\"1\"} NaN\n# EOF\n"),
            "line 2: info sample i_info has value nan: an info's value is always 1");
}

// StateSet: "The State sample's value MUST be 1 if the State is true and MUST be 0 if the
// State is false"; "Each State's sample MUST have a label with the MetricFamily name".
TEST(OpenMetricsRulesTest, StateSetValuesAreZeroOrOne) {
  EXPECT_EQ(Om("# TYPE s stateset\ns{s=\"a\"} 0\ns{s=\"b\"} 1.0\n# EOF\n"), "");
  EXPECT_EQ(Om("# TYPE s stateset\ns{s=\"a\"} 2\n# EOF\n"),
            "line 2: stateset sample s has value 2: a state's value is 1 (true) or 0 (false)");
  EXPECT_EQ(Om("# TYPE s stateset\ns{x=\"a\"} 1\n# EOF\n"), "line 2: stateset s needs a \"s\" label with the state");
}

// Summary: "Quantiles MUST be between 0 and 1 inclusive. Quantile values MUST NOT be
// negative" ("the value for a quantile MUST be NaN" without events); "Count and Sum
// values are counters so MUST NOT be NaN or negative. Count MUST be an integer."
TEST(OpenMetricsRulesTest, SummaryQuantilesCountAndSum) {
  EXPECT_EQ(Om("# TYPE s summary\ns{quantile=\"0\"} NaN\ns{quantile=\"1\"} 0\ns_count 0\ns_sum 0\n# EOF\n"), "");
  EXPECT_EQ(Om("# TYPE s summary\ns{quantile=\"1.5\"} 1\n# EOF\n"),
            "line 2: quantile \"1.5\" of s is not between 0 and 1");
  EXPECT_EQ(Om("# TYPE s summary\ns{quantile=\"-0.1\"} 1\n# EOF\n"),
            "line 2: quantile \"-0.1\" of s is not between 0 and 1");
  EXPECT_EQ(Om("# TYPE s summary\ns{quantile=\"NaN\"} 1\n# EOF\n"),
            "line 2: quantile \"NaN\" of s is not between 0 and 1");
  EXPECT_EQ(Om("# TYPE s summary\ns{quantile=\"0.5\"} -1\n# EOF\n"),
            "line 2: summary sample s has value -1: quantile values are not negative (NaN when there were no events)");
  EXPECT_EQ(Om("# TYPE s summary\ns_count 1.5\n# EOF\n"),
            "line 2: summary sample s_count has value 1.5: a summary's count is a non-negative integer");
  EXPECT_EQ(Om("# TYPE s summary\ns_sum NaN\n# EOF\n"),
            "line 2: summary sample s_sum has value nan: a summary's sum is not NaN or negative");
  EXPECT_EQ(Om("# TYPE s summary\ns{quantile=\"0.9\"} 1\ns{quantile=\"0.1\"} 1\n# EOF\n"), "");  // any order
}

// Unit: "If non-empty, it MUST be a suffix of the MetricFamily name separated by an
// underscore"; "MetricFamilies of type StateSets [and Info] MUST have an empty Unit".
TEST(OpenMetricsRulesTest, UnitOnlyWhereTheTypeTakesOneAndAsASuffix) {
  EXPECT_EQ(Om("# TYPE a_seconds counter\n# UNIT a_seconds seconds\na_seconds_total 1\n# EOF\n"), "");
  EXPECT_EQ(Om("# TYPE a counter\n# UNIT a seconds\n# EOF\n"),
            "line 2: unit \"seconds\" is not a suffix of the metric name a");
  EXPECT_EQ(Om("# TYPE i_bytes info\n# UNIT i_bytes bytes\n# EOF\n"),
            "line 2: info i_bytes has unit \"bytes\" (info and stateset metrics have none)");
  EXPECT_EQ(Om("# UNIT s_bytes bytes\n# TYPE s_bytes stateset\n# EOF\n"),
            "line 2: stateset s_bytes has unit \"bytes\" (info and stateset metrics have none)");
  EXPECT_EQ(Om("# TYPE i info\n# UNIT i \n# EOF\n"), "");  // empty: as if there were no UNIT line
}

// "There MUST NOT be more than one of each type of metadata line for a MetricFamily."
TEST(OpenMetricsRulesTest, NoDuplicateMetadataLines) {
  EXPECT_EQ(Om("# TYPE a gauge\n# TYPE a gauge\n# EOF\n"), "line 2: second # TYPE line for a");
  EXPECT_EQ(Om("# HELP a x\n# HELP a y\n# EOF\n"), "line 2: second # HELP line for a");
  EXPECT_EQ(Om("# UNIT a_s s\n# UNIT a_s s\n# EOF\n"), "line 2: second # UNIT line for a_s");
}

// "Each MetricFamily name MUST be unique"; a sample name belongs to one family ("a new
// sample metric name which cannot be part of the previous MetricFamily").
TEST(OpenMetricsRulesTest, NameClashesBetweenFamiliesAndSamples) {
  EXPECT_EQ(Om("# TYPE a counter\na_total 1\n# TYPE a_total gauge\n# EOF\n"),
            "line 3: name clash: metric family a_total is a sample name of counter a");
  EXPECT_EQ(Om("# TYPE h_count gauge\nh_count 1\n# TYPE h histogram\n# EOF\n"),
            "line 3: name clash: h_count is a sample name of histogram h and of family h_count");
  EXPECT_EQ(Om("# TYPE s summary\n# TYPE s_sum gauge\n# EOF\n"),
            "line 2: name clash: metric family s_sum is a sample name of summary s");
  EXPECT_EQ(Om("# TYPE i info\n# TYPE i_info gauge\n# EOF\n"),
            "line 2: name clash: metric family i_info is a sample name of info i");
  // Unrelated families whose names merely share a prefix are fine.
  EXPECT_EQ(Om("# TYPE a counter\na_total 1\n# TYPE a_totals gauge\na_totals 1\n# EOF\n"), "");
}

// ABNF: `labels = "{" [label *(COMMA label)] "}"`, `label = label-name EQ DQUOTE
// escaped-string DQUOTE`; escapes `\n`, `\"`, `\\` (another `BS normal-char` is kept).
TEST(OpenMetricsRulesTest, LabelSetSyntax) {
  EXPECT_EQ(Om("a{} 1\n# EOF\n"), "");
  auto r = ParseOpenMetrics("a{x=\"1\",y=\"q\\\"\\n\\\\\\a\"} 1\n# EOF\n");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(LabelValue((*r)[0].samples[0].labels, "y"), "q\"\n\\\\a");
  EXPECT_EQ(Om("a{x=\"1\",} 1\n# EOF\n"),
            "line 1: trailing comma after label \"x\" (OpenMetrics label sets have none)");
  EXPECT_EQ(Om("a{,} 1\n# EOF\n"), "line 1: invalid label name at \",} 1\"");
  EXPECT_EQ(Om("a{x=\"1\" , y=\"2\"} 1\n# EOF\n"), "line 1: expected ',' or '}' after the value of label \"x\"");
  EXPECT_EQ(Om("a{x=\"1\"y=\"2\"} 1\n# EOF\n"), "line 1: expected ',' or '}' after the value of label \"x\"");
  EXPECT_EQ(Om("a{x=\"1\",,y=\"2\"} 1\n# EOF\n"), "line 1: invalid label name at \",y=\"2\"} 1\"");
  EXPECT_EQ(Om("a{1x=\"1\"} 1\n# EOF\n"), "line 1: invalid label name at \"1x=\"1\"} 1\"");
  EXPECT_EQ(Om("a{x=\"1\"\n# EOF\n"), "line 1: unterminated label set (missing '}')");
  EXPECT_EQ(Om("a{x=\"1\"} 1\n# EOF\n"), "");
}

// "Expositions MUST end with EOF"; nothing after it.
TEST(OpenMetricsRulesTest, EofIsRequired) {
  EXPECT_EQ(Om("a 1\n# EOF"), "");  // 'EOF\n' is a SHOULD
  EXPECT_EQ(Om("a 1\n"), "line 1: the exposition does not end with # EOF (it may be cut short)");
  EXPECT_EQ(Om("a 1\n# EOF\na 2\n"), "line 3: unexpected data after # EOF");
}

// Several MetricPoints of a metric: "foo 17.0 123 / foo 18.0 456" is valid; "MetricPoints
// MUST NOT be interleaved" (so timestamps go forward within a metric).
TEST(OpenMetricsRulesTest, SeveralPointsOfASeriesInTimeOrder) {
  auto r = ParseOpenMetrics("# TYPE foo gauge\nfoo 17.0 123\nfoo 18.0 456\n# EOF\n");
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ((*r)[0].samples.size(), 2u);
  EXPECT_EQ((*r)[0].samples[0].timestamp_ms, 123000);
  EXPECT_EQ((*r)[0].samples[1].timestamp_ms, 456000);
  // The specification's correct example, and its two incorrect ones.
  EXPECT_EQ(Om("# TYPE foo_seconds summary\n# UNIT foo_seconds seconds\n"
               "foo_seconds_count{a=\"bb\"} 0 123\nfoo_seconds_sum{a=\"bb\"} 0 123\n"
               "foo_seconds_count{a=\"bb\"} 0 456\nfoo_seconds_sum{a=\"bb\"} 0 456\n"
               "foo_seconds_count{a=\"ccc\"} 0 123\nfoo_seconds_sum{a=\"ccc\"} 0 123\n"
               "foo_seconds_count{a=\"ccc\"} 0 456\nfoo_seconds_sum{a=\"ccc\"} 0 456\n# EOF\n"),
            "");
  EXPECT_EQ(Om("# TYPE foo_seconds summary\n# UNIT foo_seconds seconds\n"
               "foo_seconds_count{a=\"bb\"} 0 123\nfoo_seconds_count{a=\"ccc\"} 0 123\n"
               "foo_seconds_count{a=\"bb\"} 0 456\nfoo_seconds_count{a=\"ccc\"} 0 456\n# EOF\n"),
            "line 5: metric foo_seconds{a=\"bb\"} continues after line 3 after other metrics (OpenMetrics metrics are "
            "not interleaved)");
  EXPECT_EQ(Om("# TYPE foo_seconds summary\n# UNIT foo_seconds seconds\n"
               "foo_seconds_count{a=\"bb\"} 0 123\nfoo_seconds_count{a=\"bb\"} 0 456\n"
               "foo_seconds_sum{a=\"bb\"} 0 123\nfoo_seconds_sum{a=\"bb\"} 0 456\n# EOF\n"),
            "line 5: the timestamp of foo_seconds_sum goes back in time (line 4 has a later one): a metric's points "
            "come in time order, not interleaved");
  // The same series twice at one time is a duplicate; timestamps on all samples of a
  // metric or on none (as the OpenMetrics reference parser checks).
  EXPECT_EQ(Om("# TYPE g gauge\ng 1 5\ng 2 5\n# EOF\n"), "line 3: duplicate series g{} (first on line 2)");
  EXPECT_EQ(Om("# TYPE g gauge\ng 1 5\ng 2\n# EOF\n"),
            "line 3: metric g{} has samples with and without a timestamp (line 2)");
  EXPECT_EQ(Om("# TYPE g gauge\ng 1\ng 2 5\n# EOF\n"),
            "line 3: metric g{} has samples with and without a timestamp (line 2)");
  EXPECT_EQ(Om("# TYPE c counter\nc_total 1 5\nc_created 1 5\nc_total 2 6\nc_created 1 6\n# EOF\n"), "");
  // Timestamps are compared as written: 0 and 1e-10 are two points (kept as 0 ms).
  EXPECT_EQ(Om("# TYPE g gauge\ng 1 0.0000000000\ng 2 0.0000000001\n# EOF\n"), "");
  // Each point of a histogram is checked on its own.
  EXPECT_EQ(Om("# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1 10\nh_count 1 10\nh_sum 1 10\n"
               "h_bucket{le=\"+Inf\"} 2 20\nh_count 2 20\nh_sum 2 20\n# EOF\n"),
            "");
  EXPECT_EQ(Om("# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1 10\nh_count 1 10\nh_sum 1 10\n"
               "h_bucket{le=\"1\"} 2 20\nh_count 2 20\nh_sum 2 20\n# EOF\n"),
            "line 5: histogram h{} has no +Inf bucket");
}

// Timestamps: `timestamp = realnumber` (seconds, any sign, fractions, exponents);
// one that 64-bit milliseconds cannot hold fails with a clear error.
TEST(OpenMetricsRulesTest, TimestampsOfAnyValidForm) {
  auto r = ParseOpenMetrics("a 1 0\nb 1 -1.5\nc 1 1.7e9\nd 1 1520879607.789\ne 1 9e15\n# EOF\n");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ((*r)[0].samples[0].timestamp_ms, 0);  // an explicit 0 is a timestamp
  EXPECT_EQ((*r)[1].samples[0].timestamp_ms, -1500);
  EXPECT_EQ((*r)[2].samples[0].timestamp_ms, 1700000000000);
  EXPECT_EQ((*r)[3].samples[0].timestamp_ms, 1520879607789);
  EXPECT_EQ((*r)[4].samples[0].timestamp_ms, 9000000000000000000);
  EXPECT_EQ(Om("a 1 1e16\n# EOF\n"),
            "line 1: timestamp 1e16 of a is out of range (64-bit milliseconds reach about 292 million years)");
  EXPECT_EQ(Om("a 1 -1e300\n# EOF\n"),
            "line 1: timestamp -1e300 of a is out of range (64-bit milliseconds reach about 292 million years)");
  EXPECT_EQ(Om("a 1 Inf\n# EOF\n"), "line 1: invalid timestamp \"Inf\" for a (seconds)");
}

// ---- Prometheus text format 0.0.4 ----

// "A histogram must have a bucket with {le="+Inf"}. Its value must be identical to the
// value of x_count. The buckets of a histogram and the quantiles of a summary must appear
// in increasing numerical order of their label values"; buckets are cumulative counts.
TEST(TextFormatRulesTest, HistogramBucketsAndSummaryQuantiles) {
  EXPECT_EQ(Text("# TYPE h histogram\nh_bucket{a=\"x\",le=\"1\"} 1\nh_bucket{a=\"y\",le=\"1\"} 1\n"
                 "h_bucket{le=\"+Inf\",a=\"x\"} 2\nh_bucket{a=\"y\",le=\"+inf\"} 3\nh_count{a=\"x\"} 2\n"
                 "h_count{a=\"y\"} 3\nh_sum{a=\"x\"} 1\n"),
            "");  // metrics may interleave in the text format
  EXPECT_EQ(Text("# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_count 1\n"),
            "line 2: histogram h has no bucket with le=\"+Inf\"");
  EXPECT_EQ(Text("# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_count 3\n"),
            "line 3: histogram h: _count 3 is not the value of its +Inf bucket (2)");
  EXPECT_EQ(Text("# TYPE h histogram\nh_bucket{le=\"2\"} 1\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 1\n"),
            "line 3: bucket le=\"1\" of h is not above the previous one (the text format wants them in increasing "
            "order)");
  EXPECT_EQ(Text("# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\n"),
            "line 3: bucket le=\"+Inf\" of h has 1, less than the previous bucket's 2 (buckets are cumulative)");
  EXPECT_EQ(Text("# TYPE s summary\ns{quantile=\"0.5\"} 1\ns{quantile=\"0.9\"} 2\ns_count 3\n"), "");
  EXPECT_EQ(Text("# TYPE s summary\ns{quantile=\"0.9\"} 1\ns{quantile=\"0.5\"} 2\n"),
            "line 3: quantile \"0.5\" of s is not above the previous one (the text format wants them in increasing "
            "order)");
  EXPECT_EQ(Text("# TYPE s summary\ns{quantile=\"2\"} 1\n"), "line 2: quantile \"2\" of s is not between 0 and 1");
}

// "Only one HELP line may exist for any given metric name"; "Only one TYPE line".
TEST(TextFormatRulesTest, NoDuplicateMetadataLines) {
  EXPECT_EQ(Text("# HELP a x\n# HELP a y\na 1\n"), "line 2: second # HELP line for a");
  EXPECT_EQ(Text("# TYPE a gauge\n# TYPE a gauge\n"), "line 2: second # TYPE line for a");
}

// The text format's grammar allows a trailing comma and blanks between tokens.
TEST(TextFormatRulesTest, LabelSetSyntax) {
  EXPECT_EQ(Text("a{x=\"1\",} 1\nb { y = \"2\" , z=\"3\" } 2\nc{} 3\n"), "");
  EXPECT_EQ(Text("a{,} 1\n"), "line 1: invalid label name at \",} 1\"");
  EXPECT_EQ(Text("a{x=\"1\" y=\"2\"} 1\n"), "line 1: expected ',' or '}' after the value of label \"x\"");
}

// Timestamps are int64 milliseconds; an explicit 0 is one; samples of a series with
// different timestamps are several points, with the same timestamp a duplicate.
TEST(TextFormatRulesTest, TimestampsAndSeveralPoints) {
  auto r = Parse("a 1 0\nb 1 -5\nc 1 +7\nd 1 9223372036854775807\ne 1 1000\ne 2 2000\n");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ((*r)[0].samples[0].timestamp_ms, 0);
  EXPECT_EQ((*r)[1].samples[0].timestamp_ms, -5);
  EXPECT_EQ((*r)[2].samples[0].timestamp_ms, 7);
  EXPECT_EQ((*r)[3].samples[0].timestamp_ms, INT64_MAX);
  ASSERT_EQ((*r)[4].samples.size(), 2u);
  EXPECT_EQ(Text("a 1 9223372036854775808\n"),
            "line 1: timestamp 9223372036854775808 of a is out of range (64-bit integer milliseconds)");
  EXPECT_EQ(Text("a 1 1.5\n"), "line 1: invalid timestamp \"1.5\" for a (integer milliseconds)");
  EXPECT_EQ(Text("a 1 5\na 2 5\n"), "line 2: duplicate series a");
  EXPECT_EQ(Text("a 1\na 2\n"), "line 2: duplicate series a");
  // A histogram's points, each checked on its own.
  EXPECT_EQ(Text("# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1 10\nh_count 1 10\nh_bucket{le=\"+Inf\"} 2 20\n"
                 "h_count 2 20\n"),
            "");
}

}  // namespace
}  // namespace outrigger::receivers::prometheus
