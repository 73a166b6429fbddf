#pragma once
// The prometheus receiver's configuration: `config` holds a Prometheus configuration
// (`global`, `scrape_configs`) in Prometheus's own syntax, for the subset implemented.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "collector/component/factory.h"
#include "collector/httpclient/http_client.h"
#include "receivers/prometheus/parser.h"
#include "receivers/prometheus/relabel.h"

namespace outrigger::receivers::prometheus {

inline constexpr absl::Duration kDefaultScrapeInterval = absl::Minutes(1);
inline constexpr absl::Duration kDefaultScrapeTimeout = absl::Seconds(10);
inline constexpr char kDefaultMetricsPath[] = "/metrics";
inline constexpr char kDefaultAnnotationsFile[] = "/etc/podinfo/annotations";
// Prometheus's default is 0 (no limit); a server has memory to spare, a sidecar has a
// Pod's limit. A series costs ~2 KiB while a scrape is converted, so 50,000 samples is
// ~100 MiB at most, and far more than one application in a Pod exposes (a scrape of a
// million series would otherwise take ~2 GB). Checked before the exposition is parsed.
inline constexpr int64_t kDefaultSampleLimit = 50000;
// An answer larger than this fails the scrape (it is read into memory whole).
inline constexpr uint64_t kDefaultBodySizeLimit = 64ull << 20;  // 64 MiB

struct StaticConfig {
  std::vector<std::string> targets;           // host:port
  std::map<std::string, std::string> labels;  // target labels
};

// Ours (not Prometheus's): the Pod's annotations as the Downward API writes them to a
// file, for a sidecar that has no access to the API server. `prometheus.io/scrape:
// "true"` makes one target, 127.0.0.1:<prometheus.io/port> (the application in the same
// Pod), with prometheus.io/path and prometheus.io/scheme; see discovery.h.
struct PodAnnotationsSdConfig {
  std::string file = kDefaultAnnotationsFile;
  absl::Duration refresh_interval = absl::ZeroDuration();  // zero: the job's scrape_interval
};

// Prometheus's file_sd_configs entry.
inline constexpr absl::Duration kDefaultFileSdRefresh = absl::Minutes(5);
struct FileSdConfig {
  std::vector<std::string> files;  // paths, a `*` allowed in the last element; .json, .yml, .yaml
  absl::Duration refresh_interval = kDefaultFileSdRefresh;
};

// Prometheus's kubernetes_sd_configs entry (discovery through the API server, see
// kubernetes_sd.h).
struct KubernetesSdSelector {
  std::string role;   // the role whose list and watch it filters
  std::string label;  // labelSelector
  std::string field;  // fieldSelector
};
struct KubernetesSdConfig {
  std::string role;                     // pod | node | service (required)
  std::string api_server;               // empty: in-cluster, or kubeconfig_file
  std::string kubeconfig_file;          // exclusive with api_server
  std::vector<std::string> namespaces;  // namespaces.names; empty: all (unless own_namespace)
  bool own_namespace = false;           // namespaces.own_namespace
  std::vector<KubernetesSdSelector> selectors;
  // The HTTP client options towards the API server (only with api_server, as in Prometheus).
  std::string basic_auth_username, basic_auth_password, basic_auth_password_file;
  std::string authorization_type = "Bearer", authorization_credentials, authorization_credentials_file;
  httpclient::TlsConfig tls;
  bool custom_http = false;  // any of the above was set
};

struct ScrapeConfig {
  std::string job_name;
  absl::Duration scrape_interval = absl::ZeroDuration();  // zero: the global one
  absl::Duration scrape_timeout = absl::ZeroDuration();   // zero: the global one
  std::string metrics_path = kDefaultMetricsPath;
  std::string scheme = "http";
  std::map<std::string, std::vector<std::string>> params;
  std::vector<StaticConfig> static_configs;
  std::vector<PodAnnotationsSdConfig> pod_annotations_sd_configs;
  std::vector<FileSdConfig> file_sd_configs;
  std::vector<KubernetesSdConfig> kubernetes_sd_configs;
  std::vector<RelabelConfig> relabel_configs;         // on each target's labels
  std::vector<RelabelConfig> metric_relabel_configs;  // on each scraped sample's labels
  bool honor_labels = false;
  bool honor_timestamps = true;
  // Limits per scrape, as Prometheus has them (a scrape past one fails: up = 0); the
  // global section's values unless set here. 0: no limit.
  int64_t sample_limit = kDefaultSampleLimit;
  int64_t label_limit = 0;                           // labels per sample, __name__ and target labels included
  int64_t label_name_length_limit = 0;               // bytes
  int64_t label_value_length_limit = 0;              // bytes
  uint64_t body_size_limit = kDefaultBodySizeLimit;  // bytes of the answer (decompressed)
  // scrape_protocols (Prometheus's names) in order of preference, made into the Accept
  // header; empty: the global list, else Prometheus's default (kScrapeAccept).
  std::vector<std::string> scrape_protocols;
  // fallback_scrape_protocol: the format of an answer whose Content-Type is missing or
  // not an exposition format; unset: the text format 0.0.4.
  std::optional<Format> fallback_format;
  std::string basic_auth_username, basic_auth_password;
  std::string authorization_type = "Bearer", authorization_credentials;
  httpclient::TlsConfig tls;
  // The receiver's own options (upstream's top-level keys), copied into every job.
  bool trim_metric_suffixes = false;
  bool use_start_time_metric = false;
  std::string start_time_metric_regex;  // empty: kDefaultStartTimeMetricRegex
};

// Upstream's start_time_metric_regex default (the metric `process_start_time_seconds`,
// with any prefix).
inline constexpr char kDefaultStartTimeMetricRegex[] = "^(.+_)*process_start_time_seconds$";

// The Accept header of scrape_protocols (Prometheus's weights: 0.6, 0.5, ... then */*).
std::string AcceptOf(const std::vector<std::string>& protocols);

struct Config : ComponentConfig {
  absl::Duration global_scrape_interval = kDefaultScrapeInterval;
  absl::Duration global_scrape_timeout = kDefaultScrapeTimeout;
  // The defaults of the scrape configs' limits (global section, as in Prometheus).
  int64_t global_sample_limit = kDefaultSampleLimit;
  int64_t global_label_limit = 0;
  int64_t global_label_name_length_limit = 0;
  int64_t global_label_value_length_limit = 0;
  uint64_t global_body_size_limit = kDefaultBodySizeLimit;
  std::vector<std::string> global_scrape_protocols;
  std::vector<ScrapeConfig> scrape_configs;
  // Upstream's top-level options (copied into every ScrapeConfig by Decode).
  bool trim_metric_suffixes = false;
  bool use_start_time_metric = false;
  std::string start_time_metric_regex;
  bool scrape_on_shutdown = false;                              // one last scrape of every target at shutdown
  absl::Duration initial_scrape_offset = absl::ZeroDuration();  // the first scrapes this long after start
  bool discovery_reload_on_startup = false;                     // accepted: discovery always runs at start

  void Decode(config::Node& node) override;
  absl::Status Validate() const override;
  // scrape_interval/scrape_timeout with the global defaults applied.
  absl::Duration IntervalOf(const ScrapeConfig& s) const;
  absl::Duration TimeoutOf(const ScrapeConfig& s) const;
};

}  // namespace outrigger::receivers::prometheus
