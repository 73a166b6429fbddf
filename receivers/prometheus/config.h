#pragma once
// The prometheus receiver's configuration: `config` holds a Prometheus configuration
// (`global`, `scrape_configs`) in Prometheus's own syntax, for the subset implemented.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "collector/component/factory.h"
#include "collector/httpclient/http_client.h"

namespace outrigger::receivers::prometheus {

inline constexpr absl::Duration kDefaultScrapeInterval = absl::Minutes(1);
inline constexpr absl::Duration kDefaultScrapeTimeout = absl::Seconds(10);
inline constexpr char kDefaultMetricsPath[] = "/metrics";

struct StaticConfig {
  std::vector<std::string> targets;           // host:port
  std::map<std::string, std::string> labels;  // target labels
};

struct ScrapeConfig {
  std::string job_name;
  absl::Duration scrape_interval = absl::ZeroDuration();  // zero: the global one
  absl::Duration scrape_timeout = absl::ZeroDuration();   // zero: the global one
  std::string metrics_path = kDefaultMetricsPath;
  std::string scheme = "http";
  std::map<std::string, std::vector<std::string>> params;
  std::vector<StaticConfig> static_configs;
  bool honor_labels = false;
  bool honor_timestamps = true;
  int64_t sample_limit = 0;  // 0: no limit
  std::string basic_auth_username, basic_auth_password;
  std::string authorization_type = "Bearer", authorization_credentials;
  httpclient::TlsConfig tls;
};

struct Config : ComponentConfig {
  absl::Duration global_scrape_interval = kDefaultScrapeInterval;
  absl::Duration global_scrape_timeout = kDefaultScrapeTimeout;
  std::vector<ScrapeConfig> scrape_configs;

  void Decode(config::Node& node) override;
  absl::Status Validate() const override;
  // scrape_interval/scrape_timeout with the global defaults applied.
  absl::Duration IntervalOf(const ScrapeConfig& s) const;
  absl::Duration TimeoutOf(const ScrapeConfig& s) const;
};

}  // namespace outrigger::receivers::prometheus
