// ParseOpenMetrics (OpenMetrics 1.0) and its errors.
#include "receivers/prometheus/parser.h"

#include <gtest/gtest.h>

namespace outrigger::receivers::prometheus {
namespace {

using namespace std::string_literals;

std::string OmErrorOf(std::string_view text) {
  auto r = ParseOpenMetrics(text);
  return r.ok() ? "" : std::string(r.status().message());
}

TEST(OpenMetricsParserTest, EveryTypeWithMetadata) {
  auto r = ParseOpenMetrics(
      "# TYPE acme_seconds summary\n"
      "# UNIT acme_seconds seconds\n"
      "# HELP acme_seconds Latency \\\"quoted\\\" \\\\ and\\nnewline, \\x kept.\n"
      "acme_seconds_sum{path=\"/api\"} 9036.32\n"
      "acme_seconds_count{path=\"/api\"} 807283.0\n"
      "acme_seconds_created{path=\"/api\"} 1605281325.0\n"
      "acme_seconds{path=\"/api\",quantile=\"0.5\"} 0.2\n"
      "# TYPE reqs counter\n"
      "reqs_total{code=\"200\"} 17.0 1520879607.789 # {trace_id=\"KOO5S4vxi0o\"} 0.67\n"
      "reqs_created{code=\"200\"} 1520430000.123 1520879607.789\n"
      "# TYPE temp gauge\n"
      "temp 17.0 -1.5\n"
      "# TYPE lat histogram\n"
      "lat_bucket{le=\"0.1\"} 8 # {} 0.054\n"
      "lat_bucket{le=\"1\"} 11 # {trace_id=\"abc\"} 0.67 1520879607.5\n"
      "lat_bucket{le=\"+Inf\"} 17\n"
      "lat_count 17\n"
      "lat_sum 324789.3\n"
      "lat_created 1520430000.123\n"
      "# TYPE queue gaugehistogram\n"
      "queue_bucket{le=\"+Inf\"} 42\n"
      "queue_gcount 42\n"
      "queue_gsum 3289.3\n"
      "# TYPE build info\n"
      "build_info{version=\"8.2.7\"} 1\n"
      "# TYPE state stateset\n"
      "state{entity=\"a\",state=\"on\"} 1\n"
      "state{entity=\"a\",state=\"off\"} 0\n"
      "# TYPE mystery unknown\n"
      "mystery 42.23\n"
      "# EOF\n");
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->size(), 8u);
  const Family& s = (*r)[0];
  EXPECT_EQ(s.type, MetricType::kSummary);
  EXPECT_EQ(s.unit, "seconds");
  EXPECT_EQ(s.help, "Latency \"quoted\" \\ and\nnewline, \\x kept.");
  ASSERT_EQ(s.samples.size(), 4u);
  EXPECT_EQ(s.samples[2].name, "acme_seconds_created");
  EXPECT_EQ(s.samples[2].value, 1605281325.0);
  const Family& c = (*r)[1];
  EXPECT_EQ(c.name, "reqs");
  EXPECT_EQ(c.type, MetricType::kCounter);
  ASSERT_EQ(c.samples.size(), 2u);
  EXPECT_EQ(c.samples[0].timestamp_ms, 1520879607789);  // seconds in OpenMetrics
  ASSERT_TRUE(c.samples[0].exemplar.has_value());
  EXPECT_EQ(c.samples[0].exemplar->value, 0.67);
  EXPECT_EQ(LabelValue(c.samples[0].exemplar->labels, "trace_id"), "KOO5S4vxi0o");
  EXPECT_FALSE(c.samples[0].exemplar->timestamp_s.has_value());
  EXPECT_FALSE(c.samples[1].exemplar.has_value());
  EXPECT_EQ((*r)[2].samples[0].timestamp_ms, -1500);  // negative timestamps are allowed
  const Family& h = (*r)[3];
  EXPECT_EQ(h.type, MetricType::kHistogram);
  ASSERT_EQ(h.samples.size(), 6u);
  ASSERT_TRUE(h.samples[0].exemplar.has_value());
  EXPECT_TRUE(h.samples[0].exemplar->labels.empty());
  EXPECT_EQ(h.samples[1].exemplar->timestamp_s, 1520879607.5);
  EXPECT_EQ((*r)[4].type, MetricType::kGaugeHistogram);
  EXPECT_EQ((*r)[4].samples.size(), 3u);
  EXPECT_EQ((*r)[5].type, MetricType::kInfo);
  EXPECT_EQ((*r)[5].samples[0].name, "build_info");
  EXPECT_EQ((*r)[6].type, MetricType::kStateSet);
  EXPECT_EQ((*r)[6].samples.size(), 2u);
  EXPECT_EQ((*r)[7].type, MetricType::kUntyped);
}

TEST(OpenMetricsParserTest, FamiliesWithoutMetadataAndEof) {
  auto r = ParseOpenMetrics("# EOF");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->empty());
  // Samples without TYPE are unknown families named as the sample; empty UNIT and HELP
  // are allowed; a family may have no samples.
  r = ParseOpenMetrics("# HELP a \n# UNIT a \nfoo_total 1\nfoo_total{x=\"y\"} 2\nbar{} 3\n# TYPE empty gauge\n# EOF\n");
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->size(), 4u);
  EXPECT_EQ((*r)[1].name, "foo_total");
  EXPECT_EQ((*r)[1].type, MetricType::kUntyped);
  EXPECT_EQ((*r)[1].samples.size(), 2u);
  EXPECT_TRUE((*r)[3].samples.empty());
  // Labels in any order within a metric; escapes; NUL and UTF-8 in values.
  r = ParseOpenMetrics(
      "# TYPE h histogram\nh_bucket{le=\"1\",a=\"x\"} 1\nh_bucket{a=\"x\",le=\"+Inf\"} 2\n"
      "m{v=\"q\\\"\\\\\\n\\t\",u=\"h\xc3\xa9\",z=\"a\0b\"} 1\n# EOF\n"s);
  ASSERT_TRUE(r.ok()) << r.status();
  const Labels& l = (*r)[1].samples[0].labels;
  EXPECT_EQ(LabelValue(l, "v"), "q\"\\\n\\t");
  EXPECT_EQ(LabelValue(l, "u"), "h\xc3\xa9");
  EXPECT_EQ(LabelValue(l, "z"), std::string("a\0b", 3));
}

TEST(OpenMetricsParserTest, ErrorsNameTheLine) {
  // EOF
  EXPECT_EQ(OmErrorOf(""), "line 0: the exposition does not end with # EOF (it may be cut short)");
  EXPECT_EQ(OmErrorOf("a 1\n"), "line 1: the exposition does not end with # EOF (it may be cut short)");
  EXPECT_EQ(OmErrorOf("a 1\n# EOF\nb 2\n"), "line 3: unexpected data after # EOF");
  EXPECT_EQ(OmErrorOf("# EOF\n\n"), "line 2: unexpected data after # EOF");
  // Lines
  EXPECT_EQ(OmErrorOf("a 1\n\n# EOF\n"), "line 2: empty line (OpenMetrics has none)");
  EXPECT_EQ(OmErrorOf("a 1\r\n# EOF\n"),
            "line 1: carriage return at the end of the line (OpenMetrics lines end with \\n)");
  EXPECT_EQ(OmErrorOf("# a comment\n# EOF\n"),
            "line 1: unexpected comment \"# a comment\" (OpenMetrics allows only # TYPE, # HELP, # UNIT and # EOF)");
  EXPECT_EQ(
      OmErrorOf("#  TYPE c counter\n# EOF\n"),
      "line 1: unexpected comment \"#  TYPE c counter\" (OpenMetrics allows only # TYPE, # HELP, # UNIT and # EOF)");
  EXPECT_EQ(OmErrorOf(" a 1\n# EOF\n"), "line 1: invalid metric name at \" a 1\"");
  EXPECT_EQ(OmErrorOf("a\t1\n# EOF\n"), "line 1: expected a space before the value of a");
  EXPECT_EQ(OmErrorOf("a  1\n# EOF\n"), "line 1: invalid value \"\" for a");
  EXPECT_EQ(OmErrorOf("a 1 \n# EOF\n"), "line 1: trailing space after the value of a");
  EXPECT_EQ(OmErrorOf("a 1 2 \n# EOF\n"), "line 1: trailing space after the timestamp of a");
  EXPECT_EQ(OmErrorOf("a 1 2 3\n# EOF\n"), "line 1: unexpected text after the timestamp of a: \"3\"");
  EXPECT_EQ(OmErrorOf("a 1_2\n# EOF\n"), "line 1: invalid value \"1_2\" for a");
  EXPECT_EQ(OmErrorOf("a 0x1p-3\n# EOF\n"), "line 1: invalid value \"0x1p-3\" for a");
  // Timestamps: float seconds, finite.
  EXPECT_EQ(OmErrorOf("a 1 NaN\n# EOF\n"), "line 1: invalid timestamp \"NaN\" for a (seconds)");
  EXPECT_EQ(OmErrorOf("a 1 +Inf\n# EOF\n"), "line 1: invalid timestamp \"+Inf\" for a (seconds)");
  EXPECT_EQ(OmErrorOf("a 1 1z\n# EOF\n"), "line 1: invalid timestamp \"1z\" for a (seconds)");
  // Labels
  EXPECT_EQ(OmErrorOf("a{b='c'} 1\n# EOF\n"), "line 1: expected '\"' to open the value of label \"b\"");
  EXPECT_EQ(OmErrorOf("a{b=\"c\", d=\"e\"} 1\n# EOF\n"), "line 1: invalid label name at \" d=\"e\"} 1\"");
  EXPECT_EQ(OmErrorOf("a{,b=\"c\"} 1\n# EOF\n"), "line 1: invalid label name at \",b=\"c\"} 1\"");
  EXPECT_EQ(OmErrorOf("a{b=\"c\"d=\"e\"} 1\n# EOF\n"), "line 1: expected ',' or '}' after the value of label \"b\"");
  EXPECT_EQ(OmErrorOf("a{b=\"\xff\"} 1\n# EOF\n"), "line 1: the value of label \"b\" is not valid UTF-8");
  EXPECT_EQ(OmErrorOf("a{b=\"\\\xff\"} 1\n# EOF\n"), "line 1: the value of label \"b\" is not valid UTF-8");
  EXPECT_EQ(OmErrorOf("a{b=\"c\\\"} 1\n# EOF\n"), "line 1: unterminated value of label \"b\"");
  EXPECT_EQ(OmErrorOf("a{b=\"1\",b=\"2\"} 1\n# EOF\n"), "line 1: label \"b\" appears twice");
  // Metadata
  EXPECT_EQ(OmErrorOf("# TYPE u untyped\n# EOF\n"),
            "line 1: unknown metric type \"untyped\" for u (counter, gauge, histogram, gaugehistogram, summary, info, "
            "stateset or unknown)");
  EXPECT_EQ(OmErrorOf("# TYPE c counter \n# EOF\n"),
            "line 1: unknown metric type \"counter \" for c (counter, gauge, histogram, gaugehistogram, summary, info, "
            "stateset or unknown)");
  EXPECT_EQ(OmErrorOf("# TYPE \n# EOF\n"), "line 1: # TYPE needs a valid metric name");
  EXPECT_EQ(OmErrorOf("# HELP m\n# EOF\n"), "line 1: # HELP m needs a space and a value after the name");
  EXPECT_EQ(OmErrorOf("# UNIT m_seconds seconds\n# UNIT m_seconds seconds\n# EOF\n"),
            "line 2: second # UNIT line for m_seconds");
  EXPECT_EQ(OmErrorOf("# UNIT metric suffix\n# EOF\n"),
            "line 1: unit \"suffix\" is not a suffix of the metric name metric");
  EXPECT_EQ(OmErrorOf("# UNIT metricsuffix suffix\n# EOF\n"),
            "line 1: unit \"suffix\" is not a suffix of the metric name metricsuffix");
  EXPECT_EQ(OmErrorOf("# TYPE m gauge\n# TYPE m gauge\n# EOF\n"), "line 2: second # TYPE line for m");
  EXPECT_EQ(OmErrorOf("# TYPE m gauge\nm 1\n# HELP m late\n# EOF\n"), "line 3: # HELP for m after its samples");
  // Families are unique and not interleaved.
  EXPECT_EQ(OmErrorOf("# TYPE a gauge\na 1\n# TYPE b gauge\nb 1\n# TYPE a gauge\n# EOF\n"),
            "line 5: metric family a appears a second time (OpenMetrics families are not interleaved or repeated)");
  EXPECT_EQ(OmErrorOf("a 1\nb 1\na{x=\"y\"} 1\n# EOF\n"),
            "line 3: metric family of a appears a second time (OpenMetrics families are not interleaved or repeated)");
  EXPECT_EQ(OmErrorOf("# TYPE c counter\nc_total 1\nother 1\nc_total{x=\"y\"} 1\n# EOF\n"),
            "line 4: metric family of c_total appears a second time (OpenMetrics families are not interleaved or "
            "repeated)");
  EXPECT_EQ(OmErrorOf("# TYPE c counter\nc 1\n# EOF\n"),
            "line 2: sample c of counter c lacks the suffix its type requires (e.g. _total, _bucket, _info)");
  // ... nor are metrics, and series are unique.
  EXPECT_EQ(OmErrorOf("# TYPE s summary\ns_count{a=\"bb\"} 0\ns_count{a=\"ccc\"} 0\ns_sum{a=\"bb\"} 0\n# EOF\n"),
            "line 4: metric s{a=\"bb\"} continues after line 2 after other metrics (OpenMetrics metrics are not "
            "interleaved)");
  EXPECT_EQ(OmErrorOf("# TYPE g gauge\ng{a=\"1\"} 1\ng{a=\"1\"} 2\n# EOF\n"),
            "line 3: duplicate series g{a=\"1\"} (first on line 2)");
  EXPECT_EQ(
      OmErrorOf("# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"1.0\"} 1\nh_bucket{le=\"+Inf\"} 1\n# EOF\n"),
      "line 3: bucket le=\"1.0\" of h is not above the previous one (OpenMetrics: buckets in increasing order of le, "
      "each threshold once)");  // thresholds are numbers: "Bucket thresholds within a MetricPoint MUST be unique"
  EXPECT_EQ(OmErrorOf("# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"1\"} 1\n# EOF\n"),
            "line 3: duplicate series h_bucket{le=\"1\"} (first on line 2)");
  // Histograms need a +Inf bucket per metric.
  EXPECT_EQ(
      OmErrorOf(
          "# TYPE h histogram\nh_bucket{a=\"x\",le=\"1\"} 1\nh_count{a=\"x\"} 1\nh_bucket{a=\"y\",le=\"+Inf\"} 1\n"
          "# EOF\n"),
      "line 2: histogram h{a=\"x\"} has no +Inf bucket");
  EXPECT_EQ(OmErrorOf("# TYPE h gaugehistogram\nh_gcount 1\n# EOF\n"), "line 2: gaugehistogram h{} has no +Inf bucket");
  EXPECT_EQ(OmErrorOf("# TYPE h histogram\nh_bucket{le=\"x\"} 1\n# EOF\n"),
            "line 2: histogram bucket h_bucket needs a numeric \"le\" label");
  EXPECT_EQ(OmErrorOf("# TYPE s summary\ns 1\n# EOF\n"), "line 2: summary s needs a numeric \"quantile\" label");
  EXPECT_EQ(OmErrorOf("# TYPE s stateset\ns{x=\"a\"} 1\n# EOF\n"),
            "line 2: stateset s needs a \"s\" label with the state");
}

TEST(OpenMetricsParserTest, Exemplars) {
  // The 128-character limit counts label names and values, in code points.
  std::string id(125, 'a');
  EXPECT_EQ(OmErrorOf("# TYPE c counter\nc_total 1 # {id=\"" + id + "\"} 1\n# EOF\n"), "");
  EXPECT_EQ(OmErrorOf("# TYPE c counter\nc_total 1 # {id=\"" + id + "\xc3\xa9\"} 1\n# EOF\n"),
            "");  // 128 code points, 129 bytes
  EXPECT_EQ(OmErrorOf("# TYPE c counter\nc_total 1 # {id=\"" + id + "ab\"} 1\n# EOF\n"),
            "line 2: exemplar labels of c_total have 129 characters; OpenMetrics allows at most 128");
  EXPECT_EQ(OmErrorOf("c_total 1 # {aa=\"bb\"}\n# EOF\n"), "line 1: exemplar of c_total needs a value");
  EXPECT_EQ(OmErrorOf("c_total 1 # {aa=bb} 1\n# EOF\n"),
            "line 1: exemplar: expected '\"' to open the value of label \"aa\"");
  EXPECT_EQ(OmErrorOf("c_total 1 # {bb} 1\n# EOF\n"), "line 1: exemplar: expected '=' after label name \"bb\"");
  EXPECT_EQ(OmErrorOf("c_total 1 # {aa=\"bb\"} true\n# EOF\n"), "line 1: invalid exemplar value \"true\" for c_total");
  EXPECT_EQ(OmErrorOf("c_total 1 # {aa=\"bb\"} 1 NaN\n# EOF\n"),
            "line 1: invalid exemplar timestamp \"NaN\" for c_total");
  EXPECT_EQ(OmErrorOf("c_total 1 # {aa=\"bb\"} 1 2 3\n# EOF\n"),
            "line 1: invalid exemplar timestamp \"2 3\" for c_total");
  EXPECT_EQ(OmErrorOf("c_total 1 #{aa=\"bb\"} 1\n# EOF\n"),
            "line 1: unexpected text after the value of c_total: \"#{aa=\"bb\"} 1\"");
  auto r = ParseOpenMetrics("# TYPE c counter\nc_total 1 2.5 # {span_id=\"x\"} -3 4.25\n# EOF\n");
  ASSERT_TRUE(r.ok()) << r.status();
  const Sample& s = (*r)[0].samples[0];
  EXPECT_EQ(s.timestamp_ms, 2500);
  ASSERT_TRUE(s.exemplar.has_value());
  EXPECT_EQ(s.exemplar->value, -3);
  EXPECT_EQ(s.exemplar->timestamp_s, 4.25);
}

}  // namespace
}  // namespace outrigger::receivers::prometheus
