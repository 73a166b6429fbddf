#include "receivers/prometheus/relabel.h"

#include <gtest/gtest.h>

#include <optional>

#include "yaml-cpp/yaml.h"

namespace outrigger::receivers::prometheus {
namespace {

// Rules decoded from Prometheus's YAML syntax by the real decoder; `errors` gets what it
// reports.
std::vector<RelabelConfig> Rules(const std::string& yaml, config::Errors* errors) {
  YAML::Node list = YAML::Load(yaml);
  std::vector<RelabelConfig> out;
  for (size_t i = 0; i < list.size(); ++i) {
    config::Node n(list[i], StrCat("relabel_configs[", i, "]"), errors);
    RelabelConfig r;
    r.Decode(n);
    n.Finish();
    out.push_back(std::move(r));
  }
  return out;
}

std::vector<RelabelConfig> Rules(const std::string& yaml) {
  config::Errors errors;
  auto rules = Rules(yaml, &errors);
  EXPECT_TRUE(errors.empty()) << errors.Joined();
  return rules;
}

struct Case {
  const char* name;
  LabelSet input;
  const char* rules;
  std::optional<LabelSet> output;  // nullopt: dropped
};

// The cases of Prometheus's model/relabel TestRelabel, plus a few of ours.
const Case kCases[] = {
    {"dot matches a newline, as Prometheus's (?s:)",
     {{"a", "line1\nline2"}},
     R"y([{source_labels: [a], regex: "line1.line2", action: keep},
         {source_labels: [a], target_label: b}])y",
     LabelSet{{"a", "line1\nline2"}, {"b", "line1\nline2"}}},
    {"replace with ${1} twice",
     {{"a", "foo"}, {"b", "bar"}, {"c", "baz"}},
     R"y([{source_labels: [a], regex: "f(.*)", target_label: d, replacement: "ch${1}-ch${1}"}])y",
     LabelSet{{"a", "foo"}, {"b", "bar"}, {"c", "baz"}, {"d", "choo-choo"}}},
    {"two source labels, then $1$2$2$3",
     {{"a", "foo"}, {"b", "bar"}, {"c", "baz"}},
     R"y([{source_labels: [a, b], regex: "f(.*);(.*)r", target_label: a, replacement: "b${1}${2}m"},
         {source_labels: [c, a], regex: "(b).*b(.*)ba(.*)", target_label: d, replacement: "$1$2$2$3"}])y",
     LabelSet{{"a", "boobam"}, {"b", "bar"}, {"c", "baz"}, {"d", "boooom"}}},
    {"drop stops the rules",
     {{"a", "foo"}},
     R"y([{source_labels: [a], regex: ".*o.*", action: drop},
         {source_labels: [a], regex: "f(.*)", target_label: d, replacement: "ch$1-ch$1"}])y",
     std::nullopt},
    {"drop on a match",
     {{"a", "foo"}, {"b", "bar"}},
     R"y([{source_labels: [a], regex: ".*o.*", action: drop}])y",
     std::nullopt},
    {"group in the middle",
     {{"a", "abc"}},
     R"y([{source_labels: [a], regex: ".*(b).*", target_label: d, replacement: "$1"}])y",
     LabelSet{{"a", "abc"}, {"d", "b"}}},
    {"drop without a match",
     {{"a", "foo"}},
     R"y([{source_labels: [a], regex: no-match, action: drop}])y",
     LabelSet{{"a", "foo"}}},
    {"the regex is anchored",
     {{"a", "foo"}},
     R"y([{source_labels: [a], regex: "f|o", action: drop}])y",
     LabelSet{{"a", "foo"}}},
    {"keep without a match",
     {{"a", "foo"}},
     R"y([{source_labels: [a], regex: no-match, action: keep}])y",
     std::nullopt},
    {"keep on a match",
     {{"a", "foo"}},
     R"y([{source_labels: [a], regex: "f.*", action: keep}])y",
     LabelSet{{"a", "foo"}}},
    {"no replacement without a match",
     {{"a", "boo"}},
     R"y([{source_labels: [a], regex: f, target_label: b, replacement: bar}])y",
     LabelSet{{"a", "boo"}}},
    {"hashmod",
     {{"a", "foo"}, {"b", "bar"}, {"c", "baz"}},
     R"y([{source_labels: [c], target_label: d, action: hashmod, modulus: 1000}])y",
     LabelSet{{"a", "foo"}, {"b", "bar"}, {"c", "baz"}, {"d", "976"}}},
    {"hashmod of a value with a newline",
     {{"a", "foo\nbar"}},
     R"y([{source_labels: [a], target_label: b, action: hashmod, modulus: 1000}])y",
     LabelSet{{"a", "foo\nbar"}, {"b", "734"}}},
    {"labelmap",
     {{"a", "foo"}, {"b1", "bar"}, {"b2", "baz"}},
     R"y([{regex: "(b.*)", replacement: "bar_${1}", action: labelmap}])y",
     LabelSet{{"a", "foo"}, {"b1", "bar"}, {"b2", "baz"}, {"bar_b1", "bar"}, {"bar_b2", "baz"}}},
    {"labelmap of meta labels",
     {{"a", "foo"}, {"__meta_my_bar", "aaa"}, {"__meta_my_baz", "bbb"}, {"__meta_other", "ccc"}},
     R"y([{regex: "__meta_(my.*)", replacement: "${1}", action: labelmap}])y",
     LabelSet{{"a", "foo"},
              {"__meta_my_bar", "aaa"},
              {"__meta_my_baz", "bbb"},
              {"__meta_other", "ccc"},
              {"my_bar", "aaa"},
              {"my_baz", "bbb"}}},
    {"target_label from a group",
     {{"a", "some-name-value"}},
     R"y([{source_labels: [a], regex: "some-([^-]+)-([^,]+)", replacement: "${2}", target_label: "${1}"}])y",
     LabelSet{{"a", "some-name-value"}, {"name", "value"}}},
    {"a replacement of a missing group is empty: nothing is set",
     {{"a", "some-name-value"}},
     R"y([{source_labels: [a], regex: "some-([^-]+)-([^,]+)", replacement: "${3}", target_label: "${1}"}])y",
     LabelSet{{"a", "some-name-value"}}},
    {"an invalid expanded target_label is skipped",
     {{"a", "some-name-0"}},
     R"y([{source_labels: [a], regex: "some-([^-]+)-([^,]+)", replacement: "${1}", target_label: "${3}"},
         {source_labels: [a], regex: "some-([^-]+)(-[^,]+)", replacement: "${1}", target_label: "${3}"}])y",
     LabelSet{{"a", "some-name-0"}}},
    {"real-life tags",
     {{"__meta_sd_tags", "path:/secret,job:some-job,label:foo=bar"}},
     R"y([{source_labels: [__meta_sd_tags], regex: "(?:.+,|^)path:(/[^,]+).*", replacement: "${1}",
          target_label: __metrics_path__},
         {source_labels: [__meta_sd_tags], regex: "(?:.+,|^)job:([^,]+).*", replacement: "${1}", target_label: job},
         {source_labels: [__meta_sd_tags], regex: "(?:.+,|^)label:([^=]+)=([^,]+).*", replacement: "${2}",
          target_label: "${1}"}])y",
     LabelSet{{"__meta_sd_tags", "path:/secret,job:some-job,label:foo=bar"},
              {"__metrics_path__", "/secret"},
              {"job", "some-job"},
              {"foo", "bar"}}},
    {"prometheus#12283: labeldrop, then replace, then keep",
     {{"__meta_kubernetes_pod_container_port_name", "foo"},
      {"__meta_kubernetes_pod_annotation_XXX_metrics_port", "9091"}},
     R"y([{regex: "^__meta_kubernetes_pod_container_port_name$", action: labeldrop},
         {source_labels: [__meta_kubernetes_pod_annotation_XXX_metrics_port], regex: "(.+)", replacement: metrics,
          target_label: __meta_kubernetes_pod_container_port_name},
         {source_labels: [__meta_kubernetes_pod_container_port_name], regex: "^metrics$", action: keep}])y",
     LabelSet{{"__meta_kubernetes_pod_annotation_XXX_metrics_port", "9091"},
              {"__meta_kubernetes_pod_container_port_name", "metrics"}}},
    {"labelkeep",
     {{"a", "foo"}, {"b1", "bar"}, {"b2", "baz"}},
     R"y([{regex: "(b.*)", action: labelkeep}])y",
     LabelSet{{"b1", "bar"}, {"b2", "baz"}}},
    {"labeldrop",
     {{"a", "foo"}, {"b1", "bar"}, {"b2", "baz"}},
     R"y([{regex: "(b.*)", action: labeldrop}])y",
     LabelSet{{"a", "foo"}}},
    {"uppercase and lowercase",
     {{"foo", "bAr123Foo"}},
     R"y([{source_labels: [foo], action: uppercase, target_label: foo_uppercase},
         {source_labels: [foo], action: lowercase, target_label: foo_lowercase}])y",
     LabelSet{{"foo", "bAr123Foo"}, {"foo_lowercase", "bar123foo"}, {"foo_uppercase", "BAR123FOO"}}},
    {"keepequal, equal",
     {{"__tmp_port", "1234"}, {"__port1", "1234"}, {"__port2", "5678"}},
     R"y([{source_labels: [__tmp_port], action: keepequal, target_label: __port1}])y",
     LabelSet{{"__tmp_port", "1234"}, {"__port1", "1234"}, {"__port2", "5678"}}},
    {"dropequal, equal",
     {{"__tmp_port", "1234"}, {"__port1", "1234"}, {"__port2", "5678"}},
     R"y([{source_labels: [__tmp_port], action: dropequal, target_label: __port1}])y",
     std::nullopt},
    {"dropequal, different",
     {{"__tmp_port", "1234"}, {"__port1", "1234"}, {"__port2", "5678"}},
     R"y([{source_labels: [__tmp_port], action: dropequal, target_label: __port2}])y",
     LabelSet{{"__tmp_port", "1234"}, {"__port1", "1234"}, {"__port2", "5678"}}},
    {"keepequal, different",
     {{"__tmp_port", "1234"}, {"__port1", "1234"}, {"__port2", "5678"}},
     R"y([{source_labels: [__tmp_port], action: keepequal, target_label: __port2}])y",
     std::nullopt},
    // Ours.
    {"defaults: replace (.*) with $1 copies a label",
     {{"a", "x"}},
     R"y([{source_labels: [a], target_label: b}])y",
     LabelSet{{"a", "x"}, {"b", "x"}}},
    {"no source_labels: a constant label",
     {{"a", "x"}},
     R"y([{target_label: env, replacement: prod}])y",
     LabelSet{{"a", "x"}, {"env", "prod"}}},
    {"an empty result removes the target label",
     {{"a", "x"}, {"b", "y"}},
     R"y([{target_label: b, replacement: ""}])y",
     LabelSet{{"a", "x"}}},
    {"separator",
     {{"a", "1"}, {"b", "2"}},
     R"y([{source_labels: [a, b], separator: "-", target_label: c}])y",
     LabelSet{{"a", "1"}, {"b", "2"}, {"c", "1-2"}}},
    {"a missing source label is empty",
     {{"a", "1"}},
     R"y([{source_labels: [a, missing], regex: "1;", target_label: c, replacement: matched}])y",
     LabelSet{{"a", "1"}, {"c", "matched"}}},
    {"Go expansion: $1x is ${1x} (empty), $$ is $, ${name} is a named group",
     {{"a", "ab"}},
     R"y([{source_labels: [a], regex: "(?P<first>a)(b)", target_label: x, replacement: "$1x|${1}x|$$1|${first}-$2|$"}])y",
     LabelSet{{"a", "ab"}, {"x", "|ax|$1|a-b|$"}}},
    {"the action is case-insensitive",
     {{"a", "foo"}},
     R"y([{source_labels: [a], regex: foo, action: Drop}])y",
     std::nullopt},
    {"dot matches a newline in drop too",
     {{"a", "foo\nbar"}},
     R"y([{source_labels: [a], regex: "foo.bar", action: drop}])y",
     std::nullopt},
};

TEST(RelabelTest, PrometheusCases) {
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.name);
    auto rules = Rules(c.rules);
    LabelSet labels = c.input;
    const bool kept = Relabel(rules, &labels);
    EXPECT_EQ(kept, c.output.has_value());
    if (kept && c.output) {
      EXPECT_EQ(labels, *c.output);
    }
  }
}

TEST(RelabelTest, Md5MatchesTheRfc) {
  EXPECT_EQ(Md5Hex(""), "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(Md5Hex("The quick brown fox jumps over the lazy dog"), "9e107d9d372bb6826bd81d3542a419d6");
  EXPECT_EQ(Md5Hex("12345678901234567890123456789012345678901234567890123456789012345678901234567890"),
            "57edf4a22be3c955ac49da2e2107b67a");  // two blocks
}

TEST(RelabelTest, DefaultsAreFilledIn) {
  auto rules = Rules("[{target_label: x}]");
  ASSERT_EQ(rules.size(), 1u);
  EXPECT_EQ(rules[0].action, RelabelAction::kReplace);
  EXPECT_EQ(rules[0].separator, ";");
  EXPECT_EQ(rules[0].regex, "(.*)");
  EXPECT_EQ(rules[0].replacement, "$1");
  EXPECT_TRUE(rules[0].compiled());
}

// Invalid rules: each error has the YAML path of the key and its line.
TEST(RelabelTest, ConfigErrorsHaveThePathAndLine) {
  struct Bad {
    const char* yaml;
    const char* expected;
  };
  const Bad kBad[] = {
      {"- source_labels: [a]\n  regex: \"(unclosed\"\n  target_label: b\n",
       "relabel_configs[0].regex (line 2): invalid regular expression \"(unclosed\": missing )"},
      {"- action: replac\n  target_label: b\n",
       "relabel_configs[0].action (line 1): unknown relabel action \"replac\"; valid: replace, keep, drop"},
      {"- source_labels: [a]\n  action: replace\n",
       "relabel_configs[0].target_label (line 1): the replace action requires target_label"},
      {"- source_labels: [a]\n  action: hashmod\n  target_label: h\n",
       "relabel_configs[0].modulus (line 1): the hashmod action requires a non-zero modulus"},
      {"- source_labels: [a]\n  action: hashmod\n  target_label: h\n  modulus: 0\n",
       "relabel_configs[0].modulus (line 4): the hashmod action requires a non-zero modulus"},
      {"- source_labels: [a]\n  target_label: \"-${3}\"\n",
       "relabel_configs[0].target_label (line 2): \"-${3}\" is not a valid target_label for replace"},
      {"- source_labels: [a]\n  target_label: \"0${3}\"\n",
       "relabel_configs[0].target_label (line 2): \"0${3}\" is not a valid target_label for replace"},
      {"- source_labels: [a]\n  action: lowercase\n  target_label: \"${3}\"\n",
       "relabel_configs[0].target_label (line 3): \"${3}\" is not a valid target_label for lowercase"},
      {"- source_labels: [a]\n  action: labeldrop\n  regex: x\n",
       "relabel_configs[0].action (line 2): the labeldrop action takes only regex"},
      {"- source_labels: [a]\n  action: keepequal\n  target_label: b\n  regex: x\n",
       "relabel_configs[0].action (line 2): the keepequal action takes only source_labels and target_label"},
      {"- source_labels: [\"a-b\"]\n  target_label: b\n",
       "relabel_configs[0].source_labels (line 1): \"a-b\" is not a valid label name"},
      {"- regex: \"(.*)\"\n  action: labelmap\n  replacement: \"-$1\"\n",
       "relabel_configs[0].replacement (line 3): \"-$1\" is not a valid replacement for labelmap"},
      {"- target_label: b\n  modulus: -1\n", "relabel_configs[0].modulus (line 2): expected a non-negative integer"},
      {"- target_label: b\n  sourcelabels: [a]\n",
       "relabel_configs[0].sourcelabels (line 2): unknown key; did you mean 'source_labels'?"},
  };
  for (const Bad& b : kBad) {
    SCOPED_TRACE(b.yaml);
    config::Errors errors;
    Rules(b.yaml, &errors);
    ASSERT_EQ(errors.list().size(), 1u) << errors.Joined();
    EXPECT_EQ(errors.list()[0].substr(0, std::string(b.expected).size()), b.expected) << errors.list()[0];
  }
  // Valid: a target_label made of references, as Prometheus allows for replace.
  config::Errors errors;
  Rules("- source_labels: [a]\n  regex: \"some-([^-]+)-([^,]+)\"\n  target_label: \"${3}\"\n", &errors);
  EXPECT_TRUE(errors.empty()) << errors.Joined();
}

}  // namespace
}  // namespace outrigger::receivers::prometheus
