#include "processors/k8s_attributes/config.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "tests/testutil/config_util.h"

namespace outrigger::processors::k8s_attributes {
namespace {

constexpr char kTestdata[] = "processors/k8s_attributes/testdata/config.yaml";

absl::Status Decode(std::string_view yaml, Config* c, config::Errors* errors) {
  absl::Status st = testutil::DecodeYaml(yaml, c, errors);
  if (!st.ok()) return st;
  return c->Validate();
}

TEST(K8sAttributesConfig, Defaults) {
  Config c;
  EXPECT_EQ(c.mode, "sidecar");
  EXPECT_EQ(c.auth_type, "serviceAccount");
  EXPECT_FALSE(c.passthrough);
  EXPECT_FALSE(c.overwrite);
  EXPECT_FALSE(c.wait_for_metadata);
  EXPECT_EQ(c.wait_for_metadata_timeout, absl::Seconds(10));
  EXPECT_EQ(c.pod_delete_grace, absl::Minutes(2));
  EXPECT_EQ(c.extract.metadata,
            (std::vector<std::string>{"k8s.namespace.name", "k8s.pod.name", "k8s.pod.uid", "k8s.pod.start_time",
                                      "k8s.deployment.name", "k8s.node.name"}));
  EXPECT_EQ(c.exclude_pods, (std::vector<std::string>{"jaeger-agent", "jaeger-collector"}));
  EXPECT_TRUE(c.pod_association.empty());
  EXPECT_EQ(c.sidecar.pod_name_env, "K8S_POD_NAME");
  EXPECT_EQ(c.sidecar.namespace_env, "K8S_NAMESPACE_NAME");
  EXPECT_EQ(c.sidecar.node_name_env, "K8S_NODE_NAME");
  EXPECT_EQ(c.sidecar.pod_uid_env, "K8S_POD_UID");
  EXPECT_EQ(c.sidecar.pod_ip_env, "K8S_POD_IP");
  EXPECT_EQ(c.sidecar.service_account_env, "K8S_SERVICE_ACCOUNT_NAME");
  EXPECT_EQ(c.sidecar.labels_file, "/etc/podinfo/labels");
  EXPECT_EQ(c.sidecar.annotations_file, "/etc/podinfo/annotations");
  EXPECT_EQ(c.sidecar.container_name_annotation, "kubectl.kubernetes.io/default-container");
  EXPECT_EQ(c.sidecar.refresh_interval, absl::Seconds(1));
  EXPECT_TRUE(c.Validate().ok()) << c.Validate();
}

TEST(K8sAttributesConfig, Testdata) {
  config::Errors errors;
  Config s;
  ASSERT_TRUE(testutil::DecodeComponentConfig(kTestdata, "processors", "k8s_attributes/sidecar", &s, &errors).ok())
      << errors.Joined();
  EXPECT_TRUE(s.Validate().ok()) << s.Validate();
  EXPECT_EQ(s.sidecar.pod_name_env, "MY_POD_NAME");
  EXPECT_EQ(s.sidecar.namespace_env, "MY_POD_NAMESPACE");
  EXPECT_EQ(s.sidecar.node_name_env, "K8S_NODE_NAME");
  EXPECT_EQ(s.sidecar.labels_file, "/podinfo/labels");
  EXPECT_EQ(s.sidecar.container_name, "app");
  EXPECT_EQ(s.sidecar.refresh_interval, absl::Seconds(5));
  ASSERT_EQ(s.extract.labels.size(), 2u);
  EXPECT_EQ(s.extract.labels[1].key_regex, "team\\.example\\.com/(.*)");
  EXPECT_EQ(s.extract.annotations[0].key, "git-sha");
  EXPECT_EQ(s.extract.annotations[0].from, "pod");
  EXPECT_TRUE(s.extract.otel_annotations);

  Config g;
  ASSERT_TRUE(testutil::DecodeComponentConfig(kTestdata, "processors", "k8s_attributes/gateway", &g, &errors).ok())
      << errors.Joined();
  EXPECT_TRUE(g.Validate().ok()) << g.Validate();
  EXPECT_TRUE(g.api());
  EXPECT_TRUE(g.wait_for_metadata);
  EXPECT_EQ(g.wait_for_metadata_timeout, absl::Seconds(30));
  EXPECT_EQ(g.pod_delete_grace, absl::Minutes(1));
  EXPECT_EQ(g.watch_sync_period, absl::Minutes(10));
  EXPECT_EQ(g.filter.namespace_, "production");
  ASSERT_EQ(g.filter.labels.size(), 1u);
  EXPECT_EQ(g.filter.labels[0].op, "exists");
  ASSERT_EQ(g.pod_association.size(), 3u);
  EXPECT_EQ(g.pod_association[1].size(), 2u);
  EXPECT_EQ(g.pod_association[2][0].from, "connection");
  EXPECT_EQ(g.exclude_pods, (std::vector<std::string>{"jaeger-agent", "istio-.*"}));
  EXPECT_EQ(g.extract.labels[0].from, "namespace");

  Config p;
  ASSERT_TRUE(testutil::DecodeComponentConfig(kTestdata, "processors", "k8sattributes/passthrough", &p, &errors).ok())
      << errors.Joined();
  EXPECT_TRUE(p.passthrough);
}

TEST(K8sAttributesConfig, Refusals) {
  struct Case {
    const char* yaml;
    const char* error;
  };
  ::setenv("K8SATTR_TEST_NODE", "node-7", 1);
  const Case cases[] = {
      {"auth_type: kubeConfig\nmode: api\n", "kubeConfig is not supported"},
      {"auth_type: magic\n", "not one of serviceAccount, none"},
      {"kube_config_path: /root/.kube/config\n", "kube_config_path is not supported"},
      {"mode: gateway\n", "mode"},
      {"extract:\n  metadata: [k8s.pod.colour]\n", "\"k8s.pod.colour\" is not a supported metadata field"},
      {"extract:\n  metadata: [service.name]\n", "not supported here"},
      {"extract:\n  metadata: [container.id]\n", "not available in mode: sidecar"},
      {"mode: api\nextract:\n  labels:\n    - key: a\n      key_regex: b\n", "only one option"},
      {"mode: api\nextract:\n  labels:\n    - key: a\n      from: deployment\n", "from: deployment is not supported"},
      {"mode: api\nextract:\n  labels:\n    - key: a\n      from: cluster\n", "not a valid choice for From"},
      {"extract:\n  labels:\n    - key: a\n      from: namespace\n", "needs the API (mode: api)"},
      {"mode: api\nextract:\n  annotations:\n    - key_regex: '('\n", "key_regex"},
      {"mode: api\nextract:\n  annotations:\n    - key: a\n      regex: 'x=(?P<value>.*)'\n", "regex is not supported"},
      {"mode: api\npod_association:\n  - sources:\n      - from: resource_attribute\n        name: k8s.pod.name\n",
       "identify a Pod together"},
      {"mode: api\npod_association:\n  - sources:\n      - from: magic\n", "not one of connection"},
      {"mode: api\npod_association:\n  - sources:\n      - from: resource_attribute\n        name: my.attr\n",
       "resource_attribute 'my.attr' is not supported"},
      {"mode: api\nfilter:\n  fields:\n    - key: a\n      op: exists\n", "not a valid field filter operation"},
      {"mode: api\nfilter:\n  node_from_env_var: K8SATTR_TEST_UNSET_VAR\n",
       "envvar \"K8SATTR_TEST_UNSET_VAR\" is not set"},
      {"filter:\n  node: n1\n", "set mode: api"},
      {"pod_association:\n  - sources:\n      - from: connection\n", "pod_association needs mode: api"},
      {"wait_for_metadata: true\n", "wait_for_metadata needs mode: api"},
      {"mode: api\nexclude:\n  pods:\n    - name: '('\n", "exclude.pods"},
      {"sidecar:\n  envs: {}\n", "unknown key"},
  };
  for (const auto& c : cases) {
    Config cfg;
    config::Errors errors;
    absl::Status st = Decode(c.yaml, &cfg, &errors);
    std::string all = std::string(st.message()) + "\n" + errors.Joined();
    EXPECT_NE(all.find(c.error), std::string::npos) << c.yaml << " gave: " << all;
  }
  Config ok;
  config::Errors errors;
  EXPECT_TRUE(Decode("mode: api\nfilter:\n  node_from_env_var: K8SATTR_TEST_NODE\n", &ok, &errors).ok())
      << errors.Joined();
  EXPECT_EQ(ok.NodeFilter(), "node-7");
  ::unsetenv("K8SATTR_TEST_NODE");
}

}  // namespace
}  // namespace outrigger::processors::k8s_attributes
