// What parser.cc has besides the two parsers: FormatOf, the dispatching Parse, OtelUnit.
#include "receivers/prometheus/parser.h"

#include <gtest/gtest.h>

namespace outrigger::receivers::prometheus {
namespace {

TEST(OpenMetricsParserTest, FormatAndUnits) {
  EXPECT_EQ(FormatOf("application/openmetrics-text; version=1.0.0; charset=utf-8"), Format::kOpenMetricsText);
  EXPECT_EQ(FormatOf("Application/OpenMetrics-Text;version=0.0.1"), Format::kOpenMetricsText);
  EXPECT_EQ(FormatOf("text/plain; version=0.0.4; charset=utf-8"), Format::kPrometheusText);
  EXPECT_EQ(FormatOf(""), Format::kPrometheusText);
  EXPECT_EQ(FormatOf("application/json"), Format::kPrometheusText);
  // The 0.0.4 parser does not take OpenMetrics-only syntax; the dispatcher picks.
  EXPECT_FALSE(Parse("# TYPE c counter\nc_total 1 # {a=\"b\"} 1\n# EOF\n", Format::kPrometheusText).ok());
  EXPECT_TRUE(Parse("# TYPE c counter\nc_total 1 # {a=\"b\"} 1\n# EOF\n", Format::kOpenMetricsText).ok());
  EXPECT_EQ(OtelUnit("seconds"), "s");
  EXPECT_EQ(OtelUnit("bytes"), "By");
  EXPECT_EQ(OtelUnit("ratio"), "1");
  EXPECT_EQ(OtelUnit("bytes_per_second"), "By/s");
  EXPECT_EQ(OtelUnit("requests_per_minute"), "requests/min");
  EXPECT_EQ(OtelUnit("widgets"), "widgets");
}

}  // namespace
}  // namespace outrigger::receivers::prometheus
