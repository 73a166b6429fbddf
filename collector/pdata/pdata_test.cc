#include "collector/pdata/pdata.h"

#include <google/protobuf/arena.h>
#include <gtest/gtest.h>

#include <cstdint>

#include "collector/pdata/builders.h"
#include "tests/testutil/testutil.h"

namespace outrigger::pdata {
namespace {

using testutil::MakeTraces;
using testutil::SpanNames;

TEST(Pdata, ProtoRoundTrip) {
  auto t = MakeTraces(3, "svc", "a");
  std::string bytes = t.ToProto();
  auto back = Traces::FromProto(bytes);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->ItemCount(), 3u);
  EXPECT_EQ(SpanNames(*back), (std::vector<std::string>{"a-0", "a-1", "a-2"}));
  EXPECT_EQ(back->ToProto(), bytes);
}

TEST(Pdata, GarbageAndTruncatedProtobufAreRefused) {
  std::string bytes = MakeTraces(5).ToProto();
  auto truncated = Traces::FromProto(std::string_view(bytes).substr(0, bytes.size() - 7));
  EXPECT_EQ(truncated.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(truncated.status().message()).find("malformed OTLP protobuf"), std::string::npos);
  auto garbage = Traces::FromProto(std::string_view("\xff\xff\xff\xff\xff\x01garbage"));
  EXPECT_FALSE(garbage.ok());
}

TEST(Pdata, AppendConcatenatesWithoutLosingRecords) {
  auto a = MakeTraces(2, "svc", "a");
  a.Append(MakeTraces(3, "svc", "b"));
  EXPECT_EQ(a.ItemCount(), 5u);
  EXPECT_EQ(a.ResourceCount(), 2u);
  // The concatenated encoding decodes as one request with both resources.
  auto back = Traces::FromProto(a.ToProto());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(SpanNames(*back), (std::vector<std::string>{"a-0", "a-1", "b-0", "b-1", "b-2"}));
  EXPECT_EQ(back->ResourceCount(), 2u);
}

TEST(Pdata, SplitFrontTakesExactlyTheFirstItems) {
  auto t = MakeTraces(4, "svc", "a");
  t.Append(MakeTraces(4, "svc", "b"));
  auto front = t.SplitFront(6);
  EXPECT_EQ(front.ItemCount(), 6u);
  EXPECT_EQ(t.ItemCount(), 2u);
  EXPECT_EQ(SpanNames(front), (std::vector<std::string>{"a-0", "a-1", "a-2", "a-3", "b-0", "b-1"}));
  EXPECT_EQ(SpanNames(t), (std::vector<std::string>{"b-2", "b-3"}));
  // The split resource keeps its attributes on both sides.
  EXPECT_EQ(front.ResourceCount(), 2u);
  EXPECT_EQ(t.ResourceCount(), 1u);
  auto rest = t.SplitFront(100);
  EXPECT_EQ(rest.ItemCount(), 2u);
  EXPECT_EQ(t.ItemCount(), 0u);
}

TEST(Pdata, SplitOfASharedPartLeavesTheOtherHandleIntact) {
  auto t = MakeTraces(4);
  auto copy = t.Clone();
  auto front = t.SplitFront(1);
  EXPECT_EQ(front.ItemCount(), 1u);
  EXPECT_EQ(t.ItemCount(), 3u);
  EXPECT_EQ(copy.ItemCount(), 4u);
}

TEST(Pdata, MutationCopiesSharedPartsOnly) {
  auto t = MakeTraces(2, "svc", "orig");
  auto clone = t.Clone();
  clone.ForEachMutableRequest([](testutil::tpb::ExportTraceServiceRequest& r) {
    r.mutable_resource_spans(0)->mutable_scope_spans(0)->mutable_spans(0)->set_name("changed");
  });
  EXPECT_EQ(SpanNames(t)[0], "orig-0");
  EXPECT_EQ(SpanNames(clone)[0], "changed");
}

TEST(Pdata, ReceivedBytesPassThroughUntilChanged) {
  const std::string wire = MakeTraces(3, "svc", "w").ToProto();
  auto t = Traces::FromProto(std::string(wire));
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->ItemCount(), 3u);
  EXPECT_EQ(t->ByteSize(), wire.size());
  auto shared = t->Clone();
  // Reading decodes without changing what is sent.
  EXPECT_EQ(SpanNames(shared), (std::vector<std::string>{"w-0", "w-1", "w-2"}));
  EXPECT_EQ(shared.ToProto(), wire);
  // Changing one handle leaves the other one's bytes as received.
  t->ForEachMutableRequest([](testutil::tpb::ExportTraceServiceRequest& r) {
    r.mutable_resource_spans(0)->mutable_scope_spans(0)->mutable_spans()->RemoveLast();
  });
  EXPECT_EQ(t->ItemCount(), 2u);
  EXPECT_EQ(shared.ItemCount(), 3u);
  EXPECT_EQ(shared.ToProto(), wire);
  auto back = Traces::FromProto(t->ToProto());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(SpanNames(*back), (std::vector<std::string>{"w-0", "w-1"}));
}

TEST(Pdata, ReceivedAndBuiltPartsConcatenate) {
  auto t = Traces::FromProto(MakeTraces(2, "svc", "r").ToProto());
  ASSERT_TRUE(t.ok());
  t->Append(MakeTraces(1, "svc", "b"));
  auto back = Traces::FromProto(t->ToProto());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(SpanNames(*back), (std::vector<std::string>{"r-0", "r-1", "b-0"}));
  std::string why;
  EXPECT_EQ(t->DropInvalidIds(&why), 0u);
}

TEST(Pdata, JsonUsesHexIdsAndRoundTrips) {
  auto t = MakeTraces(1, "svc", "j");
  std::string json = t.ToJson();
  EXPECT_NE(json.find("\"traceId\":\""), std::string::npos);
  EXPECT_NE(json.find("\"resourceSpans\""), std::string::npos);
  // 64-bit integers as strings.
  EXPECT_NE(json.find("\"startTimeUnixNano\":\"1000\""), std::string::npos);
  auto back = Traces::FromJson(json);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->ToProto(), t.ToProto());
}

TEST(Pdata, JsonAcceptsOtlpSpecExample) {
  const char* body =
      R"({"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"x"}}]},
    "scopeSpans":[{"spans":[{"traceId":"5B8EFFF798038103D269B633813FC60C","spanId":"EEE19B7EC3C1B174",
    "parentSpanId":"eee19b7ec3c1b173","name":"op","kind":2,"startTimeUnixNano":1544712660000000000,
    "endTimeUnixNano":"1544712661000000000","attributes":[{"key":"n","value":{"intValue":"42"}}],
    "status":{"code":1},"unknownField":true}]}]}]})";
  auto t = Traces::FromJson(body);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->ItemCount(), 1u);
  std::string json = t->ToJson();
  EXPECT_NE(json.find("5b8efff798038103d269b633813fc60c"), std::string::npos);
  EXPECT_NE(json.find("\"kind\":2"), std::string::npos);  // enums as integers
}

TEST(Pdata, JsonWithBadHexIdIsRefusedWithThePath) {
  auto t = Traces::FromJson(R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"zz"}]}]}]})");
  ASSERT_FALSE(t.ok());
  EXPECT_NE(std::string(t.status().message()).find("traceId"), std::string::npos);
  EXPECT_FALSE(Traces::FromJson("{not json").ok());
  // Deep nesting is refused with a reason, not a stack overflow (50,000 arrays crashed).
  for (const char* open : {"[", "{\"a\":"}) {
    std::string deep = "{\"resourceSpans\":";
    for (int i = 0; i < 50000; ++i) deep += open;
    auto d = Traces::FromJson(deep);
    ASSERT_FALSE(d.ok());
    EXPECT_NE(d.status().message().find("nested more than 100 levels"), std::string::npos) << d.status();
  }
  // Brackets inside strings do not count, and legitimate nesting passes.
  std::string ok =
      R"({"resourceSpans":[{"resource":{"attributes":[{"key":"k","value":{"stringValue":"[[[[{{{{\"]]"}}]}}]})";
  EXPECT_TRUE(Traces::FromJson(ok).ok()) << Traces::FromJson(ok).status();
  EXPECT_FALSE(Traces::FromJson("[1,2]").ok());
}

// A key twice in one object was answered 200 with the first copy silently dropped
// (nlohmann keeps the last): refused, naming the key and where it is.
TEST(Pdata, JsonWithADuplicatedKeyIsRefused) {
  const std::string rs = R"({"scopeSpans":[{"spans":[{"traceId":"5b8efff798038103d269b633813fc60c",)"
                         R"("spanId":"eee19b7ec3c1b174","name":"op"}]}]})";
  auto twice = Traces::FromJson(StrCat(R"({"resourceSpans":[)", rs, R"(],"resourceSpans":[)", rs, "]}"));
  ASSERT_FALSE(twice.ok());
  EXPECT_EQ(twice.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(twice.status().message().find("duplicate key resourceSpans in the object at $ "), std::string::npos)
      << twice.status();
  // A singular field twice, deeper down: the path says where.
  auto name =
      Traces::FromJson(R"({"resourceSpans":[{},{"scopeSpans":[{"spans":[{"name":"a","kind":1,"name":"b"}]}]}]})");
  ASSERT_FALSE(name.ok());
  EXPECT_NE(
      name.status().message().find("duplicate key name in the object at $.resourceSpans[1].scopeSpans[0].spans[0]"),
      std::string::npos)
      << name.status();
  auto metrics = Metrics::FromJson(R"({"resourceMetrics":[],"resourceMetrics":[]})");
  EXPECT_NE(metrics.status().message().find("duplicate key resourceMetrics"), std::string::npos) << metrics.status();
  auto logs = Logs::FromJson(R"({"resourceLogs":[{"resource":{"attributes":[]},"resource":{}}]})");
  EXPECT_NE(logs.status().message().find("duplicate key resource in the object at $.resourceLogs[0]"),
            std::string::npos)
      << logs.status();
  // Among many keys of one object (unknown keys are ignored, but each is checked).
  std::string many = R"({"resourceSpans":[],)";
  for (int i = 0; i < 50000; ++i) StrAppend(&many, "\"k", i, "\":0,");
  StrAppend(&many, R"("k17":1})");
  auto among = Traces::FromJson(many);
  EXPECT_NE(among.status().message().find("duplicate key k17 in the object at $ "), std::string::npos)
      << among.status();
  // The same key in different objects is fine.
  auto ok = Traces::FromJson(StrCat(R"({"resourceSpans":[)", rs, ",", rs, "]}"));
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->ItemCount(), 2u);
}

// A part's arena was sized 3 x the encoded size, often not a multiple of 8; protobuf
// then put its cleanup nodes (for strings, unknown fields) at misaligned addresses:
// UB, found by tests/fuzz otlp_proto and prw. This binary is also built with UBSan
// (asan:Pdata.*), where the misaligned store in Arena::Create fails the test.
TEST(Pdata, ArenasOfEverySizeKeepProtobufsCleanupAligned) {
  for (size_t hint : {size_t{0}, size_t{85}, size_t{101}, size_t{1001}, size_t{4097}, size_t{349525}}) {
    testutil::tpb::ExportTraceServiceRequest* req = nullptr;
    auto t = Traces::NewSized(&req, hint);
    google::protobuf::Arena* arena = req->GetArena();
    ASSERT_NE(arena, nullptr);
    for (int i = 0; i < 2000; ++i) {  // several blocks
      auto* s = google::protobuf::Arena::Create<std::string>(arena, 40, 'x');
      ASSERT_EQ(reinterpret_cast<uintptr_t>(s) % alignof(std::string), 0u);
    }
  }
  // The same through decoding: strings and unknown fields of received requests of
  // every size modulo 8 (an unknown field 31 of 0 to 7 bytes at the end).
  const std::string bytes = MakeTraces(3, "svc", "a").ToProto();
  for (size_t k = 0; k < 8; ++k) {
    auto d = Traces::FromProto(bytes + "\xfa\x01" + static_cast<char>(k) + std::string(k, 'u'));
    ASSERT_TRUE(d.ok()) << d.status();
    EXPECT_EQ(SpanNames(*d).size(), 3u);
  }
}

TEST(Pdata, DropInvalidIdsRemovesOnlyBadSpans) {
  auto t = MakeTraces(3);
  t.ForEachMutableRequest([](testutil::tpb::ExportTraceServiceRequest& r) {
    r.mutable_resource_spans(0)->mutable_scope_spans(0)->mutable_spans(1)->set_span_id("abc");
  });
  std::string why;
  EXPECT_EQ(t.DropInvalidIds(&why), 1u);
  EXPECT_EQ(t.ItemCount(), 2u);
  EXPECT_NE(why.find("span_id must be 8 bytes"), std::string::npos);
  EXPECT_EQ(SpanNames(t), (std::vector<std::string>{"span-0", "span-2"}));
}

TEST(Pdata, AllZeroSpanIdsAreInvalid) {
  auto t = MakeTraces(2);
  t.ForEachMutableRequest([](testutil::tpb::ExportTraceServiceRequest& r) {
    r.mutable_resource_spans(0)->mutable_scope_spans(0)->mutable_spans(0)->set_trace_id(std::string(16, '\0'));
  });
  std::string why;
  EXPECT_EQ(t.DropInvalidIds(&why), 1u);
  EXPECT_EQ(why, "trace_id must not be all zeros");
}

std::shared_ptr<const ClientInfo> Client(const std::string& addr) {
  auto c = std::make_shared<ClientInfo>();
  c->address = addr;
  c->port = 4000;
  c->metadata["x-tenant"] = {"t-" + addr};
  return c;
}

// The client address of each span, in order ("" for none).
std::vector<std::string> SpanClients(Traces& t) {
  std::vector<std::string> out;
  t.ForEachMutableRequestWithClient([&](testutil::tpb::ExportTraceServiceRequest& r, const ClientInfo* c) {
    for (const auto& rs : r.resource_spans())
      for (const auto& ss : rs.scope_spans())
        for (int i = 0; i < ss.spans_size(); ++i) out.push_back(c ? c->address : "");
  });
  return out;
}

TEST(Pdata, ClientInfoStaysWithItsRequestThroughAppendSplitCloneAndCopyOnWrite) {
  auto a = Traces::FromProto(MakeTraces(3, "svc", "a").ToProto());
  auto b = Traces::FromProto(MakeTraces(3, "svc", "b").ToProto());
  ASSERT_TRUE(a.ok() && b.ok());
  a->SetClientInfo(Client("10.0.0.1"));
  b->SetClientInfo(Client("10.0.0.2"));
  Traces batch;
  batch.Append(std::move(*a));
  batch.Append(MakeTraces(1, "svc", "none"));  // a builder's part: no client
  batch.Append(std::move(*b));
  // A clone shares the parts; mutating it copies them, clients included.
  Traces clone = batch.Clone();
  EXPECT_EQ(SpanClients(clone),
            (std::vector<std::string>{"10.0.0.1", "10.0.0.1", "10.0.0.1", "", "10.0.0.2", "10.0.0.2", "10.0.0.2"}));
  // Splitting inside the last request: both halves keep its client.
  Traces front = batch.SplitFront(5);
  EXPECT_EQ(SpanClients(front), (std::vector<std::string>{"10.0.0.1", "10.0.0.1", "10.0.0.1", "", "10.0.0.2"}));
  EXPECT_EQ(SpanClients(batch), (std::vector<std::string>{"10.0.0.2", "10.0.0.2"}));
  const ClientInfo* seen = nullptr;
  batch.ForEachRequestWithClient(
      [&](const testutil::tpb::ExportTraceServiceRequest&, const ClientInfo* c) { seen = c; });
  ASSERT_NE(seen, nullptr);
  EXPECT_EQ(seen->port, 4000);
  ASSERT_NE(seen->Metadata("X-Tenant"), nullptr);  // looked up in lower case
  EXPECT_EQ(*seen->Metadata("x-tenant"), std::vector<std::string>{"t-10.0.0.2"});
  EXPECT_EQ(seen->Metadata("x-other"), nullptr);
}

TEST(Pdata, SetClientInfoOnASharedPartLeavesTheOtherHandleAlone) {
  auto a = Traces::FromProto(MakeTraces(2).ToProto());
  ASSERT_TRUE(a.ok());
  a->SetClientInfo(Client("10.0.0.1"));
  Traces other = a->Clone();
  other.SetClientInfo(Client("10.0.0.9"));
  EXPECT_EQ(SpanClients(*a), (std::vector<std::string>{"10.0.0.1", "10.0.0.1"}));
  EXPECT_EQ(SpanClients(other), (std::vector<std::string>{"10.0.0.9", "10.0.0.9"}));
}

TEST(Pdata, ItemCountsPerSignal) {
  EXPECT_EQ(testutil::MakeMetrics(7).ItemCount(), 7u);
  EXPECT_EQ(testutil::MakeLogs(4).ItemCount(), 4u);
  auto m = testutil::MakeMetrics(10);
  auto front = m.SplitFront(3);
  EXPECT_EQ(front.ItemCount() + m.ItemCount(), 10u);
}

TEST(Builders, LogRecordKeepsTypedBodyAttributesAndResource) {
  using pdata::Value;
  pdata::ValueMap resource{{"k8s.pod.name", Value("web-1")}, {"restarts", Value(int64_t{2})}};
  pdata::LogsBuilder b(resource, "filelog");
  pdata::LogRecord r;
  r.time_ns = 5;
  r.observed_time_ns = 7;
  r.severity_number = 17;
  r.severity_text = "ERROR";
  r.body = Value(pdata::ValueMap{{"msg", Value("boom")},
                                 {"n", Value(1.5)},
                                 {"ok", Value(false)},
                                 {"tags", Value(pdata::ValueList{Value("a"), Value(int64_t{3})})}});
  pdata::Set(r.attributes, "log.file.name", Value("a.log"));
  pdata::Set(r.attributes, "log.file.name", Value("b.log"));  // replaces
  b.Add(r);
  EXPECT_EQ(b.records(), 1u);
  pdata::Logs logs = b.Build();
  const std::string json = logs.ToJson();
  EXPECT_NE(json.find(R"("key":"k8s.pod.name","value":{"stringValue":"web-1"})"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("key":"restarts","value":{"intValue":"2"})"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("kvlistValue")"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("doubleValue":1.5)"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("boolValue":false)"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("arrayValue")"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("severityText":"ERROR")"), std::string::npos) << json;
  EXPECT_EQ(json.find("a.log"), std::string::npos) << json;
  EXPECT_NE(json.find("b.log"), std::string::npos) << json;
  pdata::ValueMap m{{"x", Value("1")}};
  EXPECT_EQ(pdata::Remove(m, "x"), Value("1"));
  EXPECT_TRUE(m.empty());
  EXPECT_TRUE(pdata::Remove(m, "x").empty());
}

// The moving Add and the AddLine fast path encode exactly what Add(const&) does.
TEST(Builders, MovingAddAndAddLineMatchTheCopyingAdd) {
  LogRecord r;
  r.observed_time_ns = 9;
  r.body = Value(std::string(40, 'x'));  // beyond the small-string buffer
  Set(r.attributes, "log.file.name", Value("a-rather-long-file-name.log"));
  Set(r.attributes, "n", Value(ValueList{Value(int64_t{1}), Value(ValueMap{{"k", Value("v")}})}));
  LogsBuilder copying(Attributes{{"service.name", "s"}}, "filelog");
  copying.Add(r);
  LogRecord moved = r;
  LogsBuilder moving(Attributes{{"service.name", "s"}}, "filelog");
  moving.Add(std::move(moved));
  EXPECT_EQ(moving.Build().ToProto(), copying.Build().ToProto());

  LogRecord plain;
  plain.observed_time_ns = 9;
  plain.body = Value(std::string("a line"));
  plain.attributes = {{"log.file.name", Value("f.log")}};
  LogsBuilder a(Attributes{}, "filelog"), b(Attributes{}, "filelog");
  a.Add(plain);
  *b.AddLine(9, plain.attributes) = "a line";
  EXPECT_EQ(b.records(), 1u);
  EXPECT_EQ(b.Build().ToProto(), a.Build().ToProto());
}

}  // namespace
}  // namespace outrigger::pdata
