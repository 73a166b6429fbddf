#include "collector/filterset/filterset.h"

#include <gtest/gtest.h>

#include "yaml-cpp/yaml.h"

namespace outrigger::filterset {
namespace {

// Decodes a processor's mapping holding include/exclude; the errors of decoding and
// Finish() (unknown keys) go to *errors.
MatchConfig DecodeConfig(const std::string& yaml, config::Errors* errors) {
  config::Node node(YAML::Load(yaml), "processors.attributes", errors);
  MatchConfig mc;
  mc.Decode(node);
  node.Finish();
  return mc;
}

Matcher MustCompile(const std::string& yaml, Signal signal) {
  config::Errors errors;
  MatchConfig mc = DecodeConfig(yaml, &errors);
  EXPECT_TRUE(errors.empty()) << errors.Joined();
  auto m = Matcher::Compile(mc, signal);
  EXPECT_TRUE(m.ok()) << m.status();
  return m.ok() ? std::move(*m) : Matcher();
}

std::string CompileError(const std::string& yaml, Signal signal) {
  config::Errors errors;
  MatchConfig mc = DecodeConfig(yaml, &errors);
  if (!errors.empty()) return errors.Joined();
  auto m = Matcher::Compile(mc, signal);
  return m.ok() ? "" : std::string(m.status().message());
}

void Put(Attributes* attrs, const std::string& k, const std::string& v) {
  auto* kv = attrs->Add();
  kv->set_key(k);
  kv->mutable_value()->set_string_value(v);
}
void PutInt(Attributes* attrs, const std::string& k, int64_t v) {
  auto* kv = attrs->Add();
  kv->set_key(k);
  kv->mutable_value()->set_int_value(v);
}

TEST(Filterset, DecodesEveryUpstreamKey) {
  config::Errors errors;
  MatchConfig mc = DecodeConfig(R"(
include:
  match_type: regexp
  regexp: {cacheenabled: true, cachemaxnumentries: 10}
  services: [svc.*]
  span_names: [a, b]
  span_kinds: [SPAN_KIND_SERVER]
  log_bodies: [body]
  log_severity_texts: [info]
  log_severity_number: {min: WARN, match_undefined: true}
  metric_names: [m1]
  attributes:
    - {key: k1, value: v1}
    - {key: k2}
  resources:
    - {key: r1, value: 5}
  libraries:
    - {name: lib, version: "1.0"}
    - {name: other}
exclude:
  match_type: strict
  span_names: [x]
)",
                                &errors);
  ASSERT_TRUE(errors.empty()) << errors.Joined();
  ASSERT_TRUE(mc.include && mc.exclude);
  const MatchProperties& in = *mc.include;
  EXPECT_EQ(in.match_type, "regexp");
  EXPECT_TRUE(in.regexp_cache_enabled);
  EXPECT_EQ(in.regexp_cache_max_num_entries, 10);
  EXPECT_EQ(in.services, std::vector<std::string>{"svc.*"});
  EXPECT_EQ(in.span_names, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(in.span_kinds, std::vector<std::string>{"SPAN_KIND_SERVER"});
  EXPECT_EQ(in.log_bodies, std::vector<std::string>{"body"});
  EXPECT_EQ(in.log_severity_texts, std::vector<std::string>{"info"});
  ASSERT_TRUE(in.log_severity_number);
  EXPECT_EQ(in.log_severity_number->min, 13);
  EXPECT_TRUE(in.log_severity_number->match_undefined);
  EXPECT_EQ(in.metric_names, std::vector<std::string>{"m1"});
  ASSERT_EQ(in.attributes.size(), 2u);
  EXPECT_EQ(in.attributes[0].key, "k1");
  EXPECT_EQ(in.attributes[0].value->string_value(), "v1");
  EXPECT_FALSE(in.attributes[1].value);
  ASSERT_EQ(in.resources.size(), 1u);
  EXPECT_EQ(in.resources[0].value->int_value(), 5);
  ASSERT_EQ(in.libraries.size(), 2u);
  EXPECT_EQ(*in.libraries[0].version, "1.0");
  EXPECT_FALSE(in.libraries[1].version);
  EXPECT_EQ(mc.exclude->span_names, std::vector<std::string>{"x"});
}

TEST(Filterset, BadShapesAndUnknownKeysAreErrorsWithThePath) {
  config::Errors errors;
  DecodeConfig("include:\n  match_type: strict\n  span_namez: [a]\n  log_severity_number: {min: LOUD}\n", &errors);
  std::string all = errors.Joined();
  EXPECT_NE(all.find("span_namez"), std::string::npos) << all;
  EXPECT_NE(all.find("did you mean 'span_names'"), std::string::npos) << all;
  EXPECT_NE(all.find("unrecognized severity \"LOUD\""), std::string::npos) << all;
  EXPECT_NE(all.find("processors.attributes.include.log_severity_number.min"), std::string::npos) << all;
}

TEST(Filterset, ValidationFollowsUpstream) {
  EXPECT_EQ(CompileError("include: {span_names: [a]}", Signal::kTraces),
            "include: unrecognized match_type: '', valid types are: [regexp strict]");
  EXPECT_EQ(CompileError("include: {match_type: strict}", Signal::kTraces),
            "include: at least one of \"services\", \"span_names\", \"span_kinds\", \"attributes\", \"libraries\" or "
            "\"resources\" field must be specified");
  EXPECT_EQ(CompileError("exclude: {match_type: strict, log_bodies: [a]}", Signal::kTraces),
            "exclude: log_bodies should not be specified for trace spans");
  EXPECT_EQ(CompileError("include: {match_type: strict, span_names: [a]}", Signal::kLogs),
            "include: services, span_names, and span_kinds are not valid for log records");
  EXPECT_NE(CompileError("include: {match_type: strict, span_kinds: [server]}", Signal::kTraces)
                .find("must match one of the standard span kinds"),
            std::string::npos);
  EXPECT_EQ(CompileError("include: {match_type: regexp, attributes: [{key: a, value: 1}]}", Signal::kTraces),
            "include: match_type=regexp for \"a\" only supports Str, but found another type");
  EXPECT_EQ(CompileError("include: {match_type: strict, attributes: [{value: 1}]}", Signal::kTraces),
            "include: can't have empty key in the list of attributes");
  EXPECT_NE(CompileError("include: {match_type: regexp, span_names: ['(']}", Signal::kTraces)
                .find("error parsing "
                      "regexp"),
            std::string::npos);
  EXPECT_EQ(CompileError("include: {match_type: strict, services: [a]}", Signal::kMetrics),
            "include: services, span_names, and span_kinds are not valid for metrics");
  EXPECT_EQ(CompileError("include: {match_type: strict, metric_names: [a]}", Signal::kMetrics), "");
}

TEST(Filterset, StrictIsEqualityRegexpIsAnUnanchoredSearch) {
  auto strict = StringFilter::Create({"login", "logout"}, MatchType::kStrict);
  ASSERT_TRUE(strict.ok());
  EXPECT_TRUE(strict->Matches("login"));
  EXPECT_FALSE(strict->Matches("log"));
  EXPECT_FALSE(strict->Matches("login2"));
  auto re = StringFilter::Create({"^log.n$", "admin"}, MatchType::kRegexp);
  ASSERT_TRUE(re.ok());
  EXPECT_TRUE(re->Matches("login"));
  EXPECT_TRUE(re->Matches("super-admin-page"));  // not anchored unless the pattern says so
  EXPECT_FALSE(re->Matches("logout"));
}

TEST(Filterset, SpansIncludeAndNotExclude) {
  // Upstream's README: include spans of service "auth" named login.*; exclude those with
  // attribute env=dev.
  Matcher m = MustCompile(R"(
include:
  match_type: regexp
  services: ["auth"]
  span_names: ["login.*"]
exclude:
  match_type: strict
  attributes:
    - {key: env, value: dev}
)",
                          Signal::kTraces);
  Resource auth, other, nosvc;
  Put(auth.mutable_attributes(), "service.name", "auth-service");
  Put(other.mutable_attributes(), "service.name", "billing");
  Scope scope;
  Span login, logout, login_dev;
  login.set_name("login-form");
  logout.set_name("logout");
  login_dev.set_name("login-form");
  Put(login_dev.mutable_attributes(), "env", "dev");
  EXPECT_FALSE(m.SkipSpan(auth, scope, login));
  EXPECT_TRUE(m.SkipSpan(auth, scope, logout));     // not included
  EXPECT_TRUE(m.SkipSpan(other, scope, login));     // other service
  EXPECT_TRUE(m.SkipSpan(nosvc, scope, login));     // "<nil-service-name>"
  EXPECT_TRUE(m.SkipSpan(auth, scope, login_dev));  // excluded
  EXPECT_FALSE(Matcher().SkipSpan(auth, scope, logout));
}

TEST(Filterset, SpanKindsLibrariesAndResources) {
  Matcher m = MustCompile(R"(
include:
  match_type: strict
  span_kinds: [SPAN_KIND_SERVER]
  libraries: [{name: otel-go, version: "1.2"}]
  resources: [{key: region, value: eu}]
)",
                          Signal::kTraces);
  Resource res;
  Put(res.mutable_attributes(), "region", "eu");
  Scope lib;
  lib.set_name("otel-go");
  lib.set_version("1.2");
  Span server;
  server.set_kind(opentelemetry::proto::trace::v1::Span::SPAN_KIND_SERVER);
  Span client;
  client.set_kind(opentelemetry::proto::trace::v1::Span::SPAN_KIND_CLIENT);
  EXPECT_FALSE(m.SkipSpan(res, lib, server));
  EXPECT_TRUE(m.SkipSpan(res, lib, client));
  Scope old = lib;
  old.set_version("1.1");
  EXPECT_TRUE(m.SkipSpan(res, old, server));
  Resource us;
  Put(us.mutable_attributes(), "region", "us");
  EXPECT_TRUE(m.SkipSpan(us, lib, server));
}

TEST(Filterset, StrictAttributeValuesAreTyped) {
  Matcher m = MustCompile("include:\n  match_type: strict\n  attributes: [{key: code, value: 200}]\n", Signal::kTraces);
  Resource r;
  Scope s;
  Span as_int, as_string, absent;
  PutInt(as_int.mutable_attributes(), "code", 200);
  Put(as_string.mutable_attributes(), "code", "200");
  EXPECT_FALSE(m.SkipSpan(r, s, as_int));
  EXPECT_TRUE(m.SkipSpan(r, s, as_string));
  EXPECT_TRUE(m.SkipSpan(r, s, absent));
  // Regexp tests the value formatted as a string (upstream's attributeStringValue).
  Matcher re =
      MustCompile("include:\n  match_type: regexp\n  attributes: [{key: code, value: '^2..$'}]\n", Signal::kTraces);
  EXPECT_FALSE(re.SkipSpan(r, s, as_int));
  EXPECT_FALSE(re.SkipSpan(r, s, as_string));
}

TEST(Filterset, LogBodiesSeverityAndUndefined) {
  Matcher m = MustCompile(R"(
include:
  match_type: strict
  log_bodies: [hello]
  log_severity_number: {min: INFO}
)",
                          Signal::kLogs);
  Resource r;
  Scope s;
  LogRecord info, debug, undefined, map_body;
  info.mutable_body()->set_string_value("hello");
  info.set_severity_number(opentelemetry::proto::logs::v1::SEVERITY_NUMBER_INFO);
  debug = info;
  debug.set_severity_number(opentelemetry::proto::logs::v1::SEVERITY_NUMBER_DEBUG);
  undefined = info;
  undefined.set_severity_number(opentelemetry::proto::logs::v1::SEVERITY_NUMBER_UNSPECIFIED);
  map_body.mutable_body()->mutable_kvlist_value();
  map_body.set_severity_number(opentelemetry::proto::logs::v1::SEVERITY_NUMBER_ERROR);
  EXPECT_FALSE(m.SkipLog(r, s, info));
  EXPECT_TRUE(m.SkipLog(r, s, debug));
  EXPECT_TRUE(m.SkipLog(r, s, undefined));
  EXPECT_FALSE(m.SkipLog(r, s, map_body));  // only string bodies are tested, as upstream
  Matcher undef = MustCompile(
      "include:\n  match_type: strict\n  log_severity_number: {min: 9, match_undefined: true}\n", Signal::kLogs);
  EXPECT_FALSE(undef.SkipLog(r, s, undefined));
  EXPECT_TRUE(undef.SkipLog(r, s, debug));
}

TEST(Filterset, MetricDataPoints) {
  Matcher m = MustCompile(R"(
include:
  match_type: regexp
  metric_names: ["^http\\."]
  attributes: [{key: method, value: "GET|POST"}]
exclude:
  match_type: strict
  resources: [{key: env, value: test}]
)",
                          Signal::kMetrics);
  Resource prod, test;
  Put(prod.mutable_attributes(), "env", "prod");
  Put(test.mutable_attributes(), "env", "test");
  Metric http, rpc;
  http.set_name("http.requests");
  rpc.set_name("rpc.requests");
  Attributes get, del;
  Put(&get, "method", "GET");
  Put(&del, "method", "DELETE");
  EXPECT_FALSE(m.SkipDataPoint(prod, http, get));
  EXPECT_TRUE(m.SkipDataPoint(prod, http, del));
  EXPECT_TRUE(m.SkipDataPoint(prod, rpc, get));
  EXPECT_TRUE(m.SkipDataPoint(test, http, get));
  EXPECT_FALSE(m.SkipMetric(prod, http));
  EXPECT_TRUE(m.SkipMetric(prod, rpc));
}

TEST(Filterset, DecodeValueKeepsYamlTypes) {
  config::Errors errors;
  config::Node node(YAML::Load("{i: 5, d: 2.5, b: true, s: hello, q: '7', l: [1, a], m: {k: v}, n: -3}"), "v", &errors);
  auto decode = [&](const char* key) {
    AnyValue v;
    EXPECT_TRUE(DecodeValue(node.Value(key), &v));
    return v;
  };
  EXPECT_EQ(decode("i").int_value(), 5);
  EXPECT_EQ(decode("n").int_value(), -3);
  EXPECT_EQ(decode("d").double_value(), 2.5);
  EXPECT_TRUE(decode("b").bool_value());
  EXPECT_EQ(decode("s").string_value(), "hello");
  EXPECT_EQ(decode("q").string_value(), "7");  // quoted: a string
  AnyValue l = decode("l");
  ASSERT_EQ(l.array_value().values_size(), 2);
  EXPECT_EQ(l.array_value().values(0).int_value(), 1);
  EXPECT_EQ(l.array_value().values(1).string_value(), "a");
  EXPECT_EQ(AsString(decode("m")), "{\"k\":\"v\"}");
  EXPECT_TRUE(errors.empty()) << errors.Joined();
}

TEST(Filterset, AsStringFormatsAsUpstream) {
  AnyValue v;
  v.set_double_value(3.0);
  EXPECT_EQ(AsString(v), "3");
  v.set_double_value(0.1);
  EXPECT_EQ(AsString(v), "0.1");
  v.set_double_value(1e-7);
  EXPECT_EQ(AsString(v), "1e-7");
  v.set_double_value(1e21);
  EXPECT_EQ(AsString(v), "1e+21");
  v.set_int_value(-42);
  EXPECT_EQ(AsString(v), "-42");
  v.set_bool_value(false);
  EXPECT_EQ(AsString(v), "false");
  v.set_bytes_value("hi");
  EXPECT_EQ(AsString(v), "aGk=");
}

}  // namespace
}  // namespace outrigger::filterset
