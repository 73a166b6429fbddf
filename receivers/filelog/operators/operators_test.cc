#include "receivers/filelog/operators/operators.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "receivers/filelog/operators/field.h"
#include "receivers/filelog/operators/json.h"
#include "receivers/filelog/operators/time_layout.h"
#include "yaml-cpp/yaml.h"

namespace outrigger::receivers::filelog::operators {
namespace {

using pdata::Value;
using pdata::ValueList;
using pdata::ValueMap;

constexpr char kPodLog[] = "/var/log/pods/shop_checkout-7d9f_49cc7c1f-3702-4c40-b268-6ea7486091d6/app/2.log";

std::vector<std::string> DecodeErrors(const std::string& yaml) {
  config::Errors errors;
  YAML::Node root = YAML::Load(yaml);
  config::Node node(root, "receivers.filelog", &errors);
  ChainConfig cfg;
  cfg.Decode(node);
  node.Finish();
  return errors.list();
}

std::unique_ptr<Chain> Build(const std::string& yaml) {
  config::Errors errors;
  YAML::Node root = YAML::Load(yaml);
  config::Node node(root, "receivers.filelog", &errors);
  ChainConfig cfg;
  cfg.Decode(node);
  node.Finish();
  EXPECT_TRUE(errors.empty()) << errors.Joined();
  auto chain = BuildChain(cfg);
  EXPECT_TRUE(chain.ok()) << chain.status();
  return chain.ok() ? std::move(*chain) : nullptr;
}

Entry Line(std::string text, std::string path = kPodLog, uint64_t start = 0, uint64_t observed = 1000) {
  Entry e;
  e.offset_start = start;
  e.offset_end = start + text.size() + 1;
  e.record.body = Value(std::move(text));
  e.record.observed_time_ns = observed;
  e.file_path = std::move(path);
  return e;
}

std::vector<Entry> Feed(Chain& chain, Entry e) {
  std::vector<Entry> out;
  chain.Process(std::move(e), &out);
  return out;
}

std::string Str(const Value* v) { return v != nullptr && v->str() != nullptr ? *v->str() : std::string("<none>"); }
std::string Attr(const Entry& e, std::string_view key) { return Str(pdata::Find(e.record.attributes, key)); }
std::string Res(const Entry& e, std::string_view key) { return Str(pdata::Find(e.resource, key)); }

// ---- pass-through ----

TEST(FilelogOperators, EmptyChainPassesEntriesThrough) {
  ASSERT_NE(Build("{}"), nullptr);  // no operators key
  auto chain = Build("operators: []\n");
  ASSERT_NE(chain, nullptr);
  auto out = Feed(*chain, Line("hello", "/tmp/a.log", 7));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(Str(&out[0].record.body), "hello");
  EXPECT_EQ(out[0].offset_start, 7u);
  EXPECT_FALSE(chain->PendingStart("/tmp/a.log").has_value());
}

// ---- container: Kubernetes ----

TEST(FilelogOperators, ContainerDockerLineWithMetadataFromPath) {
  auto chain = Build("operators:\n  - type: container\n");
  auto out = Feed(
      *chain, Line(R"({"log":"INFO: started \"shop\"\n","stream":"stdout","time":"2024-03-30T08:31:20.545192187Z"})"));
  ASSERT_EQ(out.size(), 1u);
  const Entry& e = out[0];
  EXPECT_EQ(Str(&e.record.body), "INFO: started \"shop\"");
  EXPECT_EQ(e.record.time_ns, 1711787480545192187ULL);
  EXPECT_EQ(Attr(e, "log.iostream"), "stdout");
  EXPECT_EQ(pdata::Find(e.record.attributes, "time"), nullptr);
  EXPECT_EQ(Res(e, "k8s.namespace.name"), "shop");
  EXPECT_EQ(Res(e, "k8s.pod.name"), "checkout-7d9f");
  EXPECT_EQ(Res(e, "k8s.pod.uid"), "49cc7c1f-3702-4c40-b268-6ea7486091d6");
  EXPECT_EQ(Res(e, "k8s.container.name"), "app");
  EXPECT_EQ(Res(e, "k8s.container.restart_count"), "2");
  EXPECT_EQ(chain->stats().parse_errors, 0u);
}

TEST(FilelogOperators, ContainerDockerPartialLinesAreReassembled) {
  auto chain = Build("operators:\n  - type: container\n    format: docker\n");
  const std::string t = R"(,"stream":"stdout","time":"2024-03-30T08:31:20.545192187Z"})";
  EXPECT_TRUE(Feed(*chain, Line(R"({"log":"part one, ")" + t, kPodLog, 100)).empty());
  EXPECT_EQ(chain->PendingStart(kPodLog), 100u);
  EXPECT_FALSE(chain->PendingStart("/other.log").has_value());
  EXPECT_TRUE(Feed(*chain, Line(R"({"log":"part two, ")" + t, kPodLog, 200)).empty());
  EXPECT_EQ(chain->PendingStart(kPodLog), 100u);
  Entry last = Line(R"({"log":"end\n")" + t, kPodLog, 300);
  const uint64_t last_end = last.offset_end;
  auto out = Feed(*chain, std::move(last));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(Str(&out[0].record.body), "part one, part two, end");
  EXPECT_EQ(out[0].offset_start, 100u);
  EXPECT_EQ(out[0].offset_end, last_end);
  EXPECT_EQ(Res(out[0], "k8s.pod.name"), "checkout-7d9f");
  EXPECT_FALSE(chain->PendingStart(kPodLog).has_value());
}

TEST(FilelogOperators, ContainerCriPartialsKeyedByFileAndStream) {
  auto chain = Build("operators:\n  - type: container\n");
  EXPECT_TRUE(Feed(*chain, Line("2023-06-22T10:27:25.813799277Z stdout P multiline containerd line that i", kPodLog, 0))
                  .empty());
  // A complete stderr line in between is not part of the stdout record.
  auto err = Feed(*chain, Line("2023-06-22T10:27:26.000000000Z stderr F oops", kPodLog, 80));
  ASSERT_EQ(err.size(), 1u);
  EXPECT_EQ(Str(&err[0].record.body), "oops");
  EXPECT_EQ(Attr(err[0], "log.iostream"), "stderr");
  EXPECT_EQ(chain->PendingStart(kPodLog), 0u);
  // Another file's partial is independent.
  const std::string other = "/var/log/pods/ns_other_0a/c/0.log";
  EXPECT_TRUE(Feed(*chain, Line("2023-06-22T10:27:25Z stdout P other ", other, 40)).empty());
  EXPECT_EQ(chain->PendingStart(other), 40u);
  auto out = Feed(*chain, Line("2023-06-22T10:27:25.900000000Z stdout F s super awesome", kPodLog, 120));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(Str(&out[0].record.body), "multiline containerd line that is super awesome");
  EXPECT_EQ(out[0].record.time_ns, 1687429645813799277ULL);  // the first part's time
  EXPECT_EQ(Attr(out[0], "logtag"), "F");
  EXPECT_EQ(Attr(out[0], "log.iostream"), "stdout");
  EXPECT_EQ(Res(out[0], "k8s.namespace.name"), "shop");
  EXPECT_FALSE(chain->PendingStart(kPodLog).has_value());
  EXPECT_EQ(chain->PendingStart(other), 40u);
}

TEST(FilelogOperators, ContainerCrioTimeWithOffset) {
  auto chain = Build("operators:\n  - type: container\n    add_metadata_from_filepath: false\n");
  auto out = Feed(*chain, Line("2024-04-13T07:59:37.505201169-05:00 stdout F standalone crio line", "/x.log"));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].record.time_ns, 1713013177505201169ULL);
  EXPECT_EQ(Str(&out[0].record.body), "standalone crio line");
  EXPECT_TRUE(out[0].resource.empty());
  EXPECT_EQ(chain->stats().parse_errors, 0u);
}

TEST(FilelogOperators, ContainerFlushReleasesOldHeldEntries) {
  auto chain = Build("operators:\n  - type: container\n");
  const std::string other = "/var/log/pods/ns_other_0a/c/0.log";
  EXPECT_TRUE(Feed(*chain, Line("2023-06-22T10:27:25Z stdout P old", kPodLog, 10, /*observed=*/1'000)).empty());
  EXPECT_TRUE(Feed(*chain, Line("2023-06-22T10:27:25Z stdout P new", other, 20, /*observed=*/5'000)).empty());
  std::vector<Entry> out;
  chain->Flush(/*now=*/6'000, /*max_hold=*/2'000, &out);  // only the one held since 1'000
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(Str(&out[0].record.body), "old");
  EXPECT_FALSE(chain->PendingStart(kPodLog).has_value());
  EXPECT_EQ(chain->PendingStart(other), 20u);
  out.clear();
  chain->Flush(6'000, 0, &out);  // everything
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(Str(&out[0].record.body), "new");
  EXPECT_FALSE(chain->PendingStart(other).has_value());
}

TEST(FilelogOperators, ContainerFlushedEntriesGoThroughLaterOperators) {
  auto chain = Build(R"yaml(operators:
  - type: container
  - type: add
    field: attributes.after
    value: yes-it-ran
)yaml");
  EXPECT_TRUE(Feed(*chain, Line("2023-06-22T10:27:25Z stdout P cut", kPodLog)).empty());
  std::vector<Entry> out;
  chain->Flush(0, 0, &out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(Attr(out[0], "after"), "yes-it-ran");
}

TEST(FilelogOperators, ContainerMaxLogSizeBoundsRecombination) {
  auto chain = Build("operators:\n  - type: container\n    max_log_size: 10\n");
  EXPECT_TRUE(Feed(*chain, Line("2023-06-22T10:27:25Z stdout P 12345", kPodLog)).empty());
  auto out = Feed(*chain, Line("2023-06-22T10:27:25Z stdout P 67890abc", kPodLog));
  ASSERT_EQ(out.size(), 1u);  // 13 bytes >= 10: sent although not finished
  EXPECT_EQ(Str(&out[0].record.body), "1234567890abc");
  EXPECT_FALSE(chain->PendingStart(kPodLog).has_value());
}

TEST(FilelogOperators, ForgetReleasesHeldEntriesOnTheNextCall) {
  auto chain = Build("operators:\n  - type: container\n");
  EXPECT_TRUE(Feed(*chain, Line("2023-06-22T10:27:25Z stdout P gone", kPodLog)).empty());
  chain->Forget(kPodLog);
  EXPECT_FALSE(chain->PendingStart(kPodLog).has_value());
  auto out = Feed(*chain, Line("2023-06-22T10:27:25Z stdout F next", "/var/log/pods/a_b_c/d/0.log"));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(Str(&out[0].record.body), "gone");
  EXPECT_EQ(Str(&out[1].record.body), "next");
}

TEST(FilelogOperators, ContainerPathWithoutPodLayoutIsAnError) {
  auto chain = Build("operators:\n  - type: container\n");
  auto out = Feed(*chain, Line("2023-06-22T10:27:25Z stdout F hi", "/var/log/app.log"));
  ASSERT_EQ(out.size(), 1u);  // on_error: send
  EXPECT_EQ(Str(&out[0].record.body), "hi");
  EXPECT_EQ(chain->stats().parse_errors, 1u);
}

TEST(FilelogOperators, ContainerRejectsGarbage) {
  auto chain = Build("operators:\n  - type: container\n    on_error: drop_quiet\n");
  EXPECT_TRUE(Feed(*chain, Line("not a container line", kPodLog)).empty());
  EXPECT_TRUE(Feed(*chain, Line("{\"log\": 12}", kPodLog)).empty());
  EXPECT_TRUE(Feed(*chain, Line("2023-13-22T10:27:25Z stdout F bad month", kPodLog)).empty());
  EXPECT_EQ(chain->stats().parse_errors, 3u);
  EXPECT_EQ(chain->stats().dropped, 3u);
}

// ---- nginx access log ----

TEST(FilelogOperators, NginxAccessLogRegexTimestampSeverity) {
  auto chain = Build(R"yaml(operators:
  - type: regex_parser
    id: nginx
    regex: '^(?P<remote_addr>\S+) \S+ (?P<remote_user>\S+) \[(?P<time_local>[^\]]+)\] "(?P<method>\S+) (?P<path>\S+) (?P<protocol>[^"]+)" (?P<status>\d{3}) (?P<bytes>\d+) "(?P<referer>[^"]*)" "(?P<user_agent>[^"]*)"'
    timestamp:
      parse_from: attributes.time_local
      layout: '%d/%b/%Y:%H:%M:%S %z'
    severity:
      parse_from: attributes.status
      mapping:
        info: 2xx
        warn: 4xx
        error: 5xx
)yaml");
  auto out = Feed(
      *chain, Line(R"(192.168.1.10 - - [10/Oct/2023:13:55:36 +0200] "GET /index.html HTTP/1.1" 404 153 "-" "curl/8.0")",
                   "/var/log/nginx/access.log"));
  ASSERT_EQ(out.size(), 1u);
  const Entry& e = out[0];
  EXPECT_EQ(Attr(e, "remote_addr"), "192.168.1.10");
  EXPECT_EQ(Attr(e, "method"), "GET");
  EXPECT_EQ(Attr(e, "path"), "/index.html");
  EXPECT_EQ(Attr(e, "status"), "404");
  EXPECT_EQ(Attr(e, "user_agent"), "curl/8.0");
  EXPECT_EQ(e.record.time_ns, 1696938936000000000ULL);
  EXPECT_EQ(e.record.severity_number, 13);
  EXPECT_EQ(e.record.severity_text, "404");
  // The body stays the line (parse_to: attributes).
  EXPECT_EQ(Str(&e.record.body).substr(0, 12), "192.168.1.10");

  auto ok = Feed(*chain, Line(R"(10.0.0.1 - bob [10/Oct/2023:13:55:37 +0200] "POST /api HTTP/2.0" 503 0 "-" "x")"));
  ASSERT_EQ(ok.size(), 1u);
  EXPECT_EQ(ok[0].record.severity_number, 17);
  EXPECT_EQ(Attr(ok[0], "remote_user"), "bob");

  auto nomatch = Feed(*chain, Line("garbage"));
  ASSERT_EQ(nomatch.size(), 1u);
  EXPECT_EQ(chain->stats().parse_errors, 1u);
  EXPECT_TRUE(nomatch[0].record.attributes.empty());
}

// ---- json ----

TEST(FilelogOperators, JsonParserNestedValues) {
  auto chain = Build("operators:\n  - type: json_parser\n");
  auto out =
      Feed(*chain, Line(R"({"msg":"h\u00e9llo \ud83d\ude00","n":42,"big":18446744073709551615,"f":1.5,"ok":true,)"
                        R"("none":null,"req":{"id":"a1","hdr":{"k":"v"}},"tags":["x",2],"n":43})"));
  ASSERT_EQ(out.size(), 1u);
  const ValueMap& a = out[0].record.attributes;
  EXPECT_EQ(Str(pdata::Find(a, "msg")), "h\xc3\xa9llo \xf0\x9f\x98\x80");
  EXPECT_EQ(*pdata::Find(a, "n"), Value(int64_t{43}));  // a repeated key: the last value wins
  EXPECT_EQ(*pdata::Find(a, "big"), Value(18446744073709551615.0));
  EXPECT_EQ(*pdata::Find(a, "f"), Value(1.5));
  EXPECT_EQ(*pdata::Find(a, "ok"), Value(true));
  EXPECT_TRUE(pdata::Find(a, "none")->empty());
  const ValueMap* req = pdata::Find(a, "req")->map();
  ASSERT_NE(req, nullptr);
  EXPECT_EQ(Str(pdata::Find(*req, "id")), "a1");
  EXPECT_EQ(Str(pdata::Find(*pdata::Find(*req, "hdr")->map(), "k")), "v");
  EXPECT_EQ(*pdata::Find(a, "tags"), Value(ValueList{Value("x"), Value(int64_t{2})}));
  size_t n_count = 0;
  for (const auto& kv : a) n_count += kv.first == "n";
  EXPECT_EQ(n_count, 1u);
}

TEST(FilelogOperators, JsonParserToBodyWithTimestampAndParseIntsOff) {
  auto chain = Build(R"yaml(operators:
  - type: json_parser
    parse_to: body
    parse_ints: false
    timestamp:
      parse_from: body.ts
      layout_type: epoch
      layout: ms
    severity:
      parse_from: body.level
)yaml");
  auto out = Feed(*chain, Line(R"({"ts":1136214245123,"level":"Warning","n":7})"));
  ASSERT_EQ(out.size(), 1u);
  const ValueMap* body = out[0].record.body.map();
  ASSERT_NE(body, nullptr);
  EXPECT_EQ(*pdata::Find(*body, "n"), Value(7.0));
  EXPECT_EQ(out[0].record.time_ns, 1136214245123000000ULL);
  EXPECT_EQ(out[0].record.severity_number, 13);
  EXPECT_EQ(out[0].record.severity_text, "Warning");
}

TEST(FilelogOperators, JsonParserRejectsNonObjectsAndDeepNesting) {
  auto chain = Build("operators:\n  - type: json_parser\n    on_error: drop_quiet\n");
  EXPECT_TRUE(Feed(*chain, Line("[1,2]")).empty());
  EXPECT_TRUE(Feed(*chain, Line("{\"a\":")).empty());
  EXPECT_TRUE(Feed(*chain, Line("{\"a\":1} trailing")).empty());
  EXPECT_TRUE(Feed(*chain, Line(std::string(10000, '[') + std::string(10000, ']'))).empty());
  std::string deep = "{\"a\":" + std::string(100, '[') + std::string(100, ']') + "}";
  EXPECT_TRUE(Feed(*chain, Line(deep)).empty());
  EXPECT_EQ(chain->stats().dropped, 5u);
  EXPECT_EQ(Feed(*chain, Line("{\"a\":[[[1]]]}")).size(), 1u);
}

// ---- on_error ----

TEST(FilelogOperators, EveryOnErrorMode) {
  struct Case {
    const char* mode;
    size_t out;
    uint64_t dropped;
  };
  for (const Case& c : {Case{"send", 1, 0}, Case{"send_quiet", 1, 0}, Case{"drop", 0, 1}, Case{"drop_quiet", 0, 1}}) {
    auto chain = Build(std::string("operators:\n  - type: json_parser\n    on_error: ") + c.mode + "\n");
    auto out = Feed(*chain, Line("not json"));
    EXPECT_EQ(out.size(), c.out) << c.mode;
    EXPECT_EQ(chain->stats().parse_errors, 1u) << c.mode;
    EXPECT_EQ(chain->stats().dropped, c.dropped) << c.mode;
    if (!out.empty()) {
      EXPECT_EQ(Str(&out[0].record.body), "not json") << c.mode;
    }
  }
  // The default is send.
  auto chain = Build("operators:\n  - type: json_parser\n");
  EXPECT_EQ(Feed(*chain, Line("not json")).size(), 1u);
}

TEST(FilelogOperators, SendOnErrorPassesTheEntryToTheNextOperator) {
  auto chain = Build(R"yaml(operators:
  - type: json_parser
  - type: add
    field: attributes.after
    value: x
)yaml");
  auto bad = Feed(*chain, Line("nope"));
  ASSERT_EQ(bad.size(), 1u);
  EXPECT_EQ(Attr(bad[0], "after"), "x");  // like upstream: sent on unparsed to the next operator
  EXPECT_EQ(Str(&bad[0].record.body), "nope");
  auto good = Feed(*chain, Line("{}"));
  ASSERT_EQ(good.size(), 1u);
  EXPECT_EQ(Attr(good[0], "after"), "x");
}

// ---- transformers ----

TEST(FilelogOperators, AddMoveRemoveCopyRetainFlatten) {
  auto chain = Build(R"yaml(operators:
  - type: json_parser
  - type: add
    field: resource["service.name"]
    value: checkout
  - type: add
    field: attributes.count
    value: 3
  - type: add
    field: attributes.quoted
    value: "3"
  - type: add
    field: body.extra
    value: {a: 1, b: [x, y]}
  - type: move
    from: attributes.msg
    to: attributes["message.text"]
  - type: copy
    from: attributes["message.text"]
    to: resource.copied
  - type: remove
    field: attributes.secret
  - type: flatten
    field: attributes.http
)yaml");
  auto out = Feed(*chain, Line(R"({"msg":"hi","secret":"s3","http":{"method":"GET","status":200}})"));
  ASSERT_EQ(out.size(), 1u);
  const Entry& e = out[0];
  EXPECT_EQ(Res(e, "service.name"), "checkout");
  EXPECT_EQ(*pdata::Find(e.record.attributes, "count"), Value(int64_t{3}));
  EXPECT_EQ(Attr(e, "quoted"), "3");
  EXPECT_EQ(Attr(e, "msg"), "<none>");
  EXPECT_EQ(Attr(e, "message.text"), "hi");
  EXPECT_EQ(Res(e, "copied"), "hi");
  EXPECT_EQ(pdata::Find(e.record.attributes, "secret"), nullptr);
  EXPECT_EQ(pdata::Find(e.record.attributes, "http"), nullptr);
  EXPECT_EQ(Attr(e, "method"), "GET");
  EXPECT_EQ(*pdata::Find(e.record.attributes, "status"), Value(int64_t{200}));
  // body was a string: setting body.extra turns it into a map
  const ValueMap* body = e.record.body.map();
  ASSERT_NE(body, nullptr);
  EXPECT_EQ(*pdata::Find(*body, "extra"),
            Value(ValueMap{{"a", Value(int64_t{1})}, {"b", Value(ValueList{Value("x"), Value("y")})}}));

  // remove of a missing field is an error (on_error applies)
  auto again = Feed(*chain, Line(R"({"msg":"hi","http":{}})"));
  EXPECT_EQ(chain->stats().parse_errors, 1u);
}

TEST(FilelogOperators, RetainKeepsOnlyListedFieldsOfTheirRoots) {
  auto chain = Build(R"yaml(operators:
  - type: json_parser
  - type: add
    field: resource.keep
    value: r
  - type: retain
    fields:
      - attributes.a
      - 'attributes["b.c"]'
)yaml");
  auto out = Feed(*chain, Line(R"({"a":1,"b.c":2,"d":3})"));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].record.attributes.size(), 2u);
  EXPECT_NE(pdata::Find(out[0].record.attributes, "b.c"), nullptr);
  EXPECT_EQ(pdata::Find(out[0].record.attributes, "d"), nullptr);
  EXPECT_EQ(Res(out[0], "keep"), "r");  // resource not listed: untouched
}

TEST(FilelogOperators, MoveToBodyAndStandaloneParsers) {
  auto chain = Build(R"yaml(operators:
  - type: regex_parser
    regex: '^(?P<ts>\S+ \S+) (?P<level>\w+) (?P<msg>.*)$'
  - type: time_parser
    parse_from: attributes.ts
    layout_type: gotime
    layout: '2006-01-02 15:04:05.000'
    location: America/New_York
  - type: severity_parser
    parse_from: attributes.level
    overwrite_text: true
    mapping:
      fatal: [panic, emerg]
  - type: move
    from: attributes.msg
    to: body
)yaml");
  auto out = Feed(*chain, Line("2006-01-02 17:04:05.250 PANIC disk on fire"));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(Str(&out[0].record.body), "disk on fire");
  EXPECT_EQ(out[0].record.time_ns, 1136239445250000000ULL);  // 17:04:05 EST = 22:04:05Z
  EXPECT_EQ(out[0].record.severity_number, 21);
  EXPECT_EQ(out[0].record.severity_text, "FATAL");
}

// ---- fields, layouts ----

TEST(FilelogOperators, FieldSyntax) {
  auto f = ParseField(R"(attributes["k8s.pod.name"].sub)");
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->root, Field::Root::kAttributes);
  EXPECT_EQ(f->path, (std::vector<std::string>{"k8s.pod.name", "sub"}));
  auto b = ParseField("body.a.b");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->path, (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(ParseField("resource").ok());
  EXPECT_FALSE(ParseField("attrs.x").ok());
  EXPECT_FALSE(ParseField("bodyx").ok());
  EXPECT_FALSE(ParseField("body.").ok());
  EXPECT_FALSE(ParseField("attributes[\"x").ok());
  EXPECT_FALSE(ParseField("attributes[]").ok());
}

TEST(FilelogOperators, TimeLayouts) {
  auto go = TimeLayout::Compile("gotime", "Jan _2 15:04:05", "UTC");
  ASSERT_TRUE(go.ok()) << go.status();
  // No year: this year, or last year if that would be in the future.
  uint64_t now = 1700000000ULL * 1000000000ULL;  // 2023-11-14
  auto t = go->ParseString("Mar  5 01:02:03", now);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(*t, 1677978123ULL * 1000000000ULL);  // 2023-03-05
  auto dec = TimeLayout::Compile("strptime", "%b %e %H:%M:%S", "UTC")
                 ->ParseString("Dec 31 23:00:00", 1704067200ULL * 1000000000ULL + 1);
  ASSERT_TRUE(dec.ok()) << dec.status();
  EXPECT_EQ(*dec, 1704063600ULL * 1000000000ULL);  // 2023-12-31 read on 2024-01-01

  auto iso = TimeLayout::Compile("strptime", "%Y-%m-%dT%H:%M:%S.%f%z", "UTC");
  ASSERT_TRUE(iso.ok());
  EXPECT_EQ(*iso->ParseString("2006-01-02T15:04:05.123456-07:00", 0), 1136239445123456000ULL);
  EXPECT_EQ(*iso->ParseString("2006-01-02T22:04:05.123456Z", 0), 1136239445123456000ULL);
  EXPECT_FALSE(iso->ParseString("2006-02-30T22:04:05.123456Z", 0).ok());
  EXPECT_FALSE(iso->ParseString("2006-01-02T22:04:05.123456Z junk", 0).ok());
  auto ampm = TimeLayout::Compile("strptime", "%Y-%m-%d %I:%M %p", "UTC");
  EXPECT_EQ(*ampm->ParseString("2006-01-02 10:04 PM", 0), 1136239440ULL * 1000000000ULL);

  auto epoch = TimeLayout::Compile("epoch", "s.ms");
  EXPECT_EQ(*epoch->ParseString("1136214245.123", 0), 1136214245123000000ULL);
  EXPECT_EQ(*epoch->Parse(Value(int64_t{1136214245}), 0), 1136214245000000000ULL);
  EXPECT_FALSE(epoch->ParseString("12x", 0).ok());

  EXPECT_FALSE(TimeLayout::Compile("strptime", "%Y-%Q").ok());
  EXPECT_FALSE(TimeLayout::Compile("gotime", "%Y-%m-%d").ok());  // no Go element
  EXPECT_FALSE(TimeLayout::Compile("epoch", "minutes").ok());
  EXPECT_FALSE(TimeLayout::Compile("strptime", "%Y", "Mars/Olympus").ok());
}

TEST(FilelogOperators, DockerLineDecoder) {
  DockerLine d;
  ASSERT_TRUE(
      ParseDockerLine(R"( {"log":"a\tb\\c\/\u0041\ud83d\ude00\n", "stream":"stderr","time":"t","attrs":"x"} )", &d));
  EXPECT_EQ(d.log, "a\tb\\c/A\xf0\x9f\x98\x80\n");
  EXPECT_EQ(d.stream, "stderr");
  EXPECT_EQ(d.time, "t");
  EXPECT_FALSE(ParseDockerLine(R"({"log":"x")", &d));
  EXPECT_FALSE(ParseDockerLine(R"({"log":"\q"})", &d));
  EXPECT_FALSE(ParseDockerLine(R"({"log":"\u12"})", &d));
  EXPECT_FALSE(ParseDockerLine(R"({"stream":"stdout"})", &d));
  // Lone surrogates become U+FFFD.
  ASSERT_TRUE(ParseDockerLine(R"({"log":"\ud800x"})", &d));
  EXPECT_EQ(d.log, "\xef\xbf\xbdx");
}

// ---- configuration errors ----

bool HasError(const std::vector<std::string>& errors, std::string_view needle) {
  for (const auto& e : errors) {
    if (e.find(needle) != std::string::npos) return true;
  }
  return false;
}

std::string Dump(const std::vector<std::string>& errors) {
  std::string s;
  for (const auto& e : errors) s += e + "\n";
  return s;
}

TEST(FilelogOperators, ConfigErrorsCarryPathLineAndSuggestion) {
  auto errors = DecodeErrors(R"yaml(operators:
  - type: json_parsr
  - type: regex_parser
    regx: '(?P<a>x)'
  - type: regex_parser
    regex: '(?P<a>x'
  - type: regex_parser
    regex: 'no groups'
  - type: move
    from: atributes.x
    to: body
  - type: json_parser
    timestamp:
      parse_from: attributes.t
      layout: '%Y-%Q'
  - type: json_parser
    id: j2
    if: 'body matches "x"'
    severity:
      parse_from: attributes.l
      mapping:
        eror: oops
  - type: router
  - type: add
    field: body.x
    value: EXPR(body.y)
  - type: time_parser
    layout: '%Y'
    location: Nowhere/City
)yaml");
  const std::string all = Dump(errors);
  EXPECT_TRUE(HasError(errors,
                       "receivers.filelog.operators[0].type (line 2): unknown operator type \"json_parsr\"; did you "
                       "mean 'json_parser'?"))
      << all;
  EXPECT_TRUE(HasError(errors, "receivers.filelog.operators[1].regx (line 4): unknown key; did you mean 'regex'?"))
      << all;
  EXPECT_TRUE(HasError(errors, "receivers.filelog.operators[1].regex")) << all;  // required
  EXPECT_TRUE(HasError(errors, "receivers.filelog.operators[2].regex (line 6): does not compile")) << all;
  EXPECT_TRUE(HasError(errors, "receivers.filelog.operators[3].regex (line 8): has no named capture group")) << all;
  EXPECT_TRUE(HasError(errors, "receivers.filelog.operators[4].from (line 10): invalid field \"atributes.x\"")) << all;
  EXPECT_TRUE(
      HasError(errors, "receivers.filelog.operators[5].timestamp.layout (line 15): unsupported strptime directive %Q"))
      << all;
  EXPECT_TRUE(HasError(errors, "receivers.filelog.operators[6].if (line 18): expressions are not supported")) << all;
  EXPECT_TRUE(HasError(
      errors,
      "receivers.filelog.operators[6].severity.mapping.eror (line 22): unknown severity; did you mean 'error'?"))
      << all;
  EXPECT_TRUE(HasError(errors, "receivers.filelog.operators[7].type (line 23): operator \"router\" is not supported"))
      << all;
  EXPECT_TRUE(
      HasError(errors, "receivers.filelog.operators[8].value (line 26): EXPR(...) expressions are not supported"))
      << all;
  EXPECT_TRUE(HasError(errors, "receivers.filelog.operators[9].location (line 29): unknown time zone")) << all;
}

TEST(FilelogOperators, ConfigErrorsOnIdsOutputsAndShapes) {
  auto errors = DecodeErrors(R"yaml(operators:
  - type: json_parser
    output: nowhere
  - type: json_parser
    id: json_parser
  - type: add
    field: attributes
    value: scalar
  - type: container
    format: podman
  - just a string
)yaml");
  const std::string all = Dump(errors);
  EXPECT_TRUE(HasError(errors, "operators[0].output (line 3): output \"nowhere\" is not the next operator")) << all;
  EXPECT_TRUE(HasError(errors, "operators[1].id (line 5)")) << all;
  EXPECT_TRUE(HasError(errors, "duplicate operator id \"json_parser\"")) << all;
  EXPECT_TRUE(HasError(errors, "operators[2].value (line 8): a value added to attributes must be a map")) << all;
  EXPECT_TRUE(HasError(errors, "operators[3].format (line 10): \"podman\" is not one of")) << all;
  EXPECT_TRUE(HasError(errors, "operators[4] (line 11): expected a mapping")) << all;

  // A chain with errors does not build.
  config::Errors e;
  YAML::Node root = YAML::Load("operators:\n  - type: nope\n");
  config::Node node(root, "", &e);
  ChainConfig cfg;
  cfg.Decode(node);
  EXPECT_FALSE(BuildChain(cfg).ok());
  EXPECT_TRUE(
      DecodeErrors("operators:\n  - type: json_parser\n    output: second\n  - type: noop\n    id: second\n").empty());
}

// A range without min or max is a config error, not an exception from yaml-cpp (a const
// node's operator[] on a missing key gives an invalid node whose IsScalar() throws).
TEST(FilelogOperators, SeverityRangeMissingMinOrMaxIsAConfigError) {
  std::vector<std::string> errors;
  ASSERT_NO_THROW(errors = DecodeErrors(R"yaml(operators:
  - type: severity_parser
    parse_from: body.lvl
    mapping: {error: {max: 599}, warn: [{min: 400}], info: {min: 1, max: 2}}
  - type: json_parser
    severity: {parse_from: body.lvl, mapping: {error: {max: 599}}}
)yaml"));
  const std::string all = Dump(errors);
  EXPECT_TRUE(HasError(errors, "operators[0].mapping.error (line 4): a range is {min: <integer>, max: <integer>}"))
      << all;
  EXPECT_TRUE(HasError(errors, "operators[0].mapping.warn (line 4): a range is")) << all;
  EXPECT_FALSE(HasError(errors, "mapping.info")) << all;
  EXPECT_TRUE(HasError(errors, "operators[1].severity.mapping.error (line 6): a range is")) << all;
}

// The container parser keeps the log text in the body (partial lines are appended to
// it): a parse_to under body would replace it with a map, so it is a config error.
TEST(FilelogOperators, ContainerParseToBodyIsAConfigError) {
  for (const char* to : {"body", "body.x"}) {
    auto errors = DecodeErrors(std::string("operators:\n  - type: container\n    parse_to: ") + to + "\n");
    EXPECT_TRUE(HasError(errors, "operators[0].parse_to (line 3): the container parser keeps the log text in the body"))
        << to << ": " << Dump(errors);
  }
  EXPECT_TRUE(DecodeErrors("operators:\n  - type: container\n    parse_to: resource\n").empty());
  EXPECT_TRUE(DecodeErrors("operators:\n  - type: container\n    parse_to: attributes.cri\n").empty());
  // Under attributes.x the partial lines are still joined.
  auto chain = Build("operators:\n  - type: container\n    parse_to: attributes.cri\n");
  ASSERT_NE(chain, nullptr);
  EXPECT_TRUE(Feed(*chain, Line("2024-05-01T10:00:00.000000001Z stdout P hel")).empty());
  auto out = Feed(*chain, Line("2024-05-01T10:00:00.000000002Z stdout F lo", kPodLog, 50));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(Str(&out[0].record.body), "hello");
}

}  // namespace
}  // namespace outrigger::receivers::filelog::operators
