#include "receivers/prometheus/config.h"

#include <algorithm>
#include <set>

#include "collector/http/server.h"

namespace outrigger::receivers::prometheus {

namespace {

void DecodeScrapeConfig(config::Node& n, ScrapeConfig* s) {
  n.Read("job_name", &s->job_name);
  n.Read("scrape_interval", &s->scrape_interval);
  n.Read("scrape_timeout", &s->scrape_timeout);
  n.Read("metrics_path", &s->metrics_path);
  n.ReadEnum("scheme", &s->scheme, {"http", "https"});
  n.Read("honor_labels", &s->honor_labels);
  n.Read("honor_timestamps", &s->honor_timestamps);
  n.Read("sample_limit", &s->sample_limit);
  n.Read("label_limit", &s->label_limit);
  n.Read("label_name_length_limit", &s->label_name_length_limit);
  n.Read("label_value_length_limit", &s->label_value_length_limit);
  n.ReadBytes("body_size_limit", &s->body_size_limit);
  // params: name -> list of values (Prometheus syntax; a single value is accepted too).
  n.Read("params", &s->params);
  for (config::Node* item : n.ReadMappings("static_configs")) {
    StaticConfig sc;
    item->Read("targets", &sc.targets);
    item->Read("labels", &sc.labels);
    s->static_configs.push_back(std::move(sc));
  }
  for (config::Node* item : n.ReadMappings("pod_annotations_sd_configs")) {
    PodAnnotationsSdConfig pa;
    item->Read("file", &pa.file);
    item->Read("refresh_interval", &pa.refresh_interval);
    if (pa.file.empty()) item->ErrorAt("file", "must not be empty");
    s->pod_annotations_sd_configs.push_back(std::move(pa));
  }
  for (auto [key, rules] : {std::pair{"relabel_configs", &s->relabel_configs},
                            std::pair{"metric_relabel_configs", &s->metric_relabel_configs}}) {
    for (config::Node* item : n.ReadMappings(key)) {
      RelabelConfig r;
      r.Decode(*item);
      rules->push_back(std::move(r));
    }
  }
  config::Node& basic = n.Child("basic_auth");
  basic.Read("username", &s->basic_auth_username);
  basic.Read("password", &s->basic_auth_password);
  config::Node& authz = n.Child("authorization");
  authz.Read("type", &s->authorization_type);
  authz.Read("credentials", &s->authorization_credentials);
  config::Node& tls = n.Child("tls_config");
  tls.Read("insecure_skip_verify", &s->tls.insecure_skip_verify);
  tls.Read("ca_file", &s->tls.ca_file);
  tls.Read("cert_file", &s->tls.cert_file);
  tls.Read("key_file", &s->tls.key_file);
}

}  // namespace

void Config::Decode(config::Node& node) {
  config::Node& cfg = node.Child("config");
  config::Node& global = cfg.Child("global");
  global.Read("scrape_interval", &global_scrape_interval);
  global.Read("scrape_timeout", &global_scrape_timeout);
  global.Read("sample_limit", &global_sample_limit);
  global.Read("label_limit", &global_label_limit);
  global.Read("label_name_length_limit", &global_label_name_length_limit);
  global.Read("label_value_length_limit", &global_label_value_length_limit);
  global.ReadBytes("body_size_limit", &global_body_size_limit);
  for (config::Node* item : cfg.ReadMappings("scrape_configs")) {
    // The global limits, unless the scrape config sets its own.
    ScrapeConfig s;
    s.sample_limit = global_sample_limit;
    s.label_limit = global_label_limit;
    s.label_name_length_limit = global_label_name_length_limit;
    s.label_value_length_limit = global_label_value_length_limit;
    s.body_size_limit = global_body_size_limit;
    DecodeScrapeConfig(*item, &s);
    scrape_configs.push_back(std::move(s));
  }
}

absl::Duration Config::IntervalOf(const ScrapeConfig& s) const {
  return s.scrape_interval > absl::ZeroDuration() ? s.scrape_interval : global_scrape_interval;
}

absl::Duration Config::TimeoutOf(const ScrapeConfig& s) const {
  if (s.scrape_timeout > absl::ZeroDuration()) return s.scrape_timeout;
  return std::min(global_scrape_timeout, IntervalOf(s));
}

absl::Status Config::Validate() const {
  if (global_scrape_interval <= absl::ZeroDuration() || global_scrape_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("config.global: scrape_interval and scrape_timeout must be positive");
  }
  for (auto [name, v] : {std::pair{"sample_limit", global_sample_limit}, std::pair{"label_limit", global_label_limit},
                         std::pair{"label_name_length_limit", global_label_name_length_limit},
                         std::pair{"label_value_length_limit", global_label_value_length_limit}}) {
    if (v < 0) return absl::InvalidArgumentError(StrCat("config.global: ", name, " must not be negative"));
  }
  if (scrape_configs.empty()) {
    return absl::InvalidArgumentError("config.scrape_configs: at least one scrape config is needed");
  }
  std::set<std::string> jobs;
  for (const auto& s : scrape_configs) {
    if (s.job_name.empty()) return absl::InvalidArgumentError("config.scrape_configs: job_name is required");
    if (!jobs.insert(s.job_name).second) {
      return absl::InvalidArgumentError(StrCat("config.scrape_configs: job_name \"", s.job_name, "\" is used twice"));
    }
    const std::string where = StrCat("scrape config \"", s.job_name, "\": ");
    if (s.scrape_interval < absl::ZeroDuration() || s.scrape_timeout < absl::ZeroDuration()) {
      return absl::InvalidArgumentError(StrCat(where, "scrape_interval and scrape_timeout must be positive"));
    }
    if (TimeoutOf(s) > IntervalOf(s)) {
      return absl::InvalidArgumentError(StrCat(where, "scrape_timeout (", absl::FormatDuration(TimeoutOf(s)),
                                               ") is greater than scrape_interval (",
                                               absl::FormatDuration(IntervalOf(s)), ")"));
    }
    if (s.metrics_path.empty() || s.metrics_path[0] != '/') {
      return absl::InvalidArgumentError(StrCat(where, "metrics_path must start with '/'"));
    }
    for (auto [name, v] : {std::pair{"sample_limit", s.sample_limit}, std::pair{"label_limit", s.label_limit},
                           std::pair{"label_name_length_limit", s.label_name_length_limit},
                           std::pair{"label_value_length_limit", s.label_value_length_limit}}) {
      if (v < 0) return absl::InvalidArgumentError(StrCat(where, name, " must not be negative"));
    }
    if (!s.basic_auth_username.empty() && !s.authorization_credentials.empty()) {
      return absl::InvalidArgumentError(StrCat(where, "basic_auth and authorization are mutually exclusive"));
    }
    if (s.tls.cert_file.empty() != s.tls.key_file.empty()) {
      return absl::InvalidArgumentError(StrCat(where, "tls_config.cert_file and key_file go together"));
    }
    if (s.static_configs.empty() && s.pod_annotations_sd_configs.empty()) {
      return absl::InvalidArgumentError(
          StrCat(where, "no targets: static_configs and pod_annotations_sd_configs are empty"));
    }
    for (const auto& pa : s.pod_annotations_sd_configs) {
      if (pa.file.empty() || pa.refresh_interval < absl::ZeroDuration()) {
        return absl::InvalidArgumentError(StrCat(where, "pod_annotations_sd_configs: file is required"));
      }
    }
    for (auto [key, rules] : {std::pair{"relabel_configs", &s.relabel_configs},
                              std::pair{"metric_relabel_configs", &s.metric_relabel_configs}}) {
      for (size_t i = 0; i < rules->size(); ++i) {
        RelabelConfig r = (*rules)[i];  // checked again: configs built in code skip Decode
        std::string field;
        if (auto st = r.Compile(&field); !st.ok()) {
          return absl::InvalidArgumentError(StrCat(where, key, "[", i, "].", field, ": ", st.message()));
        }
      }
    }
    for (const auto& sc : s.static_configs) {
      if (sc.targets.empty()) return absl::InvalidArgumentError(StrCat(where, "a static_config has no targets"));
      for (const auto& t : sc.targets) {
        if (t.empty() || t.find('/') != std::string::npos || t.find(':') == std::string::npos) {
          return absl::InvalidArgumentError(StrCat(where, "target \"", t, "\" is not host:port"));
        }
      }
      for (const auto& [k, v] : sc.labels) {
        if (!ValidLabelName(k)) return absl::InvalidArgumentError(StrCat(where, "invalid label name \"", k, "\""));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace outrigger::receivers::prometheus
