// Parse (the Prometheus text format 0.0.4) and its errors.
#include "receivers/prometheus/parser.h"

#include <gtest/gtest.h>

#include <cmath>

namespace outrigger::receivers::prometheus {
namespace {

std::string ErrorOf(std::string_view text) {
  auto r = Parse(text);
  return r.ok() ? "" : std::string(r.status().message());
}

TEST(PrometheusParserTest, FamiliesTypesHelpAndSamples) {
  auto r = Parse(
      "# HELP http_requests_total The total.\\nSecond \\\\ line\n"
      "# TYPE http_requests_total counter\n"
      "http_requests_total{method=\"post\",code=\"200\"} 1027 1395066363000\n"
      "http_requests_total{method=\"post\",code=\"400\"}    3   1395066363000\n"
      "\n"
      "# A plain comment\n"
      "#\n"
      "temperature -12.5\n"
      "# TYPE queue gauge\n"
      "queue{q=\"a\",} 7\n"
      "metric_without_timestamp_and_labels 12.47\r\n");
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->size(), 4u);
  const Family& c = (*r)[0];
  EXPECT_EQ(c.name, "http_requests_total");
  EXPECT_EQ(c.type, MetricType::kCounter);
  EXPECT_EQ(c.help, "The total.\nSecond \\ line");
  ASSERT_EQ(c.samples.size(), 2u);
  EXPECT_EQ(c.samples[0].value, 1027);
  EXPECT_EQ(c.samples[0].timestamp_ms, 1395066363000);
  EXPECT_EQ(c.samples[0].line, 3);
  EXPECT_EQ(LabelValue(c.samples[1].labels, "code"), "400");
  EXPECT_EQ((*r)[1].name, "temperature");
  EXPECT_EQ((*r)[1].type, MetricType::kUntyped);  // no TYPE line
  EXPECT_EQ((*r)[1].samples[0].value, -12.5);
  EXPECT_FALSE((*r)[1].samples[0].timestamp_ms.has_value());
  EXPECT_EQ((*r)[2].type, MetricType::kGauge);
  EXPECT_EQ(LabelValue((*r)[2].samples[0].labels, "q"), "a");  // trailing comma
  EXPECT_EQ((*r)[3].samples[0].value, 12.47);
}

TEST(PrometheusParserTest, LabelEscapes) {
  auto r = Parse("m{path=\"C:\\\\dir\\\\\",quote=\"say \\\"hi\\\"\",nl=\"a\\nb\",other=\"\\t\",brace=\"}{,=\"} 1\n");
  ASSERT_TRUE(r.ok()) << r.status();
  const Labels& l = (*r)[0].samples[0].labels;
  EXPECT_EQ(LabelValue(l, "path"), "C:\\dir\\");
  EXPECT_EQ(LabelValue(l, "quote"), "say \"hi\"");
  EXPECT_EQ(LabelValue(l, "nl"), "a\nb");
  EXPECT_EQ(LabelValue(l, "other"), "\\t");  // unknown escapes stay as they are
  EXPECT_EQ(LabelValue(l, "brace"), "}{,=");
}

TEST(PrometheusParserTest, SpecialValues) {
  auto r = Parse("a NaN\nb +Inf\nc -Inf\nd inf\ne 1e3\nf -0.5e-2\ng +7\nh 0x10\n");
  // 0x10 is not a Prometheus number.
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "line 8: invalid value \"0x10\" for h");
  r = Parse("a NaN\nb +Inf\nc -Inf\nd inf\ne 1e3\nf -0.5e-2\ng +7\n");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(std::isnan((*r)[0].samples[0].value));
  EXPECT_EQ((*r)[1].samples[0].value, INFINITY);
  EXPECT_EQ((*r)[2].samples[0].value, -INFINITY);
  EXPECT_EQ((*r)[3].samples[0].value, INFINITY);
  EXPECT_EQ((*r)[4].samples[0].value, 1000);
  EXPECT_EQ((*r)[5].samples[0].value, -0.005);
  EXPECT_EQ((*r)[6].samples[0].value, 7);
}

TEST(PrometheusParserTest, HistogramAndSummaryGrouping) {
  auto r = Parse(
      "# TYPE latency histogram\n"
      "latency_bucket{le=\"0.1\"} 1\n"
      "latency_bucket{le=\"1\"} 3\n"
      "latency_bucket{le=\"+Inf\"} 4\n"
      "latency_sum 2.5\n"
      "latency_count 4\n"
      "# TYPE rpc summary\n"
      "rpc{quantile=\"0.5\"} 0.2\n"
      "rpc{quantile=\"0.99\"} 0.9\n"
      "rpc_sum 10\n"
      "rpc_count 30\n"
      "other_count 3\n");
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ((*r)[0].name, "latency");
  EXPECT_EQ((*r)[0].type, MetricType::kHistogram);
  EXPECT_EQ((*r)[0].samples.size(), 5u);
  EXPECT_EQ((*r)[1].name, "rpc");
  EXPECT_EQ((*r)[1].samples.size(), 4u);
  EXPECT_EQ((*r)[2].name, "other_count");  // no TYPE: its own untyped family
  EXPECT_EQ((*r)[2].type, MetricType::kUntyped);
}

TEST(PrometheusParserTest, CounterFamilyWithTotalSamples) {
  auto r = Parse("# TYPE jobs counter\njobs_total{q=\"a\"} 3\n# TYPE other counter\nother 1\nother_total 2\n");
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].name, "jobs");
  EXPECT_EQ((*r)[0].type, MetricType::kCounter);
  EXPECT_EQ((*r)[0].samples[0].name, "jobs_total");
  EXPECT_EQ((*r)[1].samples.size(), 2u);
}

TEST(PrometheusParserTest, ErrorsNameTheLine) {
  EXPECT_EQ(ErrorOf("ok 1\nm{a=\"1\"} 1\nm{a=\"1\"} 2\n"), "line 3: duplicate series m");
  EXPECT_EQ(ErrorOf("m{b=\"1\",a=\"2\"} 1\nm{a=\"2\",b=\"1\"} 2\n"), "line 2: duplicate series m");
  EXPECT_EQ(ErrorOf("m 1\nm{a=\"x} 1\n"), "line 2: unterminated value of label \"a\"");
  EXPECT_EQ(ErrorOf("m{a=\"x\"\n"), "line 1: unterminated label set (missing '}')");
  // Label values must be UTF-8, as Prometheus requires (with or without escapes).
  EXPECT_EQ(ErrorOf("m{a=\"caf\xe9\"} 1\n"), "line 1: the value of label \"a\" is not valid UTF-8");
  EXPECT_EQ(ErrorOf("m{a=\"x\\n\xff\"} 1\n"), "line 1: the value of label \"a\" is not valid UTF-8");
  EXPECT_TRUE(Parse("m{a=\"caf\xc3\xa9\"} 1\n").ok());
  EXPECT_EQ(ErrorOf("m{a=\"x\" b=\"y\"} 1\n"), "line 1: expected ',' or '}' after the value of label \"a\"");
  EXPECT_EQ(ErrorOf("m\n"), "line 1: missing value for m");
  EXPECT_EQ(ErrorOf("m{a=\"1\"}"), "line 1: missing value for m");
  EXPECT_EQ(ErrorOf("m 1.2.3\n"), "line 1: invalid value \"1.2.3\" for m");
  EXPECT_EQ(ErrorOf("m abc\n"), "line 1: invalid value \"abc\" for m");
  EXPECT_EQ(ErrorOf("m 1 12.5\n"), "line 1: invalid timestamp \"12.5\" for m (integer milliseconds)");
  EXPECT_EQ(ErrorOf("m 1 12 extra\n"), "line 1: unexpected text after the timestamp: \"extra\"");
  EXPECT_EQ(ErrorOf("1m 1\n"), "line 1: invalid metric name at \"1m 1\"");
  EXPECT_EQ(ErrorOf("m{1a=\"1\"} 1\n"), "line 1: invalid label name at \"1a=\"1\"} 1\"");
  EXPECT_EQ(ErrorOf("m{a=1} 1\n"), "line 1: expected '\"' to open the value of label \"a\"");
  EXPECT_EQ(ErrorOf("m{a=\"1\",a=\"2\"} 1\n"), "line 1: label \"a\" appears twice");
  EXPECT_EQ(ErrorOf("# TYPE m countr\n"),
            "line 1: unknown metric type \"countr\" for m (counter, gauge, histogram, summary or untyped)");
  EXPECT_EQ(ErrorOf("# TYPE m counter\n# TYPE m gauge\n"), "line 2: second # TYPE line for m");
  EXPECT_EQ(ErrorOf("m 1\n# TYPE m gauge\n"), "line 2: # TYPE for m after its samples");
  EXPECT_EQ(ErrorOf("# TYPE h histogram\nh_bucket 1\n"),
            "line 2: histogram bucket h_bucket needs a numeric \"le\" label");
  EXPECT_EQ(ErrorOf("# TYPE h histogram\nh_bucket{le=\"x\"} 1\n"),
            "line 2: histogram bucket h_bucket needs a numeric \"le\" label");
  EXPECT_EQ(ErrorOf("# TYPE h histogram\nh 1\n"), "line 2: histogram h has a sample without _bucket, _sum or _count");
  EXPECT_EQ(ErrorOf("# TYPE s summary\ns 1\n"), "line 2: summary s needs a numeric \"quantile\" label");
  EXPECT_EQ(ErrorOf("# TYPE\n"), "line 1: # TYPE needs a valid metric name");
}

TEST(PrometheusParserTest, EmptyAndCommentsOnly) {
  auto r = Parse("");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->empty());
  r = Parse("# only\n\n   \n# HELP\n");
  // "# HELP" without a name is an error.
  EXPECT_FALSE(r.ok());
  r = Parse("# only\n\n   \n");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->empty());
}

}  // namespace
}  // namespace outrigger::receivers::prometheus
