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
  EXPECT_EQ(errors.list()[0],
            "receivers.otlp.protocols.grpc.endpint (line 3): unknown key; did you mean 'endpoint'?");
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

}  // namespace
}  // namespace outrigger::config
