#include "receivers/prometheus/config.h"

#include <algorithm>
#include <set>

#include "absl/strings/match.h"
#include "collector/http/server.h"
#include "re2/re2.h"

namespace outrigger::receivers::prometheus {

namespace {

std::string UnsupportedProtocol(std::string_view p) {
  return p == "PrometheusProto"
             ? std::string(
                   "PrometheusProto (the protobuf exposition) is not supported; use PrometheusText0.0.4, "
                   "OpenMetricsText0.0.1 or OpenMetricsText1.0.0")
             : StrCat("unknown scrape protocol \"", p,
                      "\" (PrometheusText0.0.4, PrometheusText1.0.0, OpenMetricsText0.0.1 or OpenMetricsText1.0.0)");
}

// scrape_protocols: Prometheus's names, protobuf refused.
void ReadProtocols(config::Node& n, std::vector<std::string>* out) {
  if (!n.Has("scrape_protocols")) return;
  n.Read("scrape_protocols", out);
  for (const auto& p : *out) {
    if (p != "PrometheusText0.0.4" && p != "PrometheusText1.0.0" && p != "OpenMetricsText0.0.1" &&
        p != "OpenMetricsText1.0.0") {
      n.ErrorAt("scrape_protocols", UnsupportedProtocol(p));
      out->clear();
      return;
    }
  }
  if (out->empty()) n.ErrorAt("scrape_protocols", "must list at least one protocol");
}

// kubernetes_sd_configs: Prometheus's keys; the HTTP client options as the scrape's.
void DecodeKubernetesSd(config::Node& n, KubernetesSdConfig* k) {
  n.Read("role", &k->role);
  n.Read("api_server", &k->api_server);
  n.Read("kubeconfig_file", &k->kubeconfig_file);
  if (!k->api_server.empty() && !k->kubeconfig_file.empty()) {
    n.ErrorAt("kubeconfig_file", "api_server and kubeconfig_file are mutually exclusive");
  }
  config::Node& ns = n.Child("namespaces");
  ns.Read("names", &k->namespaces);
  ns.Read("own_namespace", &k->own_namespace);
  for (config::Node* sel : n.ReadMappings("selectors")) {
    KubernetesSdSelector x;
    sel->Read("role", &x.role);
    sel->Read("label", &x.label);
    sel->Read("field", &x.field);
    k->selectors.push_back(std::move(x));
  }
  if (k->role == "endpointslice") {
    n.ErrorAt("role",
              "role: endpointslice is not supported (pod, node, service and endpoints are); use role: endpoints "
              "(the same targets, with __meta_kubernetes_endpoint_* labels instead of "
              "__meta_kubernetes_endpointslice_*)");
  } else if (k->role == "ingress") {
    n.ErrorAt("role",
              "role: ingress is not supported (pod, node, service and endpoints are); probe the Ingress hosts "
              "with static_configs, or the Services behind them with role: service");
  } else if (!k->role.empty() && k->role != "pod" && k->role != "node" && k->role != "service" &&
             k->role != "endpoints") {
    n.ErrorAt("role", StrCat("unknown role \"", k->role, "\" (pod, node, service, endpoints)"));
  }
  config::Node& attach = n.Child("attach_metadata");
  for (const char* key : {"node", "namespace"}) {
    bool on = false;
    attach.Read(key, &on);
    if (on) {
      attach.ErrorAt(key, StrCat("true is not supported (the ", key,
                                 "'s metadata is not attached to Pod targets); remove it or set false"));
    }
  }
  config::Node& basic = n.Child("basic_auth");
  basic.Read("username", &k->basic_auth_username);
  basic.Read("password", &k->basic_auth_password);
  basic.Read("password_file", &k->basic_auth_password_file);
  basic.Unsupported("username_file", "use username with ${env:USERNAME}");
  config::Node& authz = n.Child("authorization");
  authz.Read("type", &k->authorization_type);
  authz.Read("credentials", &k->authorization_credentials);
  authz.Read("credentials_file", &k->authorization_credentials_file);
  // Prometheus 2's shorthands of authorization.
  std::string bearer, bearer_file;
  n.Read("bearer_token", &bearer);
  n.Read("bearer_token_file", &bearer_file);
  if (!bearer.empty()) k->authorization_credentials = bearer;
  if (!bearer_file.empty()) k->authorization_credentials_file = bearer_file;
  config::Node& tls = n.Child("tls_config");
  tls.Read("insecure_skip_verify", &k->tls.insecure_skip_verify);
  tls.Read("ca_file", &k->tls.ca_file);
  tls.Read("cert_file", &k->tls.cert_file);
  tls.Read("key_file", &k->tls.key_file);
  tls.Unsupported("server_name", "the API server's host name is verified; use that name in api_server");
  for (const char* key : {"min_version", "max_version", "ca", "cert", "key"}) {
    tls.Unsupported(key, "use ca_file, cert_file and key_file (TLS versions are OpenSSL's defaults)");
  }
  k->custom_http = !k->basic_auth_username.empty() || !k->basic_auth_password.empty() ||
                   !k->basic_auth_password_file.empty() || !k->authorization_credentials.empty() ||
                   !k->authorization_credentials_file.empty() || k->tls.insecure_skip_verify ||
                   !k->tls.ca_file.empty() || !k->tls.cert_file.empty() || !k->tls.key_file.empty();
  n.Unsupported("oauth2", "use authorization.credentials_file with a token");
  n.Unsupported("follow_redirects", "redirects of the API server are not followed; remove the key");
  n.Unsupported("enable_http2", "the HTTP version is libcurl's choice; remove the key");
  for (const char* key : {"proxy_url", "no_proxy", "proxy_from_environment", "proxy_connect_header"}) {
    n.Unsupported(key, "no proxy support: reach the API server directly");
  }
  n.Unsupported("http_headers", "only Authorization can be set (authorization, bearer_token or basic_auth)");
}

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
  for (config::Node* item : n.ReadMappings("file_sd_configs")) {
    FileSdConfig fs;
    item->Read("files", &fs.files);
    item->Read("refresh_interval", &fs.refresh_interval);
    for (const auto& f : fs.files) {
      // Prometheus: "path ... must end in .json, .yml or .yaml"; a `*` only in the last
      // path element.
      const size_t slash = f.rfind('/');
      if (!(absl::EndsWith(f, ".json") || absl::EndsWith(f, ".yml") || absl::EndsWith(f, ".yaml"))) {
        item->ErrorAt("files", StrCat("\"", f, "\" must end in .json, .yml or .yaml"));
      } else if (slash != std::string::npos && f.find_first_of("*?[") < slash) {
        item->ErrorAt("files", StrCat("\"", f, "\": a pattern only in the last path element"));
      }
    }
    if (fs.files.empty()) item->ErrorAt("files", "at least one file is needed");
    s->file_sd_configs.push_back(std::move(fs));
  }
  for (config::Node* item : n.ReadMappings("kubernetes_sd_configs")) {
    KubernetesSdConfig k;
    DecodeKubernetesSd(*item, &k);
    s->kubernetes_sd_configs.push_back(std::move(k));
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
  ReadProtocols(n, &s->scrape_protocols);
  std::string fallback;
  n.Read("fallback_scrape_protocol", &fallback);
  if (!fallback.empty()) {
    if (fallback == "PrometheusText0.0.4" || fallback == "PrometheusText1.0.0") {
      s->fallback_format = Format::kPrometheusText;
    } else if (fallback == "OpenMetricsText0.0.1" || fallback == "OpenMetricsText1.0.0") {
      s->fallback_format = Format::kOpenMetricsText;
    } else {
      n.ErrorAt("fallback_scrape_protocol", UnsupportedProtocol(fallback));
    }
  }
  // Prometheus's scrape_config keys that we do not have, with what to do instead.
  const std::string static_instead =
      "use static_configs (targets listed in the configuration), file_sd_configs (target files that a tool keeps "
      "up to date), kubernetes_sd_configs (a cluster's Pods, Nodes or Services), or pod_annotations_sd_configs for "
      "the Pod's own application";
  for (const char* sd :
       {"http_sd_configs",         "dns_sd_configs",       "consul_sd_configs",    "ec2_sd_configs",
        "gce_sd_configs",          "azure_sd_configs",     "docker_sd_configs",    "dockerswarm_sd_configs",
        "digitalocean_sd_configs", "eureka_sd_configs",    "hetzner_sd_configs",   "ionos_sd_configs",
        "kuma_sd_configs",         "lightsail_sd_configs", "linode_sd_configs",    "marathon_sd_configs",
        "nerve_sd_configs",        "nomad_sd_configs",     "openstack_sd_configs", "ovhcloud_sd_configs",
        "puppetdb_sd_configs",     "scaleway_sd_configs",  "serverset_sd_configs", "triton_sd_configs",
        "uyuni_sd_configs",        "vultr_sd_configs",     "stackit_sd_configs"}) {
    n.Unsupported(sd, StrCat("service discovery other than static_configs, file_sd_configs, "
                             "kubernetes_sd_configs and pod_annotations_sd_configs is not implemented; ",
                             static_instead));
  }
  n.Unsupported("target_limit", "no limit on the number of targets; keep the list (or relabel_configs) short");
  n.Unsupported("keep_dropped_targets", "dropped targets are not kept; remove the key");
  n.Unsupported("track_timestamps_staleness",
                "samples with explicit timestamps get staleness markers like the others; remove the key");
  for (const char* k :
       {"scrape_classic_histograms", "always_scrape_classic_histograms", "scrape_native_histograms",
        "native_histogram_bucket_limit", "native_histogram_min_bucket_factor", "convert_classic_histograms_to_nhcb"}) {
    n.Unsupported(k,
                  "native histograms (the protobuf exposition) are not supported; classic histograms are "
                  "always scraped; remove the key");
  }
  n.Unsupported("enable_compression", "gzip is always accepted; remove the key");
  n.Unsupported("metric_name_validation_scheme",
                "metric and label names are Prometheus's legacy ones ([a-zA-Z_:][a-zA-Z0-9_:]*); remove the key");
  n.Unsupported("metric_name_escaping_scheme", "names are not escaped (legacy names only); remove the key");
  n.Unsupported("oauth2", "use authorization.credentials with a token (e.g. ${env:TOKEN})");
  n.Unsupported("follow_redirects", "redirects are followed as libcurl does by default; remove the key");
  n.Unsupported("enable_http2", "the HTTP version is libcurl's choice; remove the key");
  for (const char* k : {"proxy_url", "no_proxy", "proxy_from_environment", "proxy_connect_header"}) {
    n.Unsupported(k, "no proxy support: scrape the target directly (sidecar targets are local)");
  }
  n.Unsupported("http_headers", "only Authorization can be set (authorization or basic_auth)");
  n.Unsupported("bearer_token", "use authorization.credentials");
  n.Unsupported("bearer_token_file",
                "use authorization.credentials: ${file:...} is not supported either; pass the "
                "token through an environment variable (${env:TOKEN})");
  basic.Unsupported("password_file", "use password with ${env:PASSWORD}");
  basic.Unsupported("username_file", "use username with ${env:USERNAME}");
  authz.Unsupported("credentials_file", "use credentials with ${env:TOKEN}");
  tls.Unsupported("server_name", "the target's host name is verified; scrape it by that name");
  for (const char* k : {"min_version", "max_version", "ca", "cert", "key"}) {
    tls.Unsupported(k, "use ca_file, cert_file and key_file (TLS versions are OpenSSL's defaults)");
  }
}

absl::Status ValidateKubernetesSd(const KubernetesSdConfig& k) {
  if (k.role.empty()) return absl::InvalidArgumentError("role is required (pod, node, service or endpoints)");
  if (!k.api_server.empty() && !k.kubeconfig_file.empty()) {
    return absl::InvalidArgumentError("api_server and kubeconfig_file are mutually exclusive");
  }
  if (!k.api_server.empty() && !absl::StartsWith(k.api_server, "http://") &&
      !absl::StartsWith(k.api_server, "https://")) {
    return absl::InvalidArgumentError(StrCat("api_server \"", k.api_server, "\" is not an http:// or https:// URL"));
  }
  if (k.custom_http && k.api_server.empty()) {
    return absl::InvalidArgumentError(
        k.kubeconfig_file.empty()
            ? "to use custom HTTP client configuration please provide the 'api_server' URL explicitly"
            : "cannot use a custom HTTP client configuration together with 'kubeconfig_file'");
  }
  const bool basic =
      !k.basic_auth_username.empty() || !k.basic_auth_password.empty() || !k.basic_auth_password_file.empty();
  const bool authz = !k.authorization_credentials.empty() || !k.authorization_credentials_file.empty();
  if (basic && authz) return absl::InvalidArgumentError("basic_auth and authorization are mutually exclusive");
  if (!k.authorization_credentials.empty() && !k.authorization_credentials_file.empty()) {
    return absl::InvalidArgumentError("authorization: credentials and credentials_file are mutually exclusive");
  }
  if (!k.basic_auth_password.empty() && !k.basic_auth_password_file.empty()) {
    return absl::InvalidArgumentError("basic_auth: password and password_file are mutually exclusive");
  }
  if (k.tls.cert_file.empty() != k.tls.key_file.empty()) {
    return absl::InvalidArgumentError("tls_config.cert_file and key_file go together");
  }
  std::set<std::string> seen;
  for (const auto& sel : k.selectors) {
    if (k.role == "endpoints") {
      if (sel.role != "endpoints" && sel.role != "service" && sel.role != "pod") {
        return absl::InvalidArgumentError(
            StrCat("selectors: role \"", sel.role,
                   "\": the endpoints role supports only endpoints, service and pod selectors"));
      }
    } else if (sel.role != k.role) {
      return absl::InvalidArgumentError(
          StrCat("selectors: role \"", sel.role, "\": the ", k.role, " role supports only ", k.role, " selectors"));
    }
    if (!seen.insert(sel.role).second) {
      return absl::InvalidArgumentError(StrCat("selectors: role \"", sel.role, "\" is given twice"));
    }
  }
  for (const auto& ns : k.namespaces) {
    if (ns.empty() || ns.find('/') != std::string::npos) {
      return absl::InvalidArgumentError(StrCat("namespaces.names: \"", ns, "\" is not a namespace name"));
    }
  }
  return absl::OkStatus();
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
  ReadProtocols(global, &global_scrape_protocols);
  // Upstream refuses these Prometheus features too.
  for (const char* k : {"remote_write", "remote_read", "rule_files", "alerting"}) {
    cfg.Unsupported(k,
                    "the receiver only scrapes; send the metrics on with an exporter (prometheusremotewrite, "
                    "otlp) in the pipeline");
  }
  node.Read("trim_metric_suffixes", &trim_metric_suffixes);
  node.Read("use_start_time_metric", &use_start_time_metric);
  node.Read("start_time_metric_regex", &start_time_metric_regex);
  node.Read("scrape_on_shutdown", &scrape_on_shutdown);
  node.Read("initial_scrape_offset", &initial_scrape_offset);
  node.Read("discovery_reload_on_startup", &discovery_reload_on_startup);
  for (const char* k : {"enable_protobuf_negotiation", "enable_prometheus_ui_server"}) {
    bool on = false;
    node.Read(k, &on);
    if (on) {
      node.ErrorAt(k, std::string_view(k) == "enable_protobuf_negotiation"
                          ? "true is not supported (no protobuf exposition); remove it or set false"
                          : "true is not supported (no Prometheus UI); remove it or set false");
    }
  }
  node.Unsupported("target_allocator",
                   "there is no OpenTelemetry Operator target allocator client; list the targets in "
                   "config.scrape_configs (static_configs, or pod_annotations_sd_configs in a sidecar)");
  node.Unsupported("api_server",
                   "there is no Prometheus API server; the targets' state is in the log and in the up and "
                   "scrape_* metrics");
  bool extra = false;
  node.Read("report_extra_scrape_metrics", &extra);
  if (extra) {
    node.ErrorAt("report_extra_scrape_metrics",
                 "true is not supported (only up, scrape_duration_seconds, scrape_samples_scraped and "
                 "scrape_series_added are reported); remove it or set false");
  }
  for (config::Node* item : cfg.ReadMappings("scrape_configs")) {
    // The global limits, unless the scrape config sets its own.
    ScrapeConfig s;
    s.sample_limit = global_sample_limit;
    s.label_limit = global_label_limit;
    s.label_name_length_limit = global_label_name_length_limit;
    s.label_value_length_limit = global_label_value_length_limit;
    s.body_size_limit = global_body_size_limit;
    s.trim_metric_suffixes = trim_metric_suffixes;
    s.use_start_time_metric = use_start_time_metric;
    s.start_time_metric_regex = start_time_metric_regex;
    DecodeScrapeConfig(*item, &s);
    if (s.scrape_protocols.empty()) s.scrape_protocols = global_scrape_protocols;
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
  if (initial_scrape_offset < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("initial_scrape_offset must not be negative");
  }
  if (use_start_time_metric) {
    RE2 re(start_time_metric_regex.empty() ? kDefaultStartTimeMetricRegex : start_time_metric_regex);
    if (!re.ok()) {
      return absl::InvalidArgumentError(StrCat("start_time_metric_regex: invalid regular expression: ", re.error()));
    }
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
    // A job without targets (none listed yet, or only discovery) is valid, as in
    // Prometheus: it scrapes nothing until it has some.
    for (const auto& fs : s.file_sd_configs) {
      if (fs.refresh_interval <= absl::ZeroDuration()) {
        return absl::InvalidArgumentError(StrCat(where, "file_sd_configs: refresh_interval must be positive"));
      }
    }
    for (size_t i = 0; i < s.kubernetes_sd_configs.size(); ++i) {
      if (auto st = ValidateKubernetesSd(s.kubernetes_sd_configs[i]); !st.ok()) {
        return absl::InvalidArgumentError(StrCat(where, "kubernetes_sd_configs[", i, "]: ", st.message()));
      }
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

std::string AcceptOf(const std::vector<std::string>& protocols) {
  if (protocols.empty()) return kScrapeAccept;
  std::string out;
  int weight = 6;  // Prometheus: len(ScrapeProtocolsHeaders) + 1
  for (const auto& p : protocols) {
    std::string_view media = p == "PrometheusText0.0.4"    ? "text/plain;version=0.0.4"
                             : p == "PrometheusText1.0.0"  ? "text/plain;version=1.0.0"
                             : p == "OpenMetricsText0.0.1" ? "application/openmetrics-text;version=0.0.1"
                                                           : "application/openmetrics-text;version=1.0.0";
    StrAppend(&out, media, ";q=0.", std::max(weight--, 1), ",");
  }
  StrAppend(&out, "*/*;q=0.", std::max(weight, 1));
  return out;
}

}  // namespace outrigger::receivers::prometheus
