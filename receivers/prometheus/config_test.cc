// The prometheus receiver's config: the defaults documented in README.md, and
// testdata/config.yaml decoding to the values written in it.
#include "receivers/prometheus/config.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "tests/testutil/config_util.h"

namespace outrigger::receivers::prometheus {
namespace {

constexpr char kTestdata[] = "receivers/prometheus/testdata/config.yaml";

using Labels = std::map<std::string, std::string>;
using Strings = std::vector<std::string>;

// The values README.md documents for a scrape config's options other than job_name
// and the targets.
void ExpectScrapeDefaults(const ScrapeConfig& s) {
  EXPECT_EQ(s.scrape_interval, absl::ZeroDuration());  // the global one
  EXPECT_EQ(s.scrape_timeout, absl::ZeroDuration());   // the global one
  EXPECT_EQ(s.metrics_path, "/metrics");
  EXPECT_EQ(s.scheme, "http");
  EXPECT_TRUE(s.params.empty());
  EXPECT_TRUE(s.relabel_configs.empty());
  EXPECT_TRUE(s.metric_relabel_configs.empty());
  EXPECT_FALSE(s.honor_labels);
  EXPECT_TRUE(s.honor_timestamps);
  EXPECT_EQ(s.sample_limit, 50000);  // ours; Prometheus: 0 (none)
  EXPECT_EQ(s.label_limit, 0);
  EXPECT_EQ(s.label_name_length_limit, 0);
  EXPECT_EQ(s.label_value_length_limit, 0);
  EXPECT_EQ(s.body_size_limit, 64u << 20);  // ours; Prometheus: 0 (none)
  EXPECT_EQ(s.basic_auth_username, "");
  EXPECT_EQ(s.basic_auth_password, "");
  EXPECT_EQ(s.authorization_type, "Bearer");
  EXPECT_EQ(s.authorization_credentials, "");
  EXPECT_FALSE(s.tls.insecure_skip_verify);
  EXPECT_EQ(s.tls.ca_file, "");  // system CAs
  EXPECT_EQ(s.tls.cert_file, "");
  EXPECT_EQ(s.tls.key_file, "");
}

void ExpectRelabel(const RelabelConfig& r, const Strings& source_labels, const std::string& separator,
                   const std::string& regex, uint64_t modulus, const std::string& target_label,
                   const std::string& replacement, RelabelAction action) {
  EXPECT_EQ(r.source_labels, source_labels);
  EXPECT_EQ(r.separator, separator);
  EXPECT_EQ(r.regex, regex);
  EXPECT_EQ(r.modulus, modulus);
  EXPECT_EQ(r.target_label, target_label);
  EXPECT_EQ(r.replacement, replacement);
  EXPECT_EQ(RelabelActionName(r.action), RelabelActionName(action));
  EXPECT_TRUE(r.compiled());
}

TEST(PrometheusReceiverConfig, DefaultsAreTheDocumentedOnes) {
  Config cfg;
  EXPECT_EQ(cfg.global_scrape_interval, absl::Minutes(1));
  EXPECT_EQ(cfg.global_scrape_timeout, absl::Seconds(10));
  EXPECT_TRUE(cfg.scrape_configs.empty());
  // At least one scrape config is required.
  EXPECT_FALSE(cfg.Validate().ok());

  ScrapeConfig s;
  EXPECT_EQ(s.job_name, "");
  EXPECT_TRUE(s.static_configs.empty());
  EXPECT_TRUE(s.pod_annotations_sd_configs.empty());
  ExpectScrapeDefaults(s);
  EXPECT_EQ(cfg.IntervalOf(s), absl::Minutes(1));
  EXPECT_EQ(cfg.TimeoutOf(s), absl::Seconds(10));

  PodAnnotationsSdConfig pa;
  EXPECT_EQ(pa.file, "/etc/podinfo/annotations");
  EXPECT_EQ(pa.refresh_interval, absl::ZeroDuration());  // the job's scrape_interval
  FileSdConfig fs;
  EXPECT_EQ(fs.refresh_interval, absl::Minutes(5));
  // Upstream's top-level options.
  EXPECT_FALSE(cfg.trim_metric_suffixes);
  EXPECT_FALSE(cfg.use_start_time_metric);
  EXPECT_EQ(cfg.start_time_metric_regex, "");  // kDefaultStartTimeMetricRegex
  EXPECT_FALSE(cfg.scrape_on_shutdown);
  EXPECT_EQ(cfg.initial_scrape_offset, absl::ZeroDuration());
  EXPECT_TRUE(cfg.global_scrape_protocols.empty());  // Prometheus's Accept
  EXPECT_TRUE(s.scrape_protocols.empty());
  EXPECT_EQ(s.fallback_format, std::nullopt);  // the text format
  EXPECT_TRUE(s.file_sd_configs.empty());
}

TEST(PrometheusReceiverConfig, AMinimalJobGetsTheDocumentedDefaults) {
  Config cfg;
  config::Errors errors;
  ASSERT_TRUE(testutil::DecodeYaml("config:\n"
                                   "  scrape_configs:\n"
                                   "    - job_name: j\n"
                                   "      static_configs: [{targets: ['127.0.0.1:9100']}]\n"
                                   "      pod_annotations_sd_configs: [{}]\n"
                                   "      relabel_configs: [{target_label: t}]\n",
                                   &cfg, &errors)
                  .ok())
      << errors.Joined();
  ASSERT_EQ(cfg.scrape_configs.size(), 1u);
  const ScrapeConfig& s = cfg.scrape_configs[0];
  EXPECT_EQ(s.job_name, "j");
  ASSERT_EQ(s.static_configs.size(), 1u);
  EXPECT_TRUE(s.static_configs[0].labels.empty());
  ASSERT_EQ(s.pod_annotations_sd_configs.size(), 1u);
  EXPECT_EQ(s.pod_annotations_sd_configs[0].file, "/etc/podinfo/annotations");
  EXPECT_EQ(s.pod_annotations_sd_configs[0].refresh_interval, absl::ZeroDuration());
  ASSERT_EQ(s.relabel_configs.size(), 1u);
  ExpectRelabel(s.relabel_configs[0], {}, ";", "(.*)", 0, "t", "$1", RelabelAction::kReplace);
  ScrapeConfig rest = s;
  rest.relabel_configs.clear();
  ExpectScrapeDefaults(rest);
  EXPECT_TRUE(cfg.Validate().ok());
}

TEST(PrometheusReceiverConfig, GlobalLimitsAreTheJobsDefaults) {
  Config cfg;
  config::Errors errors;
  ASSERT_TRUE(testutil::DecodeYaml("config:\n"
                                   "  global: {sample_limit: 0, label_limit: 40, body_size_limit: 1MiB}\n"
                                   "  scrape_configs:\n"
                                   "    - job_name: a\n"
                                   "      static_configs: [{targets: ['127.0.0.1:9100']}]\n"
                                   "    - job_name: b\n"
                                   "      sample_limit: 10\n"
                                   "      label_limit: 0\n"
                                   "      static_configs: [{targets: ['127.0.0.1:9100']}]\n",
                                   &cfg, &errors)
                  .ok())
      << errors.Joined();
  ASSERT_EQ(cfg.scrape_configs.size(), 2u);
  EXPECT_EQ(cfg.scrape_configs[0].sample_limit, 0);
  EXPECT_EQ(cfg.scrape_configs[0].label_limit, 40);
  EXPECT_EQ(cfg.scrape_configs[0].body_size_limit, 1u << 20);
  EXPECT_EQ(cfg.scrape_configs[1].sample_limit, 10);
  EXPECT_EQ(cfg.scrape_configs[1].label_limit, 0);
  EXPECT_TRUE(cfg.Validate().ok());
  cfg.scrape_configs[1].label_value_length_limit = -1;
  EXPECT_NE(cfg.Validate().message().find("label_value_length_limit must not be negative"), std::string::npos);
}

TEST(PrometheusReceiverConfig, TestdataDecodesToItsValues) {
  Config cfg;
  config::Errors errors;
  ASSERT_TRUE(testutil::DecodeComponentConfig(kTestdata, "receivers", "prometheus", &cfg, &errors).ok())
      << errors.Joined();
  EXPECT_EQ(cfg.global_scrape_interval, absl::Seconds(30));
  EXPECT_EQ(cfg.global_scrape_timeout, absl::Seconds(5));
  EXPECT_TRUE(cfg.trim_metric_suffixes);
  EXPECT_TRUE(cfg.use_start_time_metric);
  EXPECT_EQ(cfg.start_time_metric_regex, kDefaultStartTimeMetricRegex);
  EXPECT_TRUE(cfg.scrape_on_shutdown);
  EXPECT_EQ(cfg.initial_scrape_offset, absl::Seconds(2));
  EXPECT_TRUE(cfg.discovery_reload_on_startup);
  EXPECT_EQ(cfg.global_scrape_protocols, (Strings{"OpenMetricsText1.0.0", "PrometheusText0.0.4"}));
  ASSERT_EQ(cfg.scrape_configs.size(), 3u);
  for (const ScrapeConfig& s : cfg.scrape_configs) {
    EXPECT_TRUE(s.trim_metric_suffixes);  // the receiver's options reach every job
    EXPECT_TRUE(s.use_start_time_metric);
  }

  const ScrapeConfig& node = cfg.scrape_configs[0];
  EXPECT_EQ(node.job_name, "node");
  EXPECT_EQ(node.scrape_interval, absl::Seconds(15));
  EXPECT_EQ(node.scrape_timeout, absl::Seconds(10));
  EXPECT_EQ(node.metrics_path, "/metrics");
  EXPECT_EQ(node.scheme, "http");
  EXPECT_TRUE(node.honor_labels);
  EXPECT_FALSE(node.honor_timestamps);
  EXPECT_EQ(node.sample_limit, 20000);
  EXPECT_EQ(node.label_limit, 30);
  EXPECT_EQ(node.label_name_length_limit, 128);
  EXPECT_EQ(node.label_value_length_limit, 1024);
  EXPECT_EQ(node.body_size_limit, 16u << 20);
  ASSERT_EQ(node.static_configs.size(), 1u);
  EXPECT_EQ(node.static_configs[0].targets, (Strings{"127.0.0.1:9100", "127.0.0.1:9101"}));
  EXPECT_EQ(node.static_configs[0].labels, (Labels{{"env", "prod"}, {"team", "infra"}}));
  EXPECT_TRUE(node.pod_annotations_sd_configs.empty());
  ASSERT_EQ(node.relabel_configs.size(), 4u);
  ExpectRelabel(node.relabel_configs[0], {"__address__"}, ";", ".*:9101", 0, "", "$1", RelabelAction::kDrop);
  // "$$1" in the file is a literal "$1".
  ExpectRelabel(node.relabel_configs[1], {"__address__"}, ";", "([^:]+):(\\d+)", 0, "host", "$1",
                RelabelAction::kReplace);
  ExpectRelabel(node.relabel_configs[2], {"__address__"}, ";", "(.*)", 4, "shard", "$1", RelabelAction::kHashMod);
  ExpectRelabel(node.relabel_configs[3], {"__scheme__", "__address__"}, "://", "(.*)", 0, "endpoint", "$1",
                RelabelAction::kReplace);
  ASSERT_EQ(node.metric_relabel_configs.size(), 4u);
  ExpectRelabel(node.metric_relabel_configs[0], {"__name__"}, ";", "go_.*", 0, "", "$1", RelabelAction::kDrop);
  ExpectRelabel(node.metric_relabel_configs[1], {}, ";", "(pod_uid|container_id)", 0, "", "$1",
                RelabelAction::kLabelDrop);
  ExpectRelabel(node.metric_relabel_configs[2], {"__name__"}, ";", "node_(.*)", 0, "__name__", "host_${1}",
                RelabelAction::kReplace);
  ExpectRelabel(node.metric_relabel_configs[3], {"mountpoint"}, ";", "(.*)", 0, "mountpoint", "$1",
                RelabelAction::kLowercase);
  EXPECT_EQ(cfg.IntervalOf(node), absl::Seconds(15));
  EXPECT_EQ(cfg.TimeoutOf(node), absl::Seconds(10));

  const ScrapeConfig& blackbox = cfg.scrape_configs[1];
  EXPECT_EQ(blackbox.job_name, "blackbox");
  EXPECT_EQ(blackbox.metrics_path, "/probe");
  EXPECT_EQ(blackbox.params,
            (std::map<std::string, Strings>{{"module", {"http_2xx"}}, {"target", {"https://example.org"}}}));
  EXPECT_EQ(blackbox.scrape_protocols, Strings{"PrometheusText0.0.4"});
  EXPECT_EQ(blackbox.fallback_format, Format::kPrometheusText);
  EXPECT_EQ(cfg.scrape_configs[0].scrape_protocols, cfg.global_scrape_protocols);  // the global default
  EXPECT_EQ(cfg.scrape_configs[0].fallback_format, std::nullopt);
  EXPECT_EQ(blackbox.basic_auth_username, "prober");
  EXPECT_EQ(blackbox.basic_auth_password, "pa$word");  // "$$" is a literal "$"
  ASSERT_EQ(blackbox.static_configs.size(), 1u);
  EXPECT_EQ(blackbox.static_configs[0].targets, Strings{"127.0.0.1:9115"});
  EXPECT_TRUE(blackbox.static_configs[0].labels.empty());
  // Interval and timeout: the global ones.
  EXPECT_EQ(blackbox.scrape_interval, absl::ZeroDuration());
  EXPECT_EQ(cfg.IntervalOf(blackbox), absl::Seconds(30));
  EXPECT_EQ(cfg.TimeoutOf(blackbox), absl::Seconds(5));

  const ScrapeConfig& sidecar = cfg.scrape_configs[2];
  EXPECT_EQ(sidecar.job_name, "sidecar");
  EXPECT_TRUE(sidecar.static_configs.empty());
  ASSERT_EQ(sidecar.pod_annotations_sd_configs.size(), 1u);
  EXPECT_EQ(sidecar.pod_annotations_sd_configs[0].file, "/tmp/outrigger-testdata/podinfo/annotations");
  EXPECT_EQ(sidecar.pod_annotations_sd_configs[0].refresh_interval, absl::Seconds(20));
  ASSERT_EQ(sidecar.file_sd_configs.size(), 1u);
  EXPECT_EQ(sidecar.file_sd_configs[0].files, Strings{"/tmp/outrigger-testdata/targets/*.json"});
  EXPECT_EQ(sidecar.file_sd_configs[0].refresh_interval, absl::Minutes(1));
  ExpectScrapeDefaults(sidecar);
  EXPECT_TRUE(cfg.Validate().ok());
}

TEST(PrometheusReceiverConfig, TestdataSecureDecodesToItsValues) {
  unsetenv("SCRAPE_TOKEN");
  Config cfg;
  config::Errors errors;
  ASSERT_TRUE(testutil::DecodeComponentConfig(kTestdata, "receivers", "prometheus/secure", &cfg, &errors).ok())
      << errors.Joined();
  // No `global`: the defaults.
  EXPECT_EQ(cfg.global_scrape_interval, absl::Minutes(1));
  EXPECT_EQ(cfg.global_scrape_timeout, absl::Seconds(10));
  ASSERT_EQ(cfg.scrape_configs.size(), 2u);

  const ScrapeConfig& app = cfg.scrape_configs[0];
  EXPECT_EQ(app.job_name, "app");
  EXPECT_EQ(app.scheme, "https");
  EXPECT_EQ(app.authorization_type, "Bearer");
  EXPECT_EQ(app.authorization_credentials, "not-set");  // ${env:SCRAPE_TOKEN:-not-set}
  EXPECT_FALSE(app.tls.insecure_skip_verify);
  EXPECT_EQ(app.tls.ca_file, "/etc/ssl/certs/ca-certificates.crt");
  EXPECT_EQ(app.tls.cert_file, "/etc/outrigger/client.crt");
  EXPECT_EQ(app.tls.key_file, "/etc/outrigger/client.key");
  ASSERT_EQ(app.static_configs.size(), 1u);
  EXPECT_EQ(app.static_configs[0].targets, Strings{"127.0.0.1:8443"});
  EXPECT_EQ(cfg.IntervalOf(app), absl::Minutes(1));
  EXPECT_EQ(cfg.TimeoutOf(app), absl::Seconds(10));

  const ScrapeConfig& self_signed = cfg.scrape_configs[1];
  EXPECT_EQ(self_signed.job_name, "self-signed");
  EXPECT_EQ(self_signed.scheme, "https");
  EXPECT_EQ(self_signed.authorization_type, "Token");
  EXPECT_EQ(self_signed.authorization_credentials, "not-a-secret");
  EXPECT_TRUE(self_signed.tls.insecure_skip_verify);
  EXPECT_EQ(self_signed.tls.ca_file, "");
  ASSERT_EQ(self_signed.static_configs.size(), 1u);
  EXPECT_EQ(self_signed.static_configs[0].targets, Strings{"127.0.0.1:9443"});
  EXPECT_TRUE(cfg.Validate().ok());
}

TEST(PrometheusReceiverConfig, TestdataKubernetesDecodesToItsValues) {
  Config cfg;
  config::Errors errors;
  ASSERT_TRUE(testutil::DecodeComponentConfig(kTestdata, "receivers", "prometheus/kubernetes", &cfg, &errors).ok())
      << errors.Joined();
  ASSERT_EQ(cfg.scrape_configs.size(), 3u);
  ASSERT_EQ(cfg.scrape_configs[0].kubernetes_sd_configs.size(), 1u);
  const KubernetesSdConfig& pod = cfg.scrape_configs[0].kubernetes_sd_configs[0];
  EXPECT_EQ(pod.role, "pod");
  EXPECT_EQ(pod.api_server, "https://kubernetes.example.com:6443");
  EXPECT_EQ(pod.authorization_type, "Bearer");
  EXPECT_EQ(pod.authorization_credentials_file, "/var/run/secrets/kubernetes.io/serviceaccount/token");
  EXPECT_EQ(pod.tls.ca_file, "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt");
  EXPECT_EQ(pod.tls.cert_file, "/etc/outrigger/client.crt");
  EXPECT_EQ(pod.tls.key_file, "/etc/outrigger/client.key");
  EXPECT_FALSE(pod.tls.insecure_skip_verify);
  EXPECT_EQ(pod.namespaces, (Strings{"shop", "payments"}));
  EXPECT_TRUE(pod.own_namespace);
  ASSERT_EQ(pod.selectors.size(), 1u);
  EXPECT_EQ(pod.selectors[0].role, "pod");
  EXPECT_EQ(pod.selectors[0].label, "app.kubernetes.io/part-of=shop");
  EXPECT_EQ(pod.selectors[0].field, "status.phase=Running");
  const KubernetesSdConfig& node = cfg.scrape_configs[1].kubernetes_sd_configs[0];
  EXPECT_EQ(node.role, "node");
  EXPECT_EQ(node.kubeconfig_file, "/etc/outrigger/kubeconfig");
  EXPECT_FALSE(node.custom_http);
  const KubernetesSdConfig& svc = cfg.scrape_configs[2].kubernetes_sd_configs[0];
  EXPECT_EQ(svc.role, "service");
  EXPECT_EQ(svc.basic_auth_username, "prometheus");
  EXPECT_EQ(svc.basic_auth_password_file, "/etc/outrigger/api-password");
  EXPECT_TRUE(cfg.Validate().ok()) << cfg.Validate();
}

std::string Job(const std::string& sd) {
  return "config:\n  scrape_configs:\n  - job_name: k8s\n    kubernetes_sd_configs:\n" + sd;
}

TEST(PrometheusReceiverConfig, KubernetesSdDecodes) {
  Config cfg;
  config::Errors errors;
  ASSERT_TRUE(testutil::DecodeYaml(Job(R"(    - role: pod
      api_server: https://k8s.example.com:6443
      namespaces: {names: [shop, web], own_namespace: true}
      selectors: [{role: pod, label: "tier=web", field: "spec.nodeName=n1"}]
      bearer_token_file: /var/run/token
      tls_config: {ca_file: /ca.pem, insecure_skip_verify: true}
    - role: node
)"),
                                   &cfg, &errors)
                  .ok())
      << errors.Joined();
  ASSERT_EQ(cfg.scrape_configs[0].kubernetes_sd_configs.size(), 2u);
  const KubernetesSdConfig& k = cfg.scrape_configs[0].kubernetes_sd_configs[0];
  EXPECT_EQ(k.role, "pod");
  EXPECT_EQ(k.api_server, "https://k8s.example.com:6443");
  EXPECT_EQ(k.namespaces, (Strings{"shop", "web"}));
  EXPECT_TRUE(k.own_namespace);
  ASSERT_EQ(k.selectors.size(), 1u);
  EXPECT_EQ(k.selectors[0].label, "tier=web");
  EXPECT_EQ(k.selectors[0].field, "spec.nodeName=n1");
  EXPECT_EQ(k.authorization_type, "Bearer");
  EXPECT_EQ(k.authorization_credentials_file, "/var/run/token");
  EXPECT_EQ(k.tls.ca_file, "/ca.pem");
  EXPECT_TRUE(k.tls.insecure_skip_verify);
  // The defaults: in-cluster, every namespace, no selector.
  const KubernetesSdConfig& n = cfg.scrape_configs[0].kubernetes_sd_configs[1];
  EXPECT_EQ(n.api_server, "");
  EXPECT_EQ(n.kubeconfig_file, "");
  EXPECT_TRUE(n.namespaces.empty());
  EXPECT_FALSE(n.own_namespace);
  EXPECT_TRUE(n.selectors.empty());
  EXPECT_FALSE(n.custom_http);
  EXPECT_TRUE(cfg.Validate().ok()) << cfg.Validate();
}

TEST(PrometheusReceiverConfig, KubernetesSdRefusals) {
  for (const auto& [sd, want] : std::vector<std::pair<std::string, std::string>>{
           {"    - role: endpoints\n    - role: nodes\n", "unknown role \"nodes\""},
           {"    - role: endpointslice\n", "role: endpointslice is not supported"},
           {"    - role: ingress\n", "role: ingress is not supported"},
           {"    - role: pods\n", "unknown role \"pods\""},
           {"    - {role: pod, attach_metadata: {node: true}}\n", "true is not supported"},
           {"    - {role: pod, proxy_url: http://p:3128}\n", "no proxy support"},
           {"    - {role: pod, oauth2: {client_id: x}}\n", "oauth2"},
           {"    - {role: pod, api_server: https://x, kubeconfig_file: /k}\n", "mutually exclusive"},
       }) {
    Config cfg;
    config::Errors errors;
    EXPECT_FALSE(testutil::DecodeYaml(Job(sd), &cfg, &errors).ok()) << sd;
    EXPECT_NE(errors.Joined().find(want), std::string::npos) << sd << ": " << errors.Joined();
  }
  for (const auto& [sd, want] : std::vector<std::pair<std::string, std::string>>{
           {"    - {api_server: https://x}\n", "role is required"},
           {"    - {role: pod, api_server: x.example.com}\n", "is not an http:// or https:// URL"},
           {"    - {role: pod, bearer_token: t}\n", "please provide the 'api_server' URL explicitly"},
           {"    - {role: pod, kubeconfig_file: /k, tls_config: {ca_file: /c}}\n", "together with 'kubeconfig_file'"},
           {"    - {role: pod, selectors: [{role: node, label: a=b}]}\n", "supports only pod selectors"},
           {"    - {role: pod, selectors: [{role: pod, label: a=b}, {role: pod, field: x=y}]}\n", "given twice"},
       }) {
    Config cfg;
    config::Errors errors;
    ASSERT_TRUE(testutil::DecodeYaml(Job(sd), &cfg, &errors).ok()) << sd << errors.Joined();
    auto st = cfg.Validate();
    EXPECT_FALSE(st.ok()) << sd;
    EXPECT_NE(st.message().find(want), std::string::npos) << sd << ": " << st.message();
  }
}

}  // namespace
}  // namespace outrigger::receivers::prometheus
