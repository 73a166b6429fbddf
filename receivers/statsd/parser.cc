#include "receivers/statsd/parser.h"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "collector/common/strings.h"

namespace outrigger::receivers::statsd {

std::string_view TypeName(MetricType t) {
  switch (t) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kTiming:
      return "timing";
    case MetricType::kHistogram:
      return "histogram";
    case MetricType::kDistribution:
      return "distribution";
    case MetricType::kSet:
      return "set";
  }
  return "unknown";
}

namespace {

// Clinger's fast path, for the values StatsD clients send ("3", "-2", "12.75"): at most
// 15 digits, an optional point and sign, make m / 10^k with m and 10^k exact doubles, so
// one correctly rounded division gives what from_chars would.
bool FastDecimal(std::string_view s, double* out) {
  static constexpr double kPow10[] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                      1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
  const char* p = s.data();
  const char* const end = p + s.size();
  const bool negative = p != end && *p == '-';
  if (negative) ++p;
  // The digits before and after the point, in one integer (checked for 15 digits after).
  uint64_t m = 0;
  auto digits = [&] {
    const char* from = p;
    for (; p != end && static_cast<unsigned>(*p - '0') < 10; ++p) m = m * 10 + static_cast<uint64_t>(*p - '0');
    return p - from;
  };
  const auto whole = digits();
  decltype(digits()) fraction = 0;
  if (p != end && *p == '.') {
    ++p;
    fraction = digits();
  }
  if (p != end || whole + fraction == 0 || whole + fraction > 15) return false;
  const double v = static_cast<double>(m) / kPow10[fraction];
  *out = negative ? -v : v;
  return true;
}

bool ParseDouble(std::string_view s, double* out) {
  if (s.empty()) return false;
  if (s.front() == '+') s.remove_prefix(1);
  if (FastDecimal(s, out)) return true;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size() && std::isfinite(*out);
}

bool ParseInt(std::string_view s, int64_t* out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

// Splits the "|"-separated fields after the first one.
template <typename Fn>
void ForEachField(std::string_view rest, Fn&& fn) {
  size_t start = 0;
  while (start < rest.size()) {
    size_t end = rest.find('|', start);
    if (end == std::string_view::npos) end = rest.size();
    fn(rest.substr(start, end - start));
    start = end + 1;
  }
}

// `key:value` with a short lowercase key: a DogStatsD extension field.
bool IsExtensionField(std::string_view f) {
  size_t colon = f.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon > 16) return false;
  for (size_t i = 0; i < colon; ++i) {
    if (!(f[i] >= 'a' && f[i] <= 'z') && f[i] != '_') return false;
  }
  return true;
}

LineKind Invalid(std::string* error, std::string msg) {
  *error = std::move(msg);
  return LineKind::kInvalid;
}

LineKind ParseEvent(std::string_view line, EventLine* e, std::string* error) {
  // _e{<title len>,<text len>}:<title>|<text>|...
  size_t close = line.find('}');
  size_t comma = line.find(',');
  if (close == std::string_view::npos || comma == std::string_view::npos || comma > close || close + 1 >= line.size() ||
      line[close + 1] != ':') {
    return Invalid(error, "event: expected _e{<title length>,<text length>}:<title>|<text>");
  }
  int64_t tl, xl;
  if (!ParseInt(line.substr(3, comma - 3), &tl) || !ParseInt(line.substr(comma + 1, close - comma - 1), &xl) ||
      tl <= 0 || xl < 0) {
    return Invalid(error, "event: invalid title or text length");
  }
  std::string_view body = line.substr(close + 2);
  // One length at a time: their sum can overflow (_e{9223372036854775807,1} was UB).
  const auto title_len = static_cast<uint64_t>(tl), text_len = static_cast<uint64_t>(xl);
  if (title_len >= body.size() || text_len > body.size() - title_len - 1 || body[title_len] != '|') {
    return Invalid(error, "event: title and text lengths do not match the line");
  }
  *e = EventLine();
  e->title = body.substr(0, static_cast<size_t>(tl));
  e->text = body.substr(static_cast<size_t>(tl) + 1, static_cast<size_t>(xl));
  std::string_view rest = body.substr(static_cast<size_t>(tl + 1 + xl));
  if (!rest.empty() && rest.front() == '|') rest.remove_prefix(1);
  bool ok = true;
  ForEachField(rest, [&](std::string_view f) {
    if (f.size() < 2) {
      ok = false;
      return;
    }
    if (f.substr(0, 2) == "d:")
      ok &= ParseInt(f.substr(2), &e->timestamp);
    else if (f.substr(0, 2) == "h:")
      e->hostname = f.substr(2);
    else if (f.substr(0, 2) == "p:")
      e->priority = f.substr(2);
    else if (f.substr(0, 2) == "t:")
      e->alert_type = f.substr(2);
    else if (f.substr(0, 2) == "k:")
      e->aggregation_key = f.substr(2);
    else if (f.substr(0, 2) == "s:")
      e->source_type = f.substr(2);
    else if (f[0] == '#')
      ParseTags(f.substr(1), &e->tags);
    else if (f.substr(0, 2) == "c:")
      e->container_id = f.substr(2);
    else if (!IsExtensionField(f))
      ok = false;
  });
  if (!ok) return Invalid(error, "event: unknown or malformed field after the text");
  return LineKind::kEvent;
}

LineKind ParseServiceCheck(std::string_view line, ServiceCheckLine* c, std::string* error) {
  // _sc|<name>|<status>|...
  *c = ServiceCheckLine();
  int i = 0;
  bool ok = true;
  ForEachField(line.substr(4), [&](std::string_view f) {
    if (i == 0) {
      c->name = f;
    } else if (i == 1) {
      int64_t s;
      ok &= ParseInt(f, &s) && s >= 0 && s <= 3;
      c->status = static_cast<int>(s);
    } else if (f.size() >= 2 && f.substr(0, 2) == "d:") {
      ok &= ParseInt(f.substr(2), &c->timestamp);
    } else if (f.size() >= 2 && f.substr(0, 2) == "h:") {
      c->hostname = f.substr(2);
    } else if (f.size() >= 2 && f.substr(0, 2) == "m:") {
      c->message = f.substr(2);
    } else if (!f.empty() && f[0] == '#') {
      ParseTags(f.substr(1), &c->tags);
    } else if (f.size() >= 2 && f.substr(0, 2) == "c:") {
      c->container_id = f.substr(2);
    } else if (!IsExtensionField(f)) {
      ok = false;
    }
    ++i;
  });
  if (!ok || i < 2 || c->name.empty()) {
    return Invalid(error, "service check: expected _sc|<name>|<status 0-3>[|d:<ts>][|h:<host>][|#<tags>][|m:<msg>]");
  }
  return LineKind::kServiceCheck;
}

}  // namespace

void ParseTags(std::string_view s, std::vector<Tag>* tags) {
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find(',', start);
    if (end == std::string_view::npos) end = s.size();
    std::string_view t = s.substr(start, end - start);
    if (!t.empty()) {
      size_t colon = t.find(':');
      if (colon == std::string_view::npos) {
        tags->push_back({t, {}});
      } else {
        tags->push_back({t.substr(0, colon), t.substr(colon + 1)});
      }
    }
    start = end + 1;
  }
}

LineKind ParseLine(std::string_view line, MetricLine* m, EventLine* event, ServiceCheckLine* check,
                   std::string* error) {
  if (!line.empty() && line[0] == '_') {
    if (line.size() > 3 && line.substr(0, 3) == "_e{") return ParseEvent(line, event, error);
    if (line.size() > 4 && line.substr(0, 4) == "_sc|") return ParseServiceCheck(line, check, error);
  }

  const size_t bar = line.find('|');
  const size_t colon = line.substr(0, bar).find(':');  // the name ends before the first '|'
  if (colon == std::string_view::npos || bar == std::string_view::npos) {
    return Invalid(error, "expected <name>:<value>|<type>");
  }
  if (colon == 0) return Invalid(error, "empty metric name");
  m->name = line.substr(0, colon);
  m->values.clear();
  m->tag_fields.clear();
  m->set_value = {};
  m->gauge_delta = false;
  m->sample_rate = 1.0;
  m->container_id = {};
  m->timestamp = 0;
  const std::string_view value = line.substr(colon + 1, bar - colon - 1);
  // The type (one or two letters), up to the next '|' or the end of the line.
  std::string_view rest = line.substr(bar + 1);
  size_t type_end = 0;
  while (type_end < rest.size() && rest[type_end] != '|') ++type_end;  // short: no memchr call
  const std::string_view type = rest.substr(0, type_end);
  rest = type_end == rest.size() ? std::string_view() : rest.substr(type_end + 1);

  if (type == "c")
    m->type = MetricType::kCounter;
  else if (type == "g")
    m->type = MetricType::kGauge;
  else if (type == "ms")
    m->type = MetricType::kTiming;
  else if (type == "h")
    m->type = MetricType::kHistogram;
  else if (type == "d")
    m->type = MetricType::kDistribution;
  else if (type == "s")
    m->type = MetricType::kSet;
  else
    return Invalid(error, StrCat("unknown metric type \"", type, "\" (expected c, g, ms, h, d or s)"));

  if (value.empty()) return Invalid(error, "empty value");
  if (m->type == MetricType::kSet) {
    m->set_value = value;
  } else {
    if (m->type == MetricType::kGauge && (value.front() == '+' || value.front() == '-')) m->gauge_delta = true;
    size_t start = 0;
    while (start <= value.size()) {
      size_t end = start;
      while (end < value.size() && value[end] != ':') ++end;  // values are short: no memchr call
      double v;
      if (!ParseDouble(value.substr(start, end - start), &v)) {
        return Invalid(error, StrCat("invalid value \"", value.substr(start, end - start), "\""));
      }
      m->values.push_back(v);
      start = end + 1;
    }
  }

  bool ok = true;
  std::string why;
  ForEachField(rest, [&](std::string_view f) {
    if (!ok) return;
    if (f.empty()) return;
    if (f[0] == '@') {
      if (!ParseDouble(f.substr(1), &m->sample_rate) || m->sample_rate <= 0 || m->sample_rate > 1) {
        ok = false;
        why = StrCat("invalid sample rate \"", f, "\" (expected @<rate> with 0 < rate <= 1)");
      }
    } else if (f[0] == '#') {
      m->tag_fields.push_back(f.substr(1));
    } else if (f.size() >= 2 && f.substr(0, 2) == "c:") {
      m->container_id = f.substr(2);
    } else if (f[0] == 'T') {
      if (!ParseInt(f.substr(1), &m->timestamp) || m->timestamp < 0) {
        ok = false;
        why = StrCat("invalid timestamp \"", f, "\"");
      }
    } else if (!IsExtensionField(f)) {
      ok = false;
      why = StrCat("unknown field \"", f, "\"");
    }
  });
  if (!ok) return Invalid(error, why);
  return LineKind::kMetric;
}

}  // namespace outrigger::receivers::statsd
