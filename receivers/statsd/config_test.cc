// The statsd receiver's config: the defaults documented in README.md, and
// testdata/config.yaml decoding to the values written in it.
#include "receivers/statsd/config.h"

#include <gtest/gtest.h>

#include "tests/testutil/config_util.h"

namespace outrigger::receivers::statsd {
namespace {

constexpr char kTestdata[] = "receivers/statsd/testdata/config.yaml";

const std::vector<double> kDefaultPercentiles = {0, 10, 50, 90, 95, 100};

// A timer_histogram_mapping entry's documented defaults (the type aside).
void ExpectDefaultMapping(const TimerMapping& m) {
  EXPECT_EQ(m.observer_type, "gauge");
  EXPECT_EQ(m.percentiles, kDefaultPercentiles);
  EXPECT_EQ(m.max_size, 160);
  EXPECT_TRUE(m.explicit_buckets.empty());
}

TEST(StatsdReceiverConfig, DefaultsAreTheDocumentedOnes) {
  Config cfg;
  EXPECT_EQ(cfg.endpoint, "127.0.0.1:8125");
  EXPECT_EQ(cfg.transport, "udp");
  EXPECT_EQ(cfg.aggregation_interval, absl::Seconds(60));
  EXPECT_FALSE(cfg.enable_metric_type);
  EXPECT_FALSE(cfg.is_monotonic_counter);
  EXPECT_EQ(cfg.aggregation_temporality, "delta");
  EXPECT_TRUE(cfg.timer_histogram_mapping.empty());
  EXPECT_EQ(cfg.max_series_per_metric, 10000);
  EXPECT_EQ(cfg.max_series, 100000);
  EXPECT_EQ(cfg.socket_buffer_size, 0u);
  EXPECT_TRUE(cfg.events_as_logs);
  EXPECT_EQ(cfg.max_tcp_line_length, 65536);
  EXPECT_EQ(cfg.max_connections, 1000);
  EXPECT_EQ(cfg.idle_timeout, absl::ZeroDuration());
  // No mapping: gauge for all three types.
  for (const char* type : {"timing", "histogram", "distribution"}) {
    SCOPED_TRACE(type);
    ExpectDefaultMapping(cfg.MappingFor(type));
  }
  EXPECT_TRUE(cfg.Validate().ok());
}

TEST(StatsdReceiverConfig, AListReplacesTheDefaultAndUnnamedTypesAreDisabled) {
  // Upstream's default list maps the three types to gauge; a configured list replaces it,
  // so a type it does not name is "disabled" (its lines are ignored), as is one set so.
  Config cfg;
  config::Errors errors;
  ASSERT_TRUE(testutil::DecodeYaml("timer_histogram_mapping:\n"
                                   "  - {statsd_type: timing, observer_type: summary}\n"
                                   "  - {statsd_type: histogram, observer_type: disabled}\n",
                                   &cfg, &errors)
                  .ok())
      << errors.Joined();
  EXPECT_TRUE(cfg.Validate().ok());
  EXPECT_EQ(cfg.MappingFor("timing").observer_type, "summary");
  EXPECT_EQ(cfg.MappingFor("histogram").observer_type, "disabled");
  EXPECT_EQ(cfg.MappingFor("distribution").observer_type, "disabled");
  Config none;
  EXPECT_EQ(none.MappingFor("distribution").observer_type, "gauge");
}

TEST(StatsdReceiverConfig, HistogramOptionsNeedTheHistogramObserver) {
  Config cfg;
  config::Errors errors;
  EXPECT_FALSE(testutil::DecodeYaml("timer_histogram_mapping:\n"
                                    "  - {statsd_type: timing, observer_type: gauge, histogram: {max_size: 100}}\n",
                                    &cfg, &errors)
                   .ok());
  EXPECT_NE(errors.Joined().find("histogram configuration requires observer_type: histogram"), std::string::npos)
      << errors.Joined();
}

TEST(StatsdReceiverConfig, AMappingEntryHasTheDocumentedDefaults) {
  Config cfg;
  config::Errors errors;
  ASSERT_TRUE(testutil::DecodeYaml("timer_histogram_mapping: [{statsd_type: timer}]\n", &cfg, &errors).ok())
      << errors.Joined();
  ASSERT_EQ(cfg.timer_histogram_mapping.size(), 1u);
  EXPECT_EQ(cfg.timer_histogram_mapping[0].statsd_type, "timing");  // "timer" is a synonym
  ExpectDefaultMapping(cfg.timer_histogram_mapping[0]);
  EXPECT_TRUE(cfg.Validate().ok());
}

TEST(StatsdReceiverConfig, TestdataDecodesToItsValues) {
  Config cfg;
  config::Errors errors;
  ASSERT_TRUE(testutil::DecodeComponentConfig(kTestdata, "receivers", "statsd", &cfg, &errors).ok()) << errors.Joined();
  EXPECT_EQ(cfg.endpoint, "127.0.0.1:18125");
  EXPECT_EQ(cfg.transport, "udp");
  EXPECT_EQ(cfg.aggregation_interval, absl::Seconds(15));
  EXPECT_TRUE(cfg.enable_metric_type);
  EXPECT_TRUE(cfg.is_monotonic_counter);
  EXPECT_EQ(cfg.aggregation_temporality, "cumulative");
  EXPECT_EQ(cfg.max_series_per_metric, 2000);
  EXPECT_EQ(cfg.max_series, 50000);
  EXPECT_EQ(cfg.socket_buffer_size, 8u << 20);
  EXPECT_TRUE(cfg.events_as_logs);
  EXPECT_EQ(cfg.max_tcp_line_length, 65536);
  ASSERT_EQ(cfg.timer_histogram_mapping.size(), 3u);

  const TimerMapping& timing = cfg.MappingFor("timing");
  EXPECT_EQ(timing.statsd_type, "timing");
  EXPECT_EQ(timing.observer_type, "summary");
  EXPECT_EQ(timing.percentiles, (std::vector<double>{0, 50, 90, 99, 100}));
  EXPECT_EQ(timing.max_size, 160);
  EXPECT_TRUE(timing.explicit_buckets.empty());

  const TimerMapping& histogram = cfg.MappingFor("histogram");
  EXPECT_EQ(histogram.statsd_type, "histogram");
  EXPECT_EQ(histogram.observer_type, "histogram");
  EXPECT_EQ(histogram.percentiles, kDefaultPercentiles);
  EXPECT_EQ(histogram.max_size, 160);
  EXPECT_EQ(histogram.explicit_buckets, (std::vector<double>{1, 5, 10, 50, 100, 500, 1000}));

  const TimerMapping& distribution = cfg.MappingFor("distribution");
  EXPECT_EQ(distribution.statsd_type, "distribution");
  EXPECT_EQ(distribution.observer_type, "histogram");
  EXPECT_EQ(distribution.percentiles, kDefaultPercentiles);
  EXPECT_EQ(distribution.max_size, 80);
  EXPECT_TRUE(distribution.explicit_buckets.empty());
  EXPECT_TRUE(cfg.Validate().ok());
}

TEST(StatsdReceiverConfig, TestdataTcpDecodesToItsValues) {
  Config cfg;
  config::Errors errors;
  ASSERT_TRUE(testutil::DecodeComponentConfig(kTestdata, "receivers", "statsd/tcp", &cfg, &errors).ok())
      << errors.Joined();
  EXPECT_EQ(cfg.endpoint, "127.0.0.1:18126");
  EXPECT_EQ(cfg.transport, "tcp");
  EXPECT_EQ(cfg.max_tcp_line_length, 8192);
  EXPECT_EQ(cfg.max_connections, 64);
  EXPECT_EQ(cfg.idle_timeout, absl::Minutes(10));
  EXPECT_FALSE(cfg.events_as_logs);
  EXPECT_EQ(cfg.max_series_per_metric, 0);
  // The rest keeps its defaults.
  EXPECT_EQ(cfg.aggregation_interval, absl::Seconds(60));
  EXPECT_EQ(cfg.aggregation_temporality, "delta");
  EXPECT_TRUE(cfg.timer_histogram_mapping.empty());
  EXPECT_TRUE(cfg.Validate().ok());
}

TEST(StatsdReceiverConfig, TestdataUnixgramDecodesToItsValues) {
  Config cfg;
  config::Errors errors;
  ASSERT_TRUE(testutil::DecodeComponentConfig(kTestdata, "receivers", "statsd/unixgram", &cfg, &errors).ok())
      << errors.Joined();
  EXPECT_EQ(cfg.endpoint, "/tmp/outrigger-testdata-statsd.sock");
  EXPECT_EQ(cfg.transport, "unixgram");
  EXPECT_EQ(cfg.aggregation_interval, absl::Seconds(10));
  EXPECT_EQ(cfg.socket_buffer_size, 0u);
  EXPECT_TRUE(cfg.Validate().ok());
}

TEST(StatsdReceiverConfig, UpstreamOptionsWorkOrAreNamedUnsupported) {
  Config cfg;
  config::Errors errors;
  ASSERT_TRUE(testutil::DecodeYaml("endpoint: /tmp/s.sock\ntransport: unixgram\nsocket_permissions: '0660'\n"
                                   "enable_simple_tags: true\n",
                                   &cfg, &errors)
                  .ok())
      << errors.Joined();
  EXPECT_EQ(cfg.socket_permissions, 0660u);
  EXPECT_TRUE(cfg.enable_simple_tags);
  Config defaults;
  EXPECT_EQ(defaults.socket_permissions, 0622u);  // upstream's default
  Config udp6;
  ASSERT_TRUE(testutil::DecodeYaml("endpoint: '[::1]:8125'\ntransport: udp6\n", &udp6, &errors).ok())
      << errors.Joined();
  EXPECT_EQ(udp6.transport, "udp");
  Config bad;
  config::Errors bad_errors;
  EXPECT_FALSE(
      testutil::DecodeYaml("socket_permissions: rw\nenable_ip_only_aggregation: true\n", &bad, &bad_errors).ok());
  EXPECT_NE(bad_errors.Joined().find("\"rw\" is not an octal file mode"), std::string::npos) << bad_errors.Joined();
  EXPECT_NE(bad_errors.Joined().find("enable_ip_only_aggregation is not supported"), std::string::npos)
      << bad_errors.Joined();
}

}  // namespace
}  // namespace outrigger::receivers::statsd
