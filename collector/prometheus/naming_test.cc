// OTLP -> Prometheus names (collector/prometheus/naming.h).
#include "collector/prometheus/naming.h"

#include <gtest/gtest.h>

namespace outrigger::prom {
namespace {

// ---- Naming ------------------------------------------------------------------------

TEST(PrometheusNaming, MetricNamesFollowTheSpecification) {
  auto name = [](std::string_view n, std::string_view unit, NameKind k, std::string_view ns = "",
                 bool suffixes = true) { return MetricName(n, unit, k, ns, suffixes); };
  EXPECT_EQ(name("http.server.duration", "ms", NameKind::kOther), "http_server_duration_milliseconds");
  EXPECT_EQ(name("http.server.duration", "s", NameKind::kOther), "http_server_duration_seconds");
  EXPECT_EQ(name("rpc.duration_seconds", "s", NameKind::kOther), "rpc_duration_seconds");  // already there
  EXPECT_EQ(name("system.memory.usage", "By", NameKind::kGauge), "system_memory_usage_bytes");
  EXPECT_EQ(name("cpu.utilization", "1", NameKind::kGauge), "cpu_utilization_ratio");
  EXPECT_EQ(name("cpu.utilization_ratio", "1", NameKind::kGauge), "cpu_utilization_ratio");
  EXPECT_EQ(name("queue.fill", "1", NameKind::kOther), "queue_fill");  // _ratio only for gauges
  EXPECT_EQ(name("http.requests", "{request}", NameKind::kCounter), "http_requests_total");
  EXPECT_EQ(name("http.requests.total", "", NameKind::kCounter), "http_requests_total");
  EXPECT_EQ(name("net.io", "By", NameKind::kCounter), "net_io_bytes_total");
  EXPECT_EQ(name("net.io_bytes_total", "By", NameKind::kCounter), "net_io_bytes_total");
  EXPECT_EQ(name("throughput", "By/s", NameKind::kGauge), "throughput_bytes_per_second");
  EXPECT_EQ(name("rate", "{packet}/s", NameKind::kGauge), "rate_per_second");
  EXPECT_EQ(name("temp", "Cel", NameKind::kGauge), "temp_celsius");
  EXPECT_EQ(name("widgets", "widget", NameKind::kGauge), "widgets_widget");  // unknown unit: as is
  EXPECT_EQ(name("5xx.errors", "", NameKind::kGauge), "_5xx_errors");
  EXPECT_EQ(name("héllo wörld!!", "", NameKind::kGauge), "h_llo_w_rld_");
  EXPECT_EQ(name("a..b", "", NameKind::kGauge), "a_b");
  EXPECT_EQ(name("job:rate", "", NameKind::kGauge), "job:rate");
  EXPECT_EQ(name("requests", "ms", NameKind::kCounter, "app"), "app_requests_milliseconds_total");
  EXPECT_EQ(name("5xx", "", NameKind::kGauge, "app"), "app_5xx");
  // Without suffixes: only sanitized (and the namespace).
  EXPECT_EQ(name("http.requests", "ms", NameKind::kCounter, "", false), "http_requests");
  EXPECT_EQ(name("cpu.utilization", "1", NameKind::kGauge, "ns", false), "ns_cpu_utilization");
}

TEST(PrometheusNaming, UnitsAndLabels) {
  EXPECT_EQ(UnitSuffix("ms"), "milliseconds");
  EXPECT_EQ(UnitSuffix("us"), "microseconds");
  EXPECT_EQ(UnitSuffix("KiBy"), "kibibytes");
  EXPECT_EQ(UnitSuffix("m/s"), "meters_per_second");
  EXPECT_EQ(UnitSuffix("1/s"), "per_second");
  EXPECT_EQ(UnitSuffix("{thing}"), "");
  EXPECT_EQ(UnitSuffix("1"), "");
  EXPECT_EQ(UnitSuffix("%"), "percent");
  EXPECT_EQ(UnitSuffix(" s "), "seconds");
  EXPECT_EQ(SanitizeLabelName("http.method"), "http_method");
  EXPECT_EQ(SanitizeLabelName("0day"), "key_0day");
  EXPECT_EQ(SanitizeLabelName("_private"), "key_private");
  EXPECT_EQ(SanitizeLabelName("__meta"), "key__meta");
  EXPECT_EQ(SanitizeLabelName("ok_label"), "ok_label");
  EXPECT_EQ(SanitizeLabelName(""), "");
}

TEST(PrometheusNaming, Utf8NamesAsOtlpTranslator) {
  auto name = [](std::string_view n, std::string_view unit, NameKind k, std::string_view ns = "") {
    return Utf8MetricName(n, unit, k, ns, true);
  };
  EXPECT_EQ(name("http.server.duration", "s", NameKind::kOther), "http.server.duration_seconds");
  EXPECT_EQ(name("http.requests", "{request}", NameKind::kCounter), "http.requests_total");
  EXPECT_EQ(name("http.requests_total", "", NameKind::kCounter), "http.requests_total");
  EXPECT_EQ(name("cpu.utilization", "1", NameKind::kGauge), "cpu.utilization_ratio");
  EXPECT_EQ(name("net.io", "By/s", NameKind::kCounter), "net.io_bytes_per_second_total");
  EXPECT_EQ(name("widgets", "widget", NameKind::kGauge), "widgets_widget");
  EXPECT_EQ(name("x", "", NameKind::kGauge, "my.ns"), "my.ns_x");
  EXPECT_EQ(Utf8MetricName("a.b", "ms", NameKind::kCounter, "", false), "a.b");
  EXPECT_EQ(MetricNameFor(TranslationStrategy::kNoTranslation, "a.b", "ms", NameKind::kCounter, ""), "a.b");
  EXPECT_EQ(MetricNameFor(TranslationStrategy::kUnderscoreEscapingWithoutSuffixes, "a.b", "ms", NameKind::kCounter, ""),
            "a_b");
  EXPECT_EQ(LabelNameFor(TranslationStrategy::kNoUTF8EscapingWithSuffixes, "http.method"), "http.method");
  EXPECT_EQ(LabelNameFor(TranslationStrategy::kNoUTF8EscapingWithSuffixes, "__"), "");
  EXPECT_EQ(NamespaceFor(TranslationStrategy::kUnderscoreEscapingWithSuffixes, "test-space"), "test_space");
  EXPECT_EQ(NamespaceFor(TranslationStrategy::kUnderscoreEscapingWithSuffixes, "a--b:c"), "a__b:c");
  EXPECT_EQ(MetricName("x", "", NameKind::kGauge,
                       NamespaceFor(TranslationStrategy::kUnderscoreEscapingWithSuffixes, "9lives"), true),
            "_9lives_x");
  EXPECT_EQ(NamespaceFor(TranslationStrategy::kNoTranslation, "test-space"), "test-space");
  EXPECT_FALSE(ParseTranslationStrategy("underscoreEscapingWithSuffixes").has_value());
}

TEST(PrometheusNaming, EscapingSchemes) {
  EXPECT_EQ(EscapeName("http.server", Escaping::kAllowUtf8, false), "http.server");
  EXPECT_EQ(EscapeName("http.server", Escaping::kUnderscores, false), "http_server");
  EXPECT_EQ(EscapeName("1st", Escaping::kUnderscores, false), "_st");
  EXPECT_EQ(EscapeName("a:b", Escaping::kUnderscores, false), "a:b");
  EXPECT_EQ(EscapeName("a:b", Escaping::kUnderscores, true), "a_b");  // no ':' in label names
  EXPECT_EQ(EscapeName("héllo", Escaping::kUnderscores, false), "h_llo");
  EXPECT_EQ(EscapeName("a.b_c", Escaping::kDots, false), "a_dot_b__c");
  EXPECT_EQ(EscapeName("a_b", Escaping::kDots, false), "a__b");  // even when legacy
  EXPECT_EQ(EscapeName("a.b_c", Escaping::kValues, false), "U__a_2e_b__c");
  EXPECT_EQ(EscapeName("é", Escaping::kValues, false), "U___e9_");
  EXPECT_EQ(EscapeName("ok_name", Escaping::kValues, false), "ok_name");
  EXPECT_EQ(EscapeName("bad\xff", Escaping::kValues, false), "U__bad_fffd_");
  EXPECT_TRUE(IsLegacyMetricName("a:b_1"));
  EXPECT_FALSE(IsLegacyLabelName("a:b"));
  EXPECT_FALSE(IsLegacyMetricName("1a"));
  EXPECT_EQ(ParseEscaping("allow-utf-8"), Escaping::kAllowUtf8);
  EXPECT_FALSE(ParseEscaping("utf8").has_value());
}

}  // namespace
}  // namespace outrigger::prom
