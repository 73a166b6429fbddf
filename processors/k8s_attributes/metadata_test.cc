// Name derivations, the Downward API file format, and the label/annotation rules.

#include "processors/k8s_attributes/metadata.h"

#include <gtest/gtest.h>

namespace outrigger::processors::k8s_attributes {
namespace {

TEST(K8sAttributesMetadata, WorkloadNames) {
  EXPECT_EQ(DeploymentFromReplicaSet("checkout-7d9f8b6c5d", "7d9f8b6c5d"), "checkout");
  EXPECT_EQ(DeploymentFromReplicaSet("checkout-7d9f8b6c5d", "other"), "");
  EXPECT_EQ(DeploymentFromReplicaSet("my-app-v2-5c4b7", ""), "my-app-v2");
  EXPECT_EQ(CronJobFromJob("nightly-report-28911520"), "nightly-report");
  EXPECT_EQ(CronJobFromJob("migrate-db"), "");
  EXPECT_EQ(CronJobFromJob("x-"), "");

  Workload d = DeriveWorkload("checkout-7d9f8b6c5d-x2x4z", {{"pod-template-hash", "7d9f8b6c5d"}, {"app", "checkout"}});
  EXPECT_EQ(d.replicaset, "checkout-7d9f8b6c5d");
  EXPECT_EQ(d.deployment, "checkout");
  EXPECT_EQ(d.statefulset, "");
  // A hash label that does not match the name derives nothing (a bare ReplicaSet's Pod
  // renamed, or a hand-made label).
  EXPECT_EQ(DeriveWorkload("web-abcde", {{"pod-template-hash", "zzz"}}).deployment, "");

  Workload s = DeriveWorkload(
      "kafka-2", {{"statefulset.kubernetes.io/pod-name", "kafka-2"}, {"controller-revision-hash", "kafka-6b8d7f"}});
  EXPECT_EQ(s.statefulset, "kafka");
  EXPECT_EQ(s.daemonset, "");

  Workload ds = DeriveWorkload("node-exporter-8kq2p",
                               {{"controller-revision-hash", "5d8c6f9b7"}, {"pod-template-generation", "3"}});
  EXPECT_EQ(ds.daemonset, "node-exporter");

  Workload j = DeriveWorkload(
      "nightly-report-28911520-q7w2x",
      {{"batch.kubernetes.io/job-name", "nightly-report-28911520"}, {"job-name", "nightly-report-28911520"}});
  EXPECT_EQ(j.job, "nightly-report-28911520");
  EXPECT_EQ(j.cronjob, "nightly-report");
  Workload old = DeriveWorkload("once-abc12", {{"job-name", "once"}});
  EXPECT_EQ(old.job, "once");
  EXPECT_EQ(old.cronjob, "");
}

TEST(K8sAttributesMetadata, DownwardApiFile) {
  // As the kubelet writes it (Go's %q).
  size_t bad = 0;
  StringMap m = ParseDownwardApiFile(
      "app=\"checkout\"\n"
      "pod-template-hash=\"7d9f8b6c5d\"\n"
      "kubectl.kubernetes.io/last-applied-configuration=\"{\\\"apiVersion\\\":\\\"v1\\\"}\\n\"\n"
      "note=\"tab\\there, unicode \\u00e9 \\U0001F600 and \\x41\"\n"
      "empty=\"\"\n"
      "broken=\"no end\n"
      "noequals\n"
      "bad-escape=\"\\q\"\n",
      &bad);
  EXPECT_EQ(m["app"], "checkout");
  EXPECT_EQ(m["pod-template-hash"], "7d9f8b6c5d");
  EXPECT_EQ(m["kubectl.kubernetes.io/last-applied-configuration"], "{\"apiVersion\":\"v1\"}\n");
  EXPECT_EQ(m["note"], "tab\there, unicode \xc3\xa9 \xf0\x9f\x98\x80 and A");
  EXPECT_EQ(m.count("empty"), 1u);
  EXPECT_EQ(m.count("broken"), 0u);
  EXPECT_EQ(bad, 3u);
  // Anything at all: no crash, only counted lines.
  std::string junk = "=\"\\";
  for (int i = 0; i < 256; ++i) junk.push_back(static_cast<char>(i));
  bad = 0;
  ParseDownwardApiFile(junk, &bad);
  ParseDownwardApiFile("a=\"\\u12\"\nb=\"\\x4\"\nc=\"\\U0011FFFF\"\nd=\"\\777\"\ne=\"\\7\"", &bad);
  EXPECT_GE(bad, 3u);
}

TEST(K8sAttributesMetadata, ExtractRules) {
  Config cfg;
  cfg.mode = "api";
  cfg.extract.labels = {{"app.label.component", "app.kubernetes.io/component", "", "pod"},
                        {"", "tier", "", "pod"},
                        {"$1", "", "team\\.example\\.com/(.*)", "pod"},
                        {"ns.${kind}", "", "(?P<kind>env|region)", "namespace"},
                        {"", "", "topology\\.kubernetes\\.io/.*", "node"}};
  cfg.extract.annotations = {{"commit", "git-commit", "", "pod"}};
  cfg.extract.otel_annotations = true;
  ASSERT_TRUE(cfg.Validate().ok()) << cfg.Validate();
  Extractor ex(cfg);
  EXPECT_TRUE(ex.Needs("pod"));
  EXPECT_TRUE(ex.Needs("namespace"));
  EXPECT_TRUE(ex.Needs("node"));

  Attrs out;
  ex.Labels("pod",
            {{"app.kubernetes.io/component", "api"},
             {"tier", "backend"},
             {"team.example.com/owner", "payments"},
             {"team.example.com/", "empty-capture"},
             {"unrelated", "x"}},
            &out);
  EXPECT_EQ(out, (Attrs{{"app.label.component", "api"}, {"k8s.pod.labels.tier", "backend"}, {"owner", "payments"}}));
  out.clear();
  ex.Labels("namespace", {{"env", "prod"}, {"region", "eu"}, {"environment", "no"}}, &out);
  EXPECT_EQ(out, (Attrs{{"ns.env", "prod"}, {"ns.region", "eu"}}));
  out.clear();
  ex.Labels("node", {{"topology.kubernetes.io/zone", "eu-1a"}}, &out);
  EXPECT_EQ(out, (Attrs{{"k8s.node.labels.topology.kubernetes.io/zone", "eu-1a"}}));
  out.clear();
  ex.Annotations("pod",
                 {{"git-commit", "abc123"},
                  {"resource.opentelemetry.io/service.name", "checkout"},
                  {"resource.opentelemetry.io/", "ignored"}},
                 &out);
  EXPECT_EQ(out, (Attrs{{"commit", "abc123"}, {"service.name", "checkout"}}));
}

}  // namespace
}  // namespace outrigger::processors::k8s_attributes
