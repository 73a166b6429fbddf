// Every function, with cases from upstream's documented examples (pkg/ottl/ottlfuncs).

#include <gtest/gtest.h>

#include "collector/common/strings.h"
#include "collector/ottl/ottl.h"
#include "opentelemetry/proto/common/v1/common.pb.h"
#include "opentelemetry/proto/logs/v1/logs.pb.h"
#include "opentelemetry/proto/metrics/v1/metrics.pb.h"
#include "opentelemetry/proto/resource/v1/resource.pb.h"

namespace outrigger::ottl {
namespace {

class OttlFunctions : public ::testing::Test {
 protected:
  OttlFunctions() {
    c_.resource = &resource_;
    c_.scope = &scope_;
    c_.log = &log_;
  }

  KeyValues* attrs() { return log_.mutable_attributes(); }
  void SetAttr(const std::string& k, const std::string& v) { Upsert(attrs(), k)->set_string_value(v); }
  std::string Attr(const std::string& k) {
    const AnyValue* v = Find(log_.attributes(), k);
    return v == nullptr ? "<absent>" : ToString(Value::FromAny(*v));
  }
  std::string Keys(const KeyValues& m) {
    std::string out;
    for (const KeyValue& kv : m) StrAppend(&out, out.empty() ? "" : ",", kv.key());
    return out;
  }

  void Exec(std::string_view stmt) {
    auto s = Statement::Compile(ContextKind::kLog, stmt);
    ASSERT_TRUE(s.ok()) << stmt << ": " << s.status();
    absl::Status st = s->Execute(c_);
    ASSERT_TRUE(st.ok()) << stmt << ": " << st;
  }
  std::string ExecError(std::string_view stmt) {
    auto s = Statement::Compile(ContextKind::kLog, stmt);
    if (!s.ok()) return "compile: " + std::string(s.status().message());
    absl::Status st = s->Execute(c_);
    return st.ok() ? "OK" : std::string(st.message());
  }
  // The value of a converter call, as a string (JSON for maps and slices) with its type.
  std::string Eval(std::string_view expr) {
    ParseError err;
    auto ast = ParseValue(expr, &err);
    if (!ast.ok()) return "parse: " + err.ToString();
    auto e = CompileExpr(ContextKind::kLog, **ast);
    if (!e.ok()) return "compile: " + std::string(e.status().message());
    Value v;
    absl::Status st = (*e)->Eval(c_, &v);
    if (!st.ok()) return "error: " + std::string(st.message());
    std::string out;
    if (v.type == Type::kMap || v.type == Type::kSlice) {
      AppendJson(v, &out);
    } else {
      out = ToString(v);
    }
    return StrCat(TypeName(v.type), ":", out);
  }

  opentelemetry::proto::resource::v1::Resource resource_;
  opentelemetry::proto::common::v1::InstrumentationScope scope_;
  opentelemetry::proto::logs::v1::LogRecord log_;
  EvalContext c_;
};

// ---- editors ----

TEST_F(OttlFunctions, Set) {
  Exec(R"o(set(attributes["http.path"], "/foo"))o");
  EXPECT_EQ(Attr("http.path"), "/foo");
  Exec(R"o(set(attributes["x"], attributes["missing"]))o");  // nil: no action
  EXPECT_EQ(Attr("x"), "<absent>");
}

TEST_F(OttlFunctions, DeleteKey) {
  SetAttr("http.request.header.authorization", "secret");
  SetAttr("keep", "1");
  Exec(R"o(delete_key(attributes, "http.request.header.authorization"))o");
  EXPECT_EQ(Keys(log_.attributes()), "keep");
}

TEST_F(OttlFunctions, DeleteAndKeepMatchingKeys) {
  SetAttr("user_password", "a");
  SetAttr("PASSWORD_HASH", "b");
  SetAttr("service.version", "1");
  SetAttr("name", "n");
  Exec(R"o(delete_matching_keys(attributes, "(?i).*password.*"))o");
  EXPECT_EQ(Keys(log_.attributes()), "service.version,name");
  Exec(R"o(keep_matching_keys(attributes, "(?i).*version.*"))o");
  EXPECT_EQ(Keys(log_.attributes()), "service.version");
}

TEST_F(OttlFunctions, KeepKeys) {
  SetAttr("http.method", "GET");
  SetAttr("http.route", "/a");
  SetAttr("http.url", "http://x/a");
  SetAttr("other", "o");
  Exec(R"o(keep_keys(attributes, ["http.method", "http.route", "http.url"]))o");
  EXPECT_EQ(Keys(log_.attributes()), "http.method,http.route,http.url");
  Exec(R"o(keep_keys(attributes, ["http.method"]))o");
  EXPECT_EQ(Keys(log_.attributes()), "http.method");
  EXPECT_EQ(ExecError(R"o(keep_keys(attributes, "http.method"))o"),
            "compile: column 23: keys must be a list of literal strings, such as [\"a\", \"b\"]");
}

TEST_F(OttlFunctions, Limit) {
  for (int i = 0; i < 5; ++i) SetAttr(StrCat("k", i), "v");
  SetAttr("http.host", "h");
  SetAttr("http.method", "m");
  Exec(R"o(limit(attributes, 3, ["http.host", "http.method"]))o");
  EXPECT_EQ(log_.attributes_size(), 3);
  EXPECT_EQ(Attr("http.host"), "h");
  EXPECT_EQ(Attr("http.method"), "m");
  Exec(R"o(limit(attributes, 100, []))o");
  EXPECT_EQ(log_.attributes_size(), 3);
  EXPECT_EQ(ExecError(R"o(limit(attributes, 1, ["a", "b"]))o"),
            "compile: column 22: there are 2 priority keys, more than the limit 1");
  EXPECT_EQ(ExecError(R"o(limit(attributes, -1))o"), "compile: column 19: limit must be at least 0, not -1");
}

TEST_F(OttlFunctions, MergeMaps) {
  log_.mutable_body()->set_string_value(R"o({"a": "from body", "b": "new"})o");
  SetAttr("a", "old");
  Exec(R"o(merge_maps(attributes, ParseJSON(body), "insert"))o");
  EXPECT_EQ(Attr("a"), "old");
  EXPECT_EQ(Attr("b"), "new");
  Exec(R"o(merge_maps(attributes, {"a": "updated", "c": "no"}, "update"))o");
  EXPECT_EQ(Attr("a"), "updated");
  EXPECT_EQ(Attr("c"), "<absent>");
  Exec(R"o(merge_maps(attributes, {"a": "up", "c": "yes"}, "upsert"))o");
  EXPECT_EQ(Attr("a"), "up");
  EXPECT_EQ(Attr("c"), "yes");
  Upsert(resource_.mutable_attributes(), "host.name")->set_string_value("h1");
  Exec(R"o(merge_maps(attributes, resource.attributes, "insert"))o");
  EXPECT_EQ(Attr("host.name"), "h1");
  EXPECT_EQ(ExecError(R"o(merge_maps(attributes, {}, "replace"))o"),
            "compile: column 28: strategy must be insert, update or upsert, not \"replace\"");
}

TEST_F(OttlFunctions, ReplacePattern) {
  SetAttr("process.command_line", "run password=s3cret --x");
  Exec(R"o(replace_pattern(attributes["process.command_line"], "password\\=[^\\s]*(\\s?)", "password=***"))o");
  EXPECT_EQ(Attr("process.command_line"), "run password=***--x");
  SetAttr("metric", "kube_pod_status");
  // In a config file `$` is written `$$`; here (outside one) it is `$`.
  Exec(R"o(replace_pattern(attributes["metric"], "^kube_([0-9A-Za-z]+_)", "k8s.$1."))o");
  EXPECT_EQ(Attr("metric"), "k8s.pod_.status");
  SetAttr("metric", "kube_pod_status");
  Exec(R"o(replace_pattern(attributes["metric"], "^kube_([0-9A-Za-z]+_)", "$1.", SHA256, "k8s.%s"))o");
  EXPECT_EQ(Attr("metric"), "k8s.6d84a506bd7fb1f256ed60c44bd7cd7fb1c12b2f531231e13db610d418021420status");
}

TEST_F(OttlFunctions, ReplaceAllPatterns) {
  SetAttr("a", "/account/1234/x");
  SetAttr("kube_node_name", "n1");
  Exec(R"o(replace_all_patterns(attributes, "value", "/account/\\d{4}", "/account/{accountId}"))o");
  EXPECT_EQ(Attr("a"), "/account/{accountId}/x");
  Exec(R"o(replace_all_patterns(attributes, "key", "^kube_([0-9A-Za-z]+_)", "k8s.$1."))o");
  EXPECT_EQ(Attr("k8s.node_.name"), "n1");
  EXPECT_EQ(ExecError(R"o(replace_all_patterns(attributes, "keys", "a", "b"))o"),
            "compile: column 34: mode must be \"key\" or \"value\", not \"keys\"");
}

TEST_F(OttlFunctions, ReplaceMatchAndAllMatches) {
  SetAttr("http.target", "/user/123/list/456");
  SetAttr("other", "/user/1/lists");
  Exec(R"o(replace_match(attributes["http.target"], "/user/*/list/*", "/user/{userId}/list/{listId}"))o");
  EXPECT_EQ(Attr("http.target"), "/user/{userId}/list/{listId}");
  SetAttr("a", "/user/7/list/8");
  SetAttr("b", "/user/7/list/8/more");  // * does not cross '/'
  Exec(R"o(replace_all_matches(attributes, "/user/*/list/*", "/user/{userId}/list/{listId}"))o");
  EXPECT_EQ(Attr("a"), "/user/{userId}/list/{listId}");
  EXPECT_EQ(Attr("b"), "/user/7/list/8/more");
  EXPECT_EQ(Attr("other"), "/user/1/lists");
  SetAttr("a", "/user/7/list/8");
  Exec(R"o(replace_all_matches(attributes, "/user/*/list/*", "/user/{userId}/list/{listId}", SHA256, "/user/%s"))o");
  EXPECT_EQ(Attr("a").substr(0, 6), "/user/");
  EXPECT_EQ(Attr("a").size(), 6u + 64u);
}

TEST_F(OttlFunctions, TruncateAll) {
  SetAttr("s", "0123456789");
  SetAttr("u", "ééé");  // 6 bytes
  Upsert(attrs(), "n")->set_int_value(1234567);
  Exec(R"o(truncate_all(attributes, 5))o");
  EXPECT_EQ(Attr("s"), "01234");
  EXPECT_EQ(Attr("u"), "éé");  // not split inside a character
  EXPECT_EQ(Attr("n"), "1234567");
  SetAttr("s", "0123456789");
  Exec(R"o(truncate_all(attributes, 8, truncation_marker = "..."))o");
  EXPECT_EQ(Attr("s"), "01234...");
}

TEST_F(OttlFunctions, Flatten) {
  log_.mutable_body()->set_string_value(
      R"o({"name":"test","address":{"street":"first","house":1234},"occupants":["user 1","user 2"]})o");
  Exec("set(attributes, ParseJSON(body))");
  Exec("flatten(attributes)");
  EXPECT_EQ(
      Eval("attributes"),
      R"o(map:{"address.house":1234,"address.street":"first","name":"test","occupants.0":"user 1","occupants.1":"user 2"})o");
  Exec("set(attributes, ParseJSON(body))");
  Exec(R"o(flatten(attributes, "app"))o");
  EXPECT_EQ(Eval(R"o(attributes["app.address.street"])o"), "string:first");
  log_.mutable_body()->set_string_value(R"o({"0":{"1":{"2":{"3":{"4":"value"}}}}})o");
  Exec("set(attributes, ParseJSON(body))");
  Exec("flatten(attributes, depth=2)");
  EXPECT_EQ(Eval("attributes"), R"o(map:{"0.1.2":{"3":{"4":"value"}}})o");
  Exec("set(attributes, ParseJSON(body))");
  Exec("flatten(attributes, depth=0)");
  EXPECT_EQ(Eval("attributes"), R"o(map:{"0":{"1":{"2":{"3":{"4":"value"}}}}})o");
}

// ---- converters ----

TEST_F(OttlFunctions, Concat) {
  SetAttr("http.method", "GET");
  SetAttr("http.path", "/a");
  EXPECT_EQ(Eval(R"o(Concat([attributes["http.method"], attributes["http.path"]], ": "))o"), "string:GET: /a");
  EXPECT_EQ(Eval(R"o(Concat(["metric", 1], " "))o"), "string:metric 1");
  EXPECT_EQ(Eval(R"o(Concat(["HTTP method is: ", attributes["http.method"]], ""))o"), "string:HTTP method is: GET");
  EXPECT_EQ(Eval(R"o(Concat(["a", {"m": 1}, "b"], "-"))o"), "string:a-b");  // maps are left out
}

TEST_F(OttlFunctions, ConvertCase) {
  EXPECT_EQ(Eval(R"o(ConvertCase("MY_METRIC", "lower"))o"), "string:my_metric");
  EXPECT_EQ(Eval(R"o(ConvertCase("my_metric", "upper"))o"), "string:MY_METRIC");
  EXPECT_EQ(Eval(R"o(ConvertCase("myMetric", "snake"))o"), "string:my_metric");
  EXPECT_EQ(Eval(R"o(ConvertCase("my_metric", "camel"))o"), "string:MyMetric");
  EXPECT_EQ(Eval(R"o(ConvertCase("x", "title"))o"),
            "compile: column 18: toCase must be lower, upper, snake or camel, not \"title\"");
  EXPECT_EQ(Eval(R"o(ConvertCase(1, "lower"))o"), "error: ConvertCase: needs a string, got int");
}

TEST_F(OttlFunctions, Format) {
  Upsert(attrs(), "priority")->set_int_value(7);
  EXPECT_EQ(Eval(R"o(Format("%02d", [attributes["priority"]]))o"), "string:07");
  EXPECT_EQ(Eval(R"o(Format("%04d-%02d-%02d", [2024, 3, 9]))o"), "string:2024-03-09");
  EXPECT_EQ(Eval(R"o(Format("%s/%s.log", ["host", "prog"]))o"), "string:host/prog.log");
  EXPECT_EQ(Eval(R"o(Format("%.2f %v %t %%", [1.5, "x", true]))o"), "string:1.50 x true %");
  EXPECT_EQ(Eval(R"o(Format("%d %d", [1]))o"), "string:1 %!d(MISSING)");
  // The format may come from a record: no unbounded widths, no C-only verbs.
  EXPECT_EQ(Eval(R"o(Format("%.999999999f|%*d|%n", [1.5, 1, 2]))o"), "string:%!f(BADVERB)|%!*(BADVERB)d|%!n(BADVERB)");
}

TEST_F(OttlFunctions, Hex) {
  EXPECT_EQ(Eval("Hex(1.1)"), "string:3ff199999999999a");
  EXPECT_EQ(Eval(R"o(Hex("1"))o"), "string:31");
  EXPECT_EQ(Eval("Hex(true)"), "string:01");
  EXPECT_EQ(Eval("Hex(12)"), "string:000000000000000c");
  EXPECT_EQ(Eval("Hex(0x02)"), "string:02");
  EXPECT_EQ(Eval("Hex(2.0)"), "string:4000000000000000");
}

TEST_F(OttlFunctions, IntDoubleString) {
  Upsert(attrs(), "http.status_code")->set_string_value("200");
  EXPECT_EQ(Eval(R"o(Int(attributes["http.status_code"]))o"), "int:200");
  EXPECT_EQ(Eval(R"o(Int("2.0"))o"), "nil:");
  EXPECT_EQ(Eval("Int(-2.9)"), "int:-2");
  EXPECT_EQ(Eval("Int(true)"), "int:1");
  EXPECT_EQ(Eval(R"o(Double(attributes["http.status_code"]))o"), "double:200");
  EXPECT_EQ(Eval(R"o(Double("2.0"))o"), "double:2");
  EXPECT_EQ(Eval(R"o(Double("x"))o"), "nil:");
  EXPECT_EQ(Eval("Double(false)"), "double:0");
  EXPECT_EQ(Eval(R"o(String("test"))o"), "string:test");
  EXPECT_EQ(Eval("String(0x0102)"), "string:0102");
  EXPECT_EQ(Eval("String([1,2,3])"), "string:[1,2,3]");
  EXPECT_EQ(Eval("String(false)"), "string:false");
  EXPECT_EQ(Eval(R"o(String({"b": 1, "a": "x"}))o"), R"o(string:{"a":"x","b":1})o");
  EXPECT_EQ(Eval(R"o(String(attributes["missing"]))o"), "nil:");
}

TEST_F(OttlFunctions, IsMatchAndTypePredicates) {
  SetAttr("http.path", "/foo/bar");
  EXPECT_EQ(Eval(R"o(IsMatch(attributes["http.path"], "foo"))o"), "bool:true");
  EXPECT_EQ(Eval(R"o(IsMatch("string", ".*ring"))o"), "bool:true");
  EXPECT_EQ(Eval(R"o(IsMatch(attributes["missing"], ".*"))o"), "bool:false");
  EXPECT_EQ(Eval(R"o(IsMatch(123, "^12"))o"), "bool:true");
  EXPECT_EQ(Eval(R"o(IsMatch("x", "("))o").substr(0, 59),
            "compile: column 14: pattern \"(\" is not a valid regex: missi");
  log_.mutable_body()->set_string_value("text");
  EXPECT_EQ(Eval("IsString(body)"), "bool:true");
  EXPECT_EQ(Eval("IsInt(body)"), "bool:false");
  EXPECT_EQ(Eval("IsInt(42)"), "bool:true");
  EXPECT_EQ(Eval("IsMap(body)"), "bool:false");
  EXPECT_EQ(Eval(R"o(IsMap({"a": 1}))o"), "bool:true");
  EXPECT_EQ(Eval("IsDouble(1.5)"), "bool:true");
  EXPECT_EQ(Eval("IsBool(false)"), "bool:true");
  EXPECT_EQ(Eval("IsBool(42)"), "bool:false");
  EXPECT_EQ(Eval("IsList([1])"), "bool:true");
}

TEST_F(OttlFunctions, Len) {
  log_.mutable_body()->set_string_value("hello");
  EXPECT_EQ(Eval("Len(body)"), "int:5");
  EXPECT_EQ(Eval(R"o(Len(["a", "b"]))o"), "int:2");
  EXPECT_EQ(Eval(R"o(Len({"a": 1}))o"), "int:1");
  EXPECT_EQ(Eval("Len(1)"), "error: Len: needs a string, slice or map, got int");
}

TEST_F(OttlFunctions, ParseJson) {
  EXPECT_EQ(Eval(R"o(ParseJSON("{\"attr\":true}"))o"), R"o(map:{"attr":true})o");
  EXPECT_EQ(Eval(R"o(ParseJSON("[\"attr1\",\"attr2\"]"))o"), R"o(slice:["attr1","attr2"])o");
  EXPECT_EQ(Eval(R"o(ParseJSON("{\"n\": 1, \"z\": null, \"o\": {\"a\": [1, \"b\"]}}"))o"),
            R"o(map:{"n":1,"o":{"a":[1,"b"]},"z":null})o");  // numbers are doubles
  EXPECT_EQ(Eval(R"o(ParseJSON("{bad"))o"), "error: ParseJSON: not a JSON object or array");
  EXPECT_EQ(Eval("ParseJSON(1)"), "error: ParseJSON: needs a string, got int");
  log_.mutable_body()->set_string_value(std::string(100000, '[') + std::string(100000, ']'));
  EXPECT_EQ(Eval("ParseJSON(body)"), "error: ParseJSON: nested deeper than 64 levels");
}

TEST_F(OttlFunctions, ExtractPatterns) {
  SetAttr("k8s.change_cause", "deploy GIT_SHA=abc123 done");
  EXPECT_EQ(Eval(R"o(ExtractPatterns(attributes["k8s.change_cause"], "GIT_SHA=(?P<git_sha>\\w+)"))o"),
            R"o(map:{"git_sha":"abc123"})o");
  log_.mutable_body()->set_string_value("Jan 12 06:49:02 host-1 sshd[1234]: Accepted key");
  EXPECT_EQ(
      Eval(
          R"o(ExtractPatterns(body, "^(?P<timestamp>\\w+ \\w+ [0-9]+:[0-9]+:[0-9]+) (?P<hostname>([A-Za-z0-9-_]+)) (?P<process>\\w+)(\\[(?P<pid>\\d+)\\])?: (?P<message>.*)$"))o"),
      R"o(map:{"hostname":"host-1","message":"Accepted key","pid":"1234","process":"sshd","timestamp":"Jan 12 06:49:02"})o");
  EXPECT_EQ(Eval(R"o(ExtractPatterns("x", "nomatch=(?P<a>\\d)"))o"), "map:{}");
  EXPECT_EQ(Eval(R"o(ExtractPatterns("x", "(\\d)"))o"),
            "compile: column 22: pattern must contain at least one named capture group, such as (?P<name>\\w+)");
}

TEST_F(OttlFunctions, SplitAndSubstring) {
  SetAttr("tags", "a,b,,c");
  EXPECT_EQ(Eval(R"o(Split(attributes["tags"], ","))o"), R"o(slice:["a","b","","c"])o");
  EXPECT_EQ(Eval(R"o(Split(attributes["tags"], ",")[1])o"), "string:b");
  EXPECT_EQ(Eval(R"o(Split(1, ","))o"), "error: Split: needs a string, got int");
  EXPECT_EQ(Eval(R"o(Substring("123456789", 0, 3))o"), "string:123");
  EXPECT_EQ(Eval(R"o(Substring("一二三", 0, 4, true))o"), "string:一");
  EXPECT_EQ(Eval(R"o(Substring("123", 2, 5))o"), "error: Substring: start 2 + length 5 is beyond the string's 3 bytes");
}

TEST_F(OttlFunctions, Sha256) {
  EXPECT_EQ(Eval(R"o(SHA256("name"))o"), "string:82a3537ff0dbce7eec35d69edc3a189ee6f17d82f353a553f9aa96cb0be3ce89");
  EXPECT_EQ(Eval("SHA256(1)"), "error: SHA256 needs a string, got int");
}

TEST_F(OttlFunctions, TimeAndUnix) {
  EXPECT_EQ(Eval(R"o(UnixNano(Time("02/04/2023", "%m/%d/%Y")))o"), "int:1675468800000000000");
  EXPECT_EQ(Eval(R"o(UnixSeconds(Time("Feb 15, 2023", "%b %d, %Y")))o"), "int:1676419200");
  EXPECT_EQ(Eval(R"o(UnixSeconds(Time("2023-05-26 12:34:56", "%Y-%m-%d %H:%M:%S", "America/New_York")))o"),
            "int:1685118896");
  EXPECT_EQ(Eval(R"o(UnixMilli(Time("2012-11-01T22:08:41.123+0100", "%Y-%m-%dT%H:%M:%S.%L%z")))o"),
            "int:1351804121123");
  EXPECT_EQ(Eval(R"o(Time("x", "%Y"))o").substr(0, 37), "error: Time: \"x\" does not match the f");
  EXPECT_EQ(Eval(R"o(Time("x", "%Q"))o"), "compile: column 11: unsupported time directive %Q");
  EXPECT_EQ(Eval("UnixNano(1)"), "error: needs a time, got int");
  std::string now = Eval("UnixSeconds(Now())");
  EXPECT_EQ(now.substr(0, 4), "int:");
  EXPECT_GT(std::stoll(now.substr(4)), 1700000000);
  Exec(R"o(set(time, Time("02/04/2023", "%m/%d/%Y")))o");
  EXPECT_EQ(log_.time_unix_nano(), 1675468800000000000ull);
}

TEST_F(OttlFunctions, TraceIdSpanId) {
  EXPECT_EQ(Eval("TraceID(0x00000000000000000000000000000001)"), "bytes:00000000000000000000000000000001");
  EXPECT_EQ(Eval(R"o(TraceID("a389023abaa839283293ed323892389d"))o"), "bytes:a389023abaa839283293ed323892389d");
  EXPECT_EQ(Eval("SpanID(0x0000000000000000)"), "bytes:0000000000000000");
  EXPECT_EQ(Eval(R"o(SpanID("0102030405060708"))o"), "bytes:0102030405060708");
  EXPECT_EQ(Eval("SpanID(0x01)"), "error: SpanID: needs 8 bytes, got 1");
  Exec(R"o(set(span_id, SpanID("0102030405060708")))o");
  EXPECT_EQ(log_.span_id(), std::string("\x01\x02\x03\x04\x05\x06\x07\x08", 8));
}

TEST_F(OttlFunctions, Log) {
  Upsert(attrs(), "duration_ms")->set_int_value(100);
  EXPECT_EQ(Eval(R"o(Int(Log(attributes["duration_ms"])))o"), "int:4");
  EXPECT_EQ(Eval("Log(2.718281828459045)"), "double:1");
  EXPECT_EQ(Eval("Log(0)"), "error: Log: the value must be greater than 0, not 0");
  EXPECT_EQ(Eval("Log(false)"), "error: Log: the value must be greater than 0, not 0");
}

// The filter processor's metric-context functions (upstream's README examples).
TEST(OttlMetricFunctions, HasAttrOnDatapoint) {
  opentelemetry::proto::metrics::v1::Metric metric;
  auto* p = metric.mutable_histogram()->add_data_points();
  Upsert(p->mutable_attributes(), "bad.metric")->set_string_value("true");
  EvalContext c;
  c.metric = &metric;
  auto eval = [&](std::string_view text) {
    auto cond = Condition::Compile(ContextKind::kMetric, text);
    EXPECT_TRUE(cond.ok()) << text << ": " << cond.status();
    auto r = cond->Eval(c);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() && *r;
  };
  EXPECT_TRUE(eval(R"(HasAttrKeyOnDatapoint("bad.metric"))"));
  EXPECT_FALSE(eval(R"(HasAttrKeyOnDatapoint("good.metric"))"));
  EXPECT_TRUE(eval(R"(HasAttrOnDatapoint("bad.metric", "true"))"));
  EXPECT_FALSE(eval(R"(HasAttrOnDatapoint("bad.metric", "false"))"));
  metric.mutable_gauge()->add_data_points();  // now a gauge without the attribute
  EXPECT_FALSE(eval(R"(HasAttrKeyOnDatapoint("bad.metric"))"));
  auto in_datapoint = Condition::Compile(ContextKind::kDataPoint, R"(HasAttrKeyOnDatapoint("bad.metric"))");
  ASSERT_FALSE(in_datapoint.ok());
  EXPECT_NE(in_datapoint.status().message().find("can only be used in the metric context"), std::string::npos)
      << in_datapoint.status();
}

TEST_F(OttlFunctions, EveryFunctionIsDocumented) {
  for (const FunctionSpec& f : Functions()) {
    EXPECT_FALSE(f.summary.empty()) << f.name;
    EXPECT_NE(f.summary.find(f.name), std::string_view::npos) << f.name << ": the summary has no example";
  }
}

}  // namespace
}  // namespace outrigger::ottl
