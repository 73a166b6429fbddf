#include "receivers/prometheus/discovery.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "yaml-cpp/yaml.h"

namespace outrigger::receivers::prometheus {
namespace {

namespace fs = std::filesystem;

std::vector<RelabelConfig> Rules(const std::string& yaml) {
  config::Errors errors;
  YAML::Node list = YAML::Load(yaml);
  std::vector<RelabelConfig> out;
  for (size_t i = 0; i < list.size(); ++i) {
    config::Node n(list[i], StrCat("relabel_configs[", i, "]"), &errors);
    RelabelConfig r;
    r.Decode(n);
    n.Finish();
    out.push_back(std::move(r));
  }
  EXPECT_TRUE(errors.empty()) << errors.Joined();
  return out;
}

TEST(PromDurationTest, ParsesAndFormatsPrometheusDurations) {
  EXPECT_EQ(ParsePromDuration("15s"), absl::Seconds(15));
  EXPECT_EQ(ParsePromDuration("1m30s"), absl::Seconds(90));
  EXPECT_EQ(ParsePromDuration("1d2h"), absl::Hours(26));
  EXPECT_EQ(ParsePromDuration("500ms"), absl::Milliseconds(500));
  EXPECT_EQ(ParsePromDuration("0"), absl::ZeroDuration());
  EXPECT_EQ(ParsePromDuration(""), std::nullopt);
  EXPECT_EQ(ParsePromDuration("30s1m"), std::nullopt);  // out of order
  EXPECT_EQ(ParsePromDuration("1.5s"), std::nullopt);
  EXPECT_EQ(ParsePromDuration("10"), std::nullopt);
  EXPECT_EQ(FormatPromDuration(absl::Seconds(90)), "1m30s");
  EXPECT_EQ(FormatPromDuration(absl::Minutes(1)), "1m");
  EXPECT_EQ(FormatPromDuration(absl::Milliseconds(1500)), "1s500ms");
}

ScrapeConfig Job() {
  ScrapeConfig sc;
  sc.job_name = "app";
  sc.params = {{"module", {"http_2xx", "second"}}};
  return sc;
}

TEST(PopulateTargetTest, DefaultsInstanceAndUrlWithoutRelabeling) {
  ScrapeConfig sc = Job();
  auto t = PopulateTarget(sc, absl::Seconds(15), absl::Seconds(5), {{"__address__", "h:9100"}, {"env", "prod"}});
  ASSERT_TRUE(t.ok()) << t.status();
  ASSERT_TRUE(t->has_value());
  const ScrapeTarget& st = **t;
  EXPECT_EQ(st.address, "h:9100");
  EXPECT_EQ(st.url, "http://h:9100/metrics?module=http_2xx&module=second");
  EXPECT_EQ(st.interval, absl::Seconds(15));
  EXPECT_EQ(st.timeout, absl::Seconds(5));
  EXPECT_EQ(st.labels, (LabelSet{{"env", "prod"}, {"instance", "h:9100"}, {"job", "app"}}));
}

// What relabel_configs see and change: the defaults of the job, __param_*, and every
// "__" label removed afterwards.
TEST(PopulateTargetTest, RelabelingRewritesTheTarget) {
  ScrapeConfig sc = Job();
  sc.relabel_configs = Rules(R"y([
    {source_labels: [__scrape_interval__, __scrape_timeout__, __metrics_path__, __scheme__, job, __param_module],
     separator: ",", target_label: seen},
    {source_labels: [__address__], regex: "(.*):9100", target_label: __param_target, replacement: "http://$1"},
    {target_label: __address__, replacement: "blackbox:9115"},
    {target_label: __metrics_path__, replacement: /probe},
    {target_label: __scheme__, replacement: https},
    {target_label: __scrape_interval__, replacement: 1m},
    {source_labels: [__param_target], target_label: instance},
    {target_label: __tmp_scratch, replacement: x}])y");
  auto t = PopulateTarget(sc, absl::Seconds(15), absl::Seconds(5), {{"__address__", "h:9100"}});
  ASSERT_TRUE(t.ok()) << t.status();
  ASSERT_TRUE(t->has_value());
  const ScrapeTarget& st = **t;
  EXPECT_EQ(st.url, "https://blackbox:9115/probe?module=http_2xx&module=second&target=http%3A%2F%2Fh");
  EXPECT_EQ(st.interval, absl::Minutes(1));
  EXPECT_EQ(st.labels,
            (LabelSet{{"instance", "http://h"}, {"job", "app"}, {"seen", "15s,5s,/metrics,http,app,http_2xx"}}));
}

TEST(PopulateTargetTest, ParamLabelReplacesTheFirstValue) {
  ScrapeConfig sc = Job();
  sc.relabel_configs = Rules("[{target_label: __param_module, replacement: tcp}]");
  auto t = PopulateTarget(sc, absl::Seconds(15), absl::Seconds(5), {{"__address__", "h:1"}});
  ASSERT_TRUE(t.ok() && t->has_value());
  EXPECT_EQ((*t)->url, "http://h:1/metrics?module=tcp&module=second");
}

TEST(PopulateTargetTest, DroppedAndInvalidTargets) {
  ScrapeConfig sc = Job();
  sc.relabel_configs = Rules(R"y([{source_labels: [__address__], regex: ".*:9101", action: drop}])y");
  auto dropped = PopulateTarget(sc, absl::Seconds(15), absl::Seconds(5), {{"__address__", "h:9101"}});
  ASSERT_TRUE(dropped.ok());
  EXPECT_FALSE(dropped->has_value());
  auto kept = PopulateTarget(sc, absl::Seconds(15), absl::Seconds(5), {{"__address__", "h:9100"}});
  ASSERT_TRUE(kept.ok());
  EXPECT_TRUE(kept->has_value());

  auto error = [](const char* rules) {
    ScrapeConfig sc = Job();
    sc.relabel_configs = Rules(rules);
    auto t = PopulateTarget(sc, absl::Seconds(15), absl::Seconds(5), {{"__address__", "h:1"}});
    return t.ok() ? std::string("ok") : std::string(t.status().message());
  };
  EXPECT_EQ(error("[{regex: __address__, action: labeldrop}]"), "no __address__ (after relabeling)");
  EXPECT_EQ(error("[{target_label: __address__, replacement: \"h:1/x\"}]"), "__address__ \"h:1/x\" is not host:port");
  EXPECT_EQ(error("[{target_label: __scrape_interval__, replacement: soon}]"),
            "__scrape_interval__ \"soon\" is not a positive duration");
  EXPECT_EQ(error("[{target_label: __scrape_timeout__, replacement: 1m}]"),
            "__scrape_timeout__ \"1m\" is greater than __scrape_interval__ \"15s\"");
  EXPECT_EQ(error("[{target_label: __scheme__, replacement: ftp}]"), "__scheme__ \"ftp\" is not http or https");
}

TEST(AnnotationsTest, ParsesTheDownwardApiFormat) {
  // As the kubelet writes it: sorted keys, values quoted by Go's strconv.Quote.
  auto a = ParseAnnotationsFile(
      "kubectl.kubernetes.io/default-container=\"app\"\n"
      "note=\"line1\\nline2 \\\"quoted\\\" \\\\ tab\\t caf\\u00e9 \\x41\\101 \\U0001F600\"\n"
      "prometheus.io/port=\"8080\"\n"
      "prometheus.io/scrape=\"true\"\n"
      "\n"
      "empty=\"\"\n");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->at("kubectl.kubernetes.io/default-container"), "app");
  EXPECT_EQ(a->at("note"), "line1\nline2 \"quoted\" \\ tab\t caf\xC3\xA9 AA \xF0\x9F\x98\x80");
  EXPECT_EQ(a->at("prometheus.io/port"), "8080");
  EXPECT_EQ(a->at("empty"), "");
  EXPECT_TRUE(ParseAnnotationsFile("").ok());

  auto error = [](const char* text) {
    auto r = ParseAnnotationsFile(text);
    return r.ok() ? std::string("ok") : std::string(r.status().message());
  };
  EXPECT_EQ(error("a=\"1\"\nno equals sign\n"), "line 2: expected key=\"value\", got \"no equals sign\"");
  EXPECT_EQ(error("a=\"1\"\n\nb=unquoted\n"), "line 3: annotation \"b\": the value is not a double-quoted string");
  EXPECT_EQ(error("a=\"bad \\q escape\"\n"), "line 1: annotation \"a\": an unknown escape \\q");
  EXPECT_EQ(error("a=\"x\"y\"\n"), "line 1: annotation \"a\": an unescaped '\"' inside the value");
  EXPECT_EQ(error("a=\"\\u12\"\n"), "line 1: annotation \"a\": an invalid \\u escape");
  EXPECT_EQ(error("a=\"1\"\na=\"2\"\n"), "line 2: annotation \"a\" appears twice");
}

TEST(AnnotationsTest, GroupsFromPrometheusIoAnnotations) {
  auto none = GroupsFromAnnotations({{"prometheus.io/scrape", "false"}, {"prometheus.io/port", "8080"}});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  EXPECT_TRUE(GroupsFromAnnotations({{"prometheus.io/port", "8080"}})->empty());

  auto g = GroupsFromAnnotations({{"prometheus.io/scrape", "true"},
                                  {"prometheus.io/port", "8080"},
                                  {"prometheus.io/path", "/stats"},
                                  {"prometheus.io/scheme", "https"},
                                  {"team", ""}});
  ASSERT_TRUE(g.ok()) << g.status();
  ASSERT_EQ(g->size(), 1u);
  const LabelSet& l = (*g)[0];
  EXPECT_EQ(l.at("__address__"), "127.0.0.1:8080");
  EXPECT_EQ(l.at("__metrics_path__"), "/stats");
  EXPECT_EQ(l.at("__scheme__"), "https");
  EXPECT_EQ(l.at("__meta_kubernetes_pod_annotation_prometheus_io_port"), "8080");
  EXPECT_EQ(l.at("__meta_kubernetes_pod_annotationpresent_team"), "true");
  EXPECT_EQ(l.count("__meta_kubernetes_pod_annotation_team"), 0u);

  // Without path and scheme, the job's apply.
  auto plain = GroupsFromAnnotations({{"prometheus.io/scrape", "true"}, {"prometheus.io/port", "9"}});
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ((*plain)[0].count("__metrics_path__"), 0u);
  ScrapeConfig sc;
  sc.job_name = "pod";
  auto t = PopulateTarget(sc, absl::Seconds(15), absl::Seconds(5), (*plain)[0]);
  ASSERT_TRUE(t.ok() && t->has_value());
  EXPECT_EQ((*t)->url, "http://127.0.0.1:9/metrics");
  EXPECT_EQ((*t)->labels, (LabelSet{{"instance", "127.0.0.1:9"}, {"job", "pod"}}));  // no __meta_ left

  auto error = [](LabelSet a) {
    a["prometheus.io/scrape"] = "true";
    auto r = GroupsFromAnnotations(a);
    return r.ok() ? std::string("ok") : std::string(r.status().message());
  };
  EXPECT_NE(error({}).find("prometheus.io/port is not set"), std::string::npos);
  EXPECT_EQ(error({{"prometheus.io/port", "http"}}), "prometheus.io/port \"http\" is not a port number (1-65535)");
  EXPECT_EQ(error({{"prometheus.io/port", "70000"}}), "prometheus.io/port \"70000\" is not a port number (1-65535)");
  EXPECT_EQ(error({{"prometheus.io/port", "1"}, {"prometheus.io/path", "metrics"}}),
            "prometheus.io/path \"metrics\" does not start with '/'");
  EXPECT_EQ(error({{"prometheus.io/port", "1"}, {"prometheus.io/scheme", "ftp"}}),
            "prometheus.io/scheme \"ftp\" is not http or https");
}

// A Downward API volume as the kubelet lays it out: <dir>/annotations ->
// ..data/annotations, ..data -> ..<timestamp>/, replaced by an atomic rename of a new
// ..data symlink (its AtomicWriter).
class KubeletVolume {
 public:
  KubeletVolume() {
    char tmpl[] = "/tmp/outrigger-podinfo-XXXXXX";
    dir_ = mkdtemp(tmpl);
  }
  ~KubeletVolume() { fs::remove_all(dir_); }
  std::string file() const { return dir_ + "/annotations"; }
  void Write(const std::string& content) {
    const std::string ts = StrCat("..2024_01_01_00_00_00.", ++version_);
    fs::create_directory(dir_ + "/" + ts);
    std::ofstream(dir_ + "/" + ts + "/annotations") << content;
    fs::create_directory_symlink(ts, dir_ + "/..data_tmp");
    fs::rename(dir_ + "/..data_tmp", dir_ + "/..data");  // atomic
    if (!fs::exists(file(), ec_) && !fs::is_symlink(file())) fs::create_symlink("..data/annotations", file());
    if (!old_.empty()) fs::remove_all(dir_ + "/" + old_);
    old_ = ts;
  }

 private:
  std::string dir_, old_;
  int version_ = 0;
  std::error_code ec_;
};

TEST(PodAnnotationsDiscoveryTest, FollowsTheKubeletsSymlinkSwaps) {
  KubeletVolume vol;
  PodAnnotationsDiscovery d(vol.file());
  // Not there (yet): an error, once.
  auto r = d.Poll();
  EXPECT_FALSE(r.changed);
  EXPECT_NE(r.error.message().find("cannot read"), absl::string_view::npos) << r.error;
  EXPECT_TRUE(d.Poll().error.ok());

  vol.Write("prometheus.io/port=\"8080\"\nprometheus.io/scrape=\"true\"\n");
  r = d.Poll();
  EXPECT_TRUE(r.changed);
  EXPECT_TRUE(r.error.ok()) << r.error;
  ASSERT_EQ(d.groups().size(), 1u);
  EXPECT_EQ(d.groups()[0].at("__address__"), "127.0.0.1:8080");
  r = d.Poll();  // unchanged
  EXPECT_FALSE(r.changed);
  EXPECT_TRUE(r.error.ok());

  vol.Write("prometheus.io/port=\"9090\"\nprometheus.io/scrape=\"true\"\n");
  r = d.Poll();
  EXPECT_TRUE(r.changed);
  EXPECT_EQ(d.groups()[0].at("__address__"), "127.0.0.1:9090");

  // Malformed: reported (with the line) once, and the last good targets stay.
  vol.Write("prometheus.io/port=\"9090\"\nprometheus.io/scrape=true\n");
  r = d.Poll();
  EXPECT_FALSE(r.changed);
  EXPECT_EQ(r.error.message(), StrCat(vol.file(),
                                      ": line 2: annotation \"prometheus.io/scrape\": the value is not a "
                                      "double-quoted string"));
  ASSERT_EQ(d.groups().size(), 1u);
  EXPECT_EQ(d.groups()[0].at("__address__"), "127.0.0.1:9090");
  EXPECT_TRUE(d.Poll().error.ok());

  // An invalid port is an error too; the last good targets stay.
  vol.Write("prometheus.io/port=\"none\"\nprometheus.io/scrape=\"true\"\n");
  r = d.Poll();
  EXPECT_NE(r.error.message().find("prometheus.io/port \"none\""), absl::string_view::npos) << r.error;
  EXPECT_EQ(d.groups().size(), 1u);

  // The same content as the last good one: no change.
  vol.Write("prometheus.io/port=\"9090\"\nprometheus.io/scrape=\"true\"\n");
  r = d.Poll();
  EXPECT_FALSE(r.changed);
  EXPECT_TRUE(r.error.ok());

  vol.Write("prometheus.io/port=\"9090\"\nprometheus.io/scrape=\"false\"\n");
  r = d.Poll();
  EXPECT_TRUE(r.changed);
  EXPECT_TRUE(d.groups().empty());
}

// file_sd: Prometheus's target files, JSON or YAML.
TEST(FileSdTest, ParsesJsonAndYamlTargetGroups) {
  auto g = ParseFileSd(
      R"([{"targets": ["a:1", "b:2"], "labels": {"env": "prod"}}, {"targets": ["c:3"]}, {"labels": {"x": "y"}}])",
      "/etc/t.json");
  ASSERT_TRUE(g.ok()) << g.status();
  ASSERT_EQ(g->size(), 3u);
  EXPECT_EQ((*g)[0], (LabelSet{{"__address__", "a:1"}, {"__meta_filepath", "/etc/t.json"}, {"env", "prod"}}));
  EXPECT_EQ((*g)[1].at("__address__"), "b:2");
  EXPECT_EQ((*g)[2], (LabelSet{{"__address__", "c:3"}, {"__meta_filepath", "/etc/t.json"}}));
  g = ParseFileSd("- targets: [\"d:4\"]\n  labels:\n    team: a\n", "t.yml");
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_EQ((*g)[0], (LabelSet{{"__address__", "d:4"}, {"__meta_filepath", "t.yml"}, {"team", "a"}}));
  EXPECT_TRUE(ParseFileSd("", "e.json")->empty());
  EXPECT_EQ(ParseFileSd("{\"targets\": [\"a:1\"]}", "f").status().message(), "expected a list of {targets, labels}");
  EXPECT_EQ(ParseFileSd("[{\"target\": [\"a:1\"]}]", "f").status().message(),
            "[0]: unknown key \"target\" (targets, labels)");
  EXPECT_EQ(ParseFileSd("[{\"targets\": [\"a:1\"], \"labels\": {\"1x\": \"v\"}}]", "f").status().message(),
            "[0].labels: invalid label name \"1x\"");
  EXPECT_EQ(ParseFileSd("[{\"targets\": \"a:1\"}]", "f").status().message(), "[0].targets: expected a list");
  EXPECT_NE(ParseFileSd("[{", "f").status().message().find("not JSON or YAML"), absl::string_view::npos);
}

// Patterns, changes, and errors that keep the last good targets.
TEST(FileSdTest, DiscoveryFollowsTheFiles) {
  char tmpl[] = "/tmp/outrigger-filesd-XXXXXX";
  const std::string dir = mkdtemp(tmpl);
  FileSdDiscovery d({dir + "/*.json", dir + "/fixed.yml"});
  auto r = d.Poll();  // fixed.yml does not exist yet
  EXPECT_NE(r.error.message().find("cannot read " + dir + "/fixed.yml"), absl::string_view::npos) << r.error;
  EXPECT_TRUE(d.Poll().error.ok());  // reported once
  std::ofstream(dir + "/fixed.yml") << "- targets: ['f:1']\n";
  std::ofstream(dir + "/a.json") << R"([{"targets": ["a:1"]}])";
  std::ofstream(dir + "/ignored.txt") << R"([{"targets": ["x:1"]}])";
  r = d.Poll();
  EXPECT_TRUE(r.changed);
  EXPECT_TRUE(r.error.ok()) << r.error;
  ASSERT_EQ(d.groups().size(), 2u);
  EXPECT_EQ(d.groups()[0].at("__address__"), "a:1");
  EXPECT_EQ(d.groups()[0].at("__meta_filepath"), dir + "/a.json");
  EXPECT_EQ(d.groups()[1].at("__address__"), "f:1");
  EXPECT_FALSE(d.Poll().changed);
  std::ofstream(dir + "/b.json") << R"([{"targets": ["b:1"]}])";
  r = d.Poll();
  EXPECT_TRUE(r.changed);
  EXPECT_EQ(d.groups().size(), 3u);
  std::ofstream(dir + "/b.json") << "[{";  // malformed: the last good targets stay
  r = d.Poll();
  EXPECT_FALSE(r.changed);
  EXPECT_NE(r.error.message().find(dir + "/b.json: not JSON or YAML"), absl::string_view::npos) << r.error;
  EXPECT_EQ(d.groups().size(), 3u);
  fs::remove(dir + "/b.json");
  r = d.Poll();
  EXPECT_TRUE(r.changed);
  EXPECT_EQ(d.groups().size(), 2u);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace outrigger::receivers::prometheus
