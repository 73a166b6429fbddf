#include "receivers/statsd/parser.h"

#include <gtest/gtest.h>

#include <charconv>
#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace outrigger::receivers::statsd {
namespace {

struct Parsed {
  LineKind kind;
  MetricLine m;
  EventLine e;
  ServiceCheckLine c;
  std::string error;
};

Parsed Parse(std::string_view line) {
  Parsed p;
  p.kind = ParseLine(line, &p.m, &p.e, &p.c, &p.error);
  return p;
}

TEST(Parser, PlainTypes) {
  auto p = Parse("page.views:1|c");
  ASSERT_EQ(p.kind, LineKind::kMetric) << p.error;
  EXPECT_EQ(p.m.name, "page.views");
  EXPECT_EQ(p.m.type, MetricType::kCounter);
  EXPECT_EQ(p.m.values, std::vector<double>{1});
  EXPECT_EQ(Parse("t:320|ms").m.type, MetricType::kTiming);
  EXPECT_EQ(Parse("h:3.5|h").m.type, MetricType::kHistogram);
  EXPECT_EQ(Parse("d:3|d").m.type, MetricType::kDistribution);
  auto s = Parse("users:alice|s");
  EXPECT_EQ(s.m.type, MetricType::kSet);
  EXPECT_EQ(s.m.set_value, "alice");
}

TEST(Parser, GaugeDeltas) {
  EXPECT_FALSE(Parse("g:5|g").m.gauge_delta);
  auto plus = Parse("g:+5|g");
  EXPECT_TRUE(plus.m.gauge_delta);
  EXPECT_EQ(plus.m.values[0], 5);
  auto minus = Parse("g:-2.5|g");
  EXPECT_TRUE(minus.m.gauge_delta);
  EXPECT_EQ(minus.m.values[0], -2.5);
}

TEST(Parser, DogStatsDFields) {
  auto p = Parse("api.latency:1:2:3|h|@0.25|#env:prod,region:eu-west,canary|c:abc123|T1656581400");
  ASSERT_EQ(p.kind, LineKind::kMetric) << p.error;
  EXPECT_EQ(p.m.values, (std::vector<double>{1, 2, 3}));
  EXPECT_DOUBLE_EQ(p.m.sample_rate, 0.25);
  ASSERT_EQ(p.m.tag_fields.size(), 1u);
  std::vector<Tag> tags;
  ParseTags(p.m.tag_fields[0], &tags);
  ASSERT_EQ(tags.size(), 3u);
  EXPECT_EQ(tags[0].key, "env");
  EXPECT_EQ(tags[0].value, "prod");
  EXPECT_EQ(tags[2].key, "canary");
  EXPECT_EQ(tags[2].value, "");
  EXPECT_EQ(p.m.container_id, "abc123");
  EXPECT_EQ(p.m.timestamp, 1656581400);
  // A tag value may hold colons.
  auto url = Parse("x:1|c|#url:http://a:80/b");
  tags.clear();
  ParseTags(url.m.tag_fields[0], &tags);
  EXPECT_EQ(tags[0].value, "http://a:80/b");
}

TEST(Parser, UnknownExtensionFieldsAreIgnored) {
  auto p = Parse("x:1|c|#a:b|e:it-false,cn-web,pu-abc|card:high|c:cid");
  ASSERT_EQ(p.kind, LineKind::kMetric) << p.error;
  EXPECT_EQ(p.m.container_id, "cid");
  EXPECT_EQ(Parse("_e{1,1}:t|x|card:low|c:cid").e.container_id, "cid");
  EXPECT_EQ(Parse("_sc|n|0|e:v|c:cid").c.container_id, "cid");
}

TEST(Parser, Events) {
  auto p = Parse("_e{5,11}:hello|hello world|d:1700000000|h:web1|p:low|t:warning|#a:b,c");
  ASSERT_EQ(p.kind, LineKind::kEvent) << p.error;
  EXPECT_EQ(p.e.title, "hello");
  EXPECT_EQ(p.e.text, "hello world");
  EXPECT_EQ(p.e.timestamp, 1700000000);
  EXPECT_EQ(p.e.hostname, "web1");
  EXPECT_EQ(p.e.alert_type, "warning");
  EXPECT_EQ(p.e.tags.size(), 2u);
  // The text may contain '|' when the lengths say so.
  auto piped = Parse("_e{1,3}:t|a|b");
  ASSERT_EQ(piped.kind, LineKind::kEvent) << piped.error;
  EXPECT_EQ(piped.e.text, "a|b");
  EXPECT_EQ(Parse("_e{9,1}:short|x").kind, LineKind::kInvalid);
}

// Lengths whose sum overflows int64 (signed overflow, UB; found by tests/fuzz statsd) are
// refused like any length that does not match the line.
TEST(Parser, EventLengthsThatOverflowAreRefused) {
  for (const char* line :
       {"_e{9223372036854775807,1}:t|x", "_e{1,9223372036854775807}:t|x",
        "_e{9223372036854775807,9223372036854775807}:t|x", "_e{4611686018427387904,4611686018427387904}:t|x"}) {
    auto p = Parse(line);
    EXPECT_EQ(p.kind, LineKind::kInvalid) << line;
    EXPECT_EQ(p.error, "event: title and text lengths do not match the line") << line;
  }
  EXPECT_EQ(Parse("_e{1,0}:t|").kind, LineKind::kEvent);  // the exact fit still parses
  EXPECT_EQ(Parse("_e{1,1}:t|").kind, LineKind::kInvalid);
}

TEST(Parser, ServiceChecks) {
  auto p = Parse("_sc|db.up|2|d:1700000000|h:db1|#env:prod|m:connection refused");
  ASSERT_EQ(p.kind, LineKind::kServiceCheck) << p.error;
  EXPECT_EQ(p.c.name, "db.up");
  EXPECT_EQ(p.c.status, 2);
  EXPECT_EQ(p.c.message, "connection refused");
  EXPECT_EQ(Parse("_sc|db.up|7").kind, LineKind::kInvalid);
}

TEST(Parser, InvalidLinesSayWhy) {
  struct Case {
    const char* line;
    const char* why;
  } cases[] = {
      {"no-colon", "expected <name>:<value>|<type>"},
      {":1|c", "empty metric name"},
      {"a:1|x", "unknown metric type \"x\""},
      {"a:abc|c", "invalid value \"abc\""},
      {"a:|c", "empty value"},
      {"a:1|c|@2", "invalid sample rate"},
      {"a:1|c|@0", "invalid sample rate"},
      {"a:1|c|zz", "unknown field \"zz\""},
      {"a:1|c|Tnope", "invalid timestamp"},
      {"a:nan|g", "invalid value"},
      {"a:1::2|h", "invalid value \"\""},
  };
  for (const auto& c : cases) {
    auto p = Parse(c.line);
    EXPECT_EQ(p.kind, LineKind::kInvalid) << c.line;
    EXPECT_NE(p.error.find(c.why), std::string::npos) << c.line << " -> " << p.error;
  }
}

// Values take a fast path (m / 10^k) when they can: it must give exactly what
// from_chars gives, for every shape of number a client may send.
TEST(Parser, ValuesAreExactlyWhatFromCharsReads) {
  std::mt19937_64 rng(7);
  std::vector<std::string> values = {"0",
                                     "-0",
                                     "1",
                                     "-2",
                                     "3.",
                                     ".5",
                                     "-.25",
                                     "0.1",
                                     "0.3",
                                     "007.50",
                                     "123456789012345",
                                     "1234567890123456",
                                     "0.000000000000001",
                                     "9007199254740993",
                                     "1e3",
                                     "2.5E-3",
                                     "17.0000000000000001"};
  for (int i = 0; i < 20000; ++i) {
    std::string v = std::to_string(rng() % 1000000000000000ull);
    v = v.substr(0, 1 + rng() % v.size());
    if (rng() % 2) v.insert(rng() % (v.size() + 1), ".");
    if (rng() % 3 == 0) v.insert(0, "-");
    values.push_back(v);
  }
  for (const std::string& v : values) {
    double want = 0;
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), want);
    if (ec != std::errc() || end != v.data() + v.size()) continue;
    auto p = Parse("x:" + v + "|g");
    ASSERT_EQ(p.kind, LineKind::kMetric) << v << ": " << p.error;
    ASSERT_EQ(p.m.values.size(), 1u) << v;
    EXPECT_EQ(std::memcmp(&p.m.values[0], &want, sizeof want), 0) << v << ": " << p.m.values[0] << " vs " << want;
  }
}

TEST(Parser, ForEachLineSkipsEmptyAndCarriageReturns) {
  std::vector<std::string> lines;
  ForEachLine("a:1|c\r\n\nb:2|c\nc:3|c", [&](std::string_view l) { lines.emplace_back(l); });
  EXPECT_EQ(lines, (std::vector<std::string>{"a:1|c", "b:2|c", "c:3|c"}));
}

// Random bytes and random edits of valid lines: the parser never crashes or reads out
// of bounds (this binary is also built with ASan/UBSan), and what it accepts is sane.
TEST(Parser, RandomInputIsSafe) {
  std::mt19937 rng(7);
  const std::string seeds[] = {"a.b:1|c|@0.5|#x:y,z", "g:+1|g", "_e{3,3}:abc|def|#t", "_sc|n|1|m:msg",
                               "h:1:2:3|h|c:cid|T12"};
  MetricLine m;
  EventLine e;
  ServiceCheckLine c;
  std::string err;
  for (int i = 0; i < 200000; ++i) {
    std::string s;
    if (i % 2 == 0) {
      s = seeds[rng() % 5];
      int edits = 1 + static_cast<int>(rng() % 4);
      for (int k = 0; k < edits && !s.empty(); ++k) {
        size_t at = rng() % s.size();
        switch (rng() % 3) {
          case 0:
            s[at] = "|:@#,{}_ec-+.0123456789\x80"[rng() % 24];
            break;
          case 1:
            s.erase(at, 1 + rng() % 3);
            break;
          default:
            s.insert(at, 1, static_cast<char>(rng() % 256));
        }
      }
    } else {
      s.resize(rng() % 40);
      for (auto& ch : s) ch = static_cast<char>(rng() % 256);
    }
    auto kind = ParseLine(s, &m, &e, &c, &err);
    if (kind == LineKind::kMetric) {
      ASSERT_FALSE(m.name.empty());
      ASSERT_GT(m.sample_rate, 0);
      ASSERT_LE(m.sample_rate, 1);
      if (m.type != MetricType::kSet) {
        ASSERT_FALSE(m.values.empty());
      }
    }
  }
}

}  // namespace
}  // namespace outrigger::receivers::statsd
