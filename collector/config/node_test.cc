#include "collector/config/node.h"

#include <gtest/gtest.h>
#include <stdlib.h>

namespace outrigger::config {
namespace {

TEST(ExpandEnv, AllForms) {
  setenv("OUTRIGGER_T1", "value1", 1);
  unsetenv("OUTRIGGER_UNSET");
  std::string err;
  EXPECT_EQ(ExpandEnv("a-${env:OUTRIGGER_T1}-b", &err), "a-value1-b");
  EXPECT_EQ(ExpandEnv("${OUTRIGGER_T1}", &err), "value1");
  EXPECT_EQ(ExpandEnv("${env:OUTRIGGER_UNSET:-fallback}", &err), "fallback");
  EXPECT_EQ(ExpandEnv("${env:OUTRIGGER_T1:-fallback}", &err), "value1");
  EXPECT_EQ(ExpandEnv("${OUTRIGGER_UNSET}", &err), "");
  EXPECT_EQ(ExpandEnv("cost $$5", &err), "cost $5");
  EXPECT_TRUE(err.empty());
  ExpandEnv("${unterminated", &err);
  EXPECT_NE(err.find("unterminated"), std::string::npos);
}

// As the OpenTelemetry Collector: "$$" is a literal "$", a "$" not followed by "{" or
// "$" stays, and "${...}" must name a valid variable (so a regex group reference written
// "${1}" is an error that says to write "$${1}", not silently "").
TEST(ExpandEnv, DollarEscapingForRegexReplacements) {
  std::string err;
  EXPECT_EQ(ExpandEnv("$$1", &err), "$1");
  EXPECT_EQ(ExpandEnv("$1", &err), "$1");
  EXPECT_EQ(ExpandEnv("$${1}:$$2", &err), "${1}:$2");
  EXPECT_EQ(ExpandEnv("$$$$", &err), "$$");
  EXPECT_TRUE(err.empty()) << err;
  ExpandEnv("${1}", &err);
  EXPECT_NE(err.find("invalid environment variable name \"1\""), std::string::npos) << err;
  EXPECT_NE(err.find("$${1}"), std::string::npos) << err;
  err.clear();
  ExpandEnv("${bad-name}", &err);
  EXPECT_NE(err.find("invalid environment variable name"), std::string::npos) << err;
  err.clear();
  Errors errors;
  LoadAndMerge({{"p.yaml", "a:\n  replacement: ${1}\n"}}, &errors);
  ASSERT_EQ(errors.list().size(), 1u);
  EXPECT_NE(errors.list()[0].find("a.replacement (line 2)"), std::string::npos) << errors.Joined();
}

TEST(LoadAndMerge, LaterFilesWinAndMapsMerge) {
  Errors errors;
  auto root = LoadAndMerge({{"a.yaml", "receivers:\n  otlp:\n    x: 1\n    y: 2\nlist: [1, 2]\n"},
                            {"b.yaml", "receivers:\n  otlp:\n    y: 3\nlist: [9]\n"}},
                           &errors);
  ASSERT_TRUE(errors.empty()) << errors.Joined();
  EXPECT_EQ(root["receivers"]["otlp"]["x"].as<int>(), 1);
  EXPECT_EQ(root["receivers"]["otlp"]["y"].as<int>(), 3);
  EXPECT_EQ(root["list"].size(), 1u);
}

TEST(LoadAndMerge, ExpandsEnvInValues) {
  setenv("OUTRIGGER_PORT", "4444", 1);
  Errors errors;
  auto root = LoadAndMerge({{"a.yaml", "endpoint: 127.0.0.1:${env:OUTRIGGER_PORT}\n"}}, &errors);
  EXPECT_EQ(root["endpoint"].as<std::string>(), "127.0.0.1:4444");
}

TEST(LoadAndMerge, InvalidYamlHasTheLine) {
  Errors errors;
  LoadAndMerge({{"bad.yaml", "a: 1\nb: [unclosed\n"}}, &errors);
  ASSERT_EQ(errors.list().size(), 1u);
  EXPECT_NE(errors.list()[0].find("bad.yaml"), std::string::npos);
  EXPECT_NE(errors.list()[0].find("invalid YAML"), std::string::npos);
}

struct Sample {
  std::string endpoint = "default";
  int n = 1;
  absl::Duration timeout = absl::Seconds(1);
  uint64_t size = 0;
  bool flag = false;
};

TEST(Node, ReadsTypedValuesAndKeepsDefaults) {
  Errors errors;
  YAML::Node y = YAML::Load("n: 5\ntimeout: 1m30s\nsize: 10MiB\nflag: true\n");
  Node node(y, "receivers.x", &errors);
  Sample s;
  node.Read("endpoint", &s.endpoint);
  node.Read("n", &s.n);
  node.Read("timeout", &s.timeout);
  node.ReadBytes("size", &s.size);
  node.Read("flag", &s.flag);
  node.Finish();
  EXPECT_TRUE(errors.empty()) << errors.Joined();
  EXPECT_EQ(s.endpoint, "default");
  EXPECT_EQ(s.n, 5);
  EXPECT_EQ(s.timeout, absl::Seconds(90));
  EXPECT_EQ(s.size, 10u << 20);
  EXPECT_TRUE(s.flag);
}

TEST(Node, UnknownKeyGivesPathLineAndSuggestion) {
  Errors errors;
  YAML::Node y = YAML::Load("protocols:\n  grpc:\n    endpint: 1\n");
  Node node(y, "receivers.otlp", &errors);
  std::string endpoint;
  node.Child("protocols").Child("grpc").Read("endpoint", &endpoint);
  node.Finish();
  ASSERT_EQ(errors.list().size(), 1u);
  EXPECT_EQ(errors.list()[0], "receivers.otlp.protocols.grpc.endpint (line 3): unknown key; did you mean 'endpoint'?");
}

TEST(Node, TypeErrorsAreReportedEachOne) {
  Errors errors;
  YAML::Node y = YAML::Load("n: five\ntimeout: 10\nsize: lots\nflag: maybe\n");
  Node node(y, "x", &errors);
  Sample s;
  node.Read("n", &s.n);
  node.Read("timeout", &s.timeout);
  node.ReadBytes("size", &s.size);
  node.Read("flag", &s.flag);
  node.Finish();
  ASSERT_EQ(errors.list().size(), 4u) << errors.Joined();
  EXPECT_NE(errors.list()[0].find("x.n (line 1): expected an integer"), std::string::npos);
  EXPECT_NE(errors.list()[1].find("a unit is required"), std::string::npos);
  EXPECT_EQ(s.n, 1);  // unchanged on error
}

// Durations read as Go reads them (µs too), and each way one can be wrong has its reason.
TEST(Node, DurationErrorsSayWhatIsWrong) {
  Errors errors;
  YAML::Node y = YAML::Load("bare: 10\nnegative: -5s\nunit: 5x\nok: 1m30s\nmicro: 250µs\n");
  Node node(y, "x", &errors);
  absl::Duration bare = absl::Seconds(1), negative = absl::Seconds(1), unit = absl::Seconds(1), ok, micro;
  node.Read("bare", &bare);
  node.Read("negative", &negative);
  node.Read("unit", &unit);
  node.Read("ok", &ok);
  node.Read("micro", &micro);
  node.Finish();
  ASSERT_EQ(errors.list().size(), 3u) << errors.Joined();
  EXPECT_NE(errors.list()[0].find("got \"10\" (a unit is required: ns, us, ms, s, m or h)"), std::string::npos)
      << errors.list()[0];
  EXPECT_NE(errors.list()[1].find("got \"-5s\" (a duration cannot be negative)"), std::string::npos)
      << errors.list()[1];
  EXPECT_NE(errors.list()[2].find("got \"5x\" (not a number followed by a unit: ns, us, ms, s, m or h)"),
            std::string::npos)
      << errors.list()[2];
  EXPECT_EQ(negative, absl::Seconds(1));  // unchanged on error
  EXPECT_EQ(ok, absl::Seconds(90));
  EXPECT_EQ(micro, absl::Microseconds(250));
}

TEST(Node, EnumListsAllowedValues) {
  Errors errors;
  YAML::Node y = YAML::Load("verbosity: loud\n");
  Node node(y, "exporters.debug", &errors);
  std::string v = "basic";
  node.ReadEnum("verbosity", &v, {"basic", "normal", "detailed"});
  ASSERT_EQ(errors.list().size(), 1u);
  EXPECT_NE(errors.list()[0].find("not one of: basic, normal, detailed"), std::string::npos);
}

TEST(Suggest, OnlyCloseWords) {
  EXPECT_EQ(Suggest("endpint", {"endpoint", "timeout"}).value_or(""), "endpoint");
  EXPECT_FALSE(Suggest("zzzzzz", {"endpoint", "timeout"}).has_value());
}

TEST(ParseBytes, Units) {
  EXPECT_EQ(ParseBytes("1024").value(), 1024u);
  EXPECT_EQ(ParseBytes("64KiB").value(), 65536u);
  EXPECT_EQ(ParseBytes("1MB").value(), 1000000u);
  EXPECT_FALSE(ParseBytes("ten").has_value());
  EXPECT_FALSE(ParseBytes("5 parsecs").has_value());
}

TEST(ParseBytes, TooLargeIsNotASize) {
  EXPECT_FALSE(ParseBytes("99999999999999999999999999").has_value());
  EXPECT_FALSE(ParseBytes("20000000000GiB").has_value());
  EXPECT_EQ(ParseBytes("16GiB").value(), 16ull << 30);
}

// Every reader given every wrong shape: an error naming the key's path, never a throw,
// and the value keeps its default.
TEST(Node, EveryReaderRefusesEveryWrongShape) {
  for (const char* shape :
       {"[a, b]", "[{a: 1}]", "{k: v}", "''", "99999999999999999999999999", "1e999", "[[[]]]", "{k: [1, {m: 2}]}"}) {
    Errors errors;
    YAML::Node y = YAML::Load(std::string("v: ") + shape + "\n");
    Node node(y, "r", &errors);
    std::string s = "d";
    bool b = false;
    int64_t i64 = 7;
    int i = 7;
    uint64_t u = 7, bytes = 7;
    double d = 7;
    absl::Duration dur = absl::Seconds(7);
    std::vector<std::string> list = {"d"};
    std::map<std::string, std::string> map = {{"d", "d"}};
    std::map<std::string, std::vector<std::string>> lists = {{"d", {"d"}}};
    std::string e = "a";
    ASSERT_NO_THROW({
      node.Read("v", &s);
      node.Read("v", &b);
      node.Read("v", &i64);
      node.Read("v", &i);
      node.Read("v", &u);
      node.Read("v", &d);
      node.Read("v", &dur);
      node.Read("v", &list);
      node.Read("v", &map);
      node.Read("v", &lists);
      node.ReadBytes("v", &bytes);
      node.ReadEnum("v", &e, {"a", "b"});
      node.Child("v").Read("x", &s);
      for (Node* item : node.ReadMappings("v")) item->Read("a", &s);
      node.Value("v").Items();
      node.Value("v").Entries();
      node.Finish();
    }) << shape;
    EXPECT_FALSE(errors.empty()) << shape;
    for (const auto& err : errors.list()) EXPECT_EQ(err.rfind("r.v", 0), 0u) << shape << ": " << err;
    EXPECT_EQ(i, 7) << shape;
    EXPECT_EQ(dur, absl::Seconds(7)) << shape;
    if (shape[0] == '[' || shape[0] == '{' || std::string(shape) == "1e999") {
      EXPECT_EQ(d, 7) << shape;
    }
  }
}

TEST(Node, ListsOfMappingsHaveAPathAndLinePerItem) {
  Errors errors;
  YAML::Node y = YAML::Load("jobs:\n  - name: a\n  - just a string\n  - name: c\n    nmae: typo\n");
  Node node(y, "receivers.x", &errors);
  std::vector<std::string> names;
  for (Node* item : node.ReadMappings("jobs")) {
    std::string n;
    item->Read("name", &n);
    names.push_back(n);
  }
  node.Finish();
  EXPECT_EQ(names, (std::vector<std::string>{"a", "c"}));
  ASSERT_EQ(errors.list().size(), 2u) << errors.Joined();
  EXPECT_EQ(errors.list()[0], "receivers.x.jobs[1] (line 3): expected a mapping");
  EXPECT_EQ(errors.list()[1], "receivers.x.jobs[2].nmae (line 5): unknown key; did you mean 'name'?");
}

TEST(Node, MapsOfStringListsAcceptASingleString) {
  Errors errors;
  YAML::Node y = YAML::Load("params: {module: [http_2xx, tcp], target: one}\nbad: {module: [{a: 1}]}\n");
  Node node(y, "s", &errors);
  std::map<std::string, std::vector<std::string>> params, bad;
  node.Read("params", &params);
  node.Read("bad", &bad);
  EXPECT_EQ(params["module"], (std::vector<std::string>{"http_2xx", "tcp"}));
  EXPECT_EQ(params["target"], (std::vector<std::string>{"one"}));
  EXPECT_TRUE(bad.empty());
  ASSERT_EQ(errors.list().size(), 1u) << errors.Joined();
  EXPECT_EQ(errors.list()[0], "s.bad.module[0] (line 2): expected a string");
}

TEST(Node, ValuesOfAnyShape) {
  Errors errors;
  YAML::Node y = YAML::Load("value: {a: 1, b: [x, 'y'], c: '2'}\n");
  Node node(y, "op", &errors);
  Node& v = node.Value("value");
  ASSERT_TRUE(v.IsMap());
  auto entries = v.Entries();
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[0].first, "a");
  EXPECT_TRUE(entries[0].second->IsPlainScalar());
  EXPECT_FALSE(entries[2].second->IsPlainScalar());  // quoted: a string
  auto items = entries[1].second->Items();
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[1]->path(), "op.value.b[1]");
  int64_t n = 0;
  EXPECT_TRUE(entries[0].second->As(&n));
  EXPECT_EQ(n, 1);
  EXPECT_FALSE(items[0]->As(&n));
  node.Finish();
  ASSERT_EQ(errors.list().size(), 1u) << errors.Joined();
  EXPECT_EQ(errors.list()[0], "op.value.b[0] (line 1): expected an integer, got \"x\"");
}

TEST(Node, DurationsLongerThanACenturyAreRefused) {
  Errors errors;
  YAML::Node y = YAML::Load("a: 876000h\nb: 99999999999h\n");
  Node node(y, "x", &errors);
  absl::Duration a, b = absl::Seconds(1);
  node.Read("a", &a);
  node.Read("b", &b);
  EXPECT_EQ(a, absl::Hours(876000));
  EXPECT_EQ(b, absl::Seconds(1));
  ASSERT_EQ(errors.list().size(), 1u);
  EXPECT_NE(errors.list()[0].find("x.b (line 2): duration \"99999999999h\" is too long"), std::string::npos);
}

TEST(LoadAndMerge, KeysMustBeStrings) {
  Errors errors;
  LoadAndMerge({{"k.yaml", "receivers:\n  ? [a, b]\n  : 1\n  ? {c: d}\n  : 2\n"}}, &errors);
  ASSERT_EQ(errors.list().size(), 2u) << errors.Joined();
  EXPECT_EQ(errors.list()[0], "receivers (line 2): a key must be a string, not a list or a mapping");
}

}  // namespace
}  // namespace outrigger::config
