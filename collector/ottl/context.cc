#include "collector/ottl/context.h"

#include <cctype>

#include "collector/common/strings.h"
#include "opentelemetry/proto/common/v1/common.pb.h"
#include "opentelemetry/proto/logs/v1/logs.pb.h"
#include "opentelemetry/proto/metrics/v1/metrics.pb.h"
#include "opentelemetry/proto/resource/v1/resource.pb.h"
#include "opentelemetry/proto/trace/v1/trace.pb.h"

namespace outrigger::ottl {

namespace tpb = opentelemetry::proto::trace::v1;
namespace mpb = opentelemetry::proto::metrics::v1;
namespace lpb = opentelemetry::proto::logs::v1;

std::string_view ContextName(ContextKind k) {
  switch (k) {
    case ContextKind::kResource:
      return "resource";
    case ContextKind::kScope:
      return "scope";
    case ContextKind::kSpan:
      return "span";
    case ContextKind::kSpanEvent:
      return "spanevent";
    case ContextKind::kMetric:
      return "metric";
    case ContextKind::kDataPoint:
      return "datapoint";
    case ContextKind::kLog:
      return "log";
  }
  return "?";
}

std::optional<ContextKind> ParseContextName(std::string_view n) {
  if (n == "resource") return ContextKind::kResource;
  if (n == "scope" || n == "instrumentation_scope") return ContextKind::kScope;
  if (n == "span") return ContextKind::kSpan;
  if (n == "spanevent") return ContextKind::kSpanEvent;
  if (n == "metric") return ContextKind::kMetric;
  if (n == "datapoint") return ContextKind::kDataPoint;
  if (n == "log") return ContextKind::kLog;
  return std::nullopt;
}

absl::Status Accessor::Set(EvalContext&, const Value&) const {
  return absl::InvalidArgumentError(StrCat("path ", name_, " cannot be set"));
}

namespace {

using Getter = absl::Status (*)(EvalContext&, Value*);
using Setter = absl::Status (*)(EvalContext&, const Value&);
using MapRoot = KeyValues* (*)(EvalContext&);
using AnyRoot = AnyValue* (*)(EvalContext&);

struct FieldDef {
  std::string_view name;
  Getter get = nullptr;
  Setter set = nullptr;
  MapRoot map_root = nullptr;
  AnyRoot any_root = nullptr;
};

absl::Status Ok() { return absl::OkStatus(); }

void SetString(std::string* dst, const Value& v) {
  if (v.type == Type::kString && dst->data() != v.s.data()) dst->assign(v.s.data(), v.s.size());
}

std::string Hex(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(s.size() * 2);
  for (unsigned char c : s) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

std::optional<std::string> Unhex(std::string_view h) {
  if (h.size() % 2 != 0) return std::nullopt;
  std::string out;
  for (size_t i = 0; i < h.size(); i += 2) {
    auto nib = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      return -1;
    };
    int a = nib(h[i]), b = nib(h[i + 1]);
    if (a < 0 || b < 0) return std::nullopt;
    out.push_back(static_cast<char>(a * 16 + b));
  }
  return out;
}

absl::Status SetId(std::string* dst, const Value& v, size_t len) {
  if (v.type == Type::kBytes && v.s.size() == len) dst->assign(v.s.data(), v.s.size());
  return Ok();
}

absl::Status SetIdString(std::string* dst, const Value& v, size_t len) {
  if (v.type != Type::kString) return Ok();
  auto raw = Unhex(v.s);
  if (!raw || raw->size() != len) {
    return absl::InvalidArgumentError(StrCat("\"", v.s, "\" is not a hex id of ", len, " bytes"));
  }
  *dst = std::move(*raw);
  return Ok();
}

// Reads an id as a hex string (allocates; ids are read as strings rarely).
absl::Status GetIdString(const std::string& id, Value* out) {
  *out = Value::String(Hex(id));
  return Ok();
}

template <typename T>
absl::Status SetInt(T* dst, const Value& v) {
  if (v.type == Type::kInt) *dst = static_cast<T>(v.i);
  return Ok();
}

absl::Status SetTimeNanos(uint64_t* dst, const Value& v) {
  if (v.type == Type::kInt || v.type == Type::kTime) *dst = static_cast<uint64_t>(v.i);
  return Ok();
}

// ---- resource ----
const FieldDef kResourceFields[] = {
    {"attributes", nullptr, nullptr, [](EvalContext& c) { return c.resource->mutable_attributes(); }},
    {"dropped_attributes_count",
     [](EvalContext& c, Value* o) { return *o = Value::Int(c.resource->dropped_attributes_count()), Ok(); },
     [](EvalContext& c, const Value& v) {
       if (v.type == Type::kInt) c.resource->set_dropped_attributes_count(static_cast<uint32_t>(v.i));
       return Ok();
     }},
    {"schema_url",
     [](EvalContext& c, Value* o) {
       return *o = c.resource_schema_url ? Value::StringView(*c.resource_schema_url) : Value::Nil(), Ok();
     },
     [](EvalContext& c, const Value& v) {
       if (c.resource_schema_url) SetString(c.resource_schema_url, v);
       return Ok();
     }},
};

// ---- instrumentation scope ----
const FieldDef kScopeFields[] = {
    {"name", [](EvalContext& c, Value* o) { return *o = Value::StringView(c.scope->name()), Ok(); },
     [](EvalContext& c, const Value& v) { return SetString(c.scope->mutable_name(), v), Ok(); }},
    {"version", [](EvalContext& c, Value* o) { return *o = Value::StringView(c.scope->version()), Ok(); },
     [](EvalContext& c, const Value& v) { return SetString(c.scope->mutable_version(), v), Ok(); }},
    {"attributes", nullptr, nullptr, [](EvalContext& c) { return c.scope->mutable_attributes(); }},
    {"dropped_attributes_count",
     [](EvalContext& c, Value* o) { return *o = Value::Int(c.scope->dropped_attributes_count()), Ok(); },
     [](EvalContext& c, const Value& v) {
       if (v.type == Type::kInt) c.scope->set_dropped_attributes_count(static_cast<uint32_t>(v.i));
       return Ok();
     }},
    {"schema_url",
     [](EvalContext& c, Value* o) {
       return *o = c.scope_schema_url ? Value::StringView(*c.scope_schema_url) : Value::Nil(), Ok();
     },
     [](EvalContext& c, const Value& v) {
       if (c.scope_schema_url) SetString(c.scope_schema_url, v);
       return Ok();
     }},
};

// ---- span ----
const FieldDef kSpanFields[] = {
    {"trace_id", [](EvalContext& c, Value* o) { return *o = Value::BytesView(c.span->trace_id()), Ok(); },
     [](EvalContext& c, const Value& v) { return SetId(c.span->mutable_trace_id(), v, 16); }},
    {"trace_id.string", [](EvalContext& c, Value* o) { return GetIdString(c.span->trace_id(), o); },
     [](EvalContext& c, const Value& v) { return SetIdString(c.span->mutable_trace_id(), v, 16); }},
    {"span_id", [](EvalContext& c, Value* o) { return *o = Value::BytesView(c.span->span_id()), Ok(); },
     [](EvalContext& c, const Value& v) { return SetId(c.span->mutable_span_id(), v, 8); }},
    {"span_id.string", [](EvalContext& c, Value* o) { return GetIdString(c.span->span_id(), o); },
     [](EvalContext& c, const Value& v) { return SetIdString(c.span->mutable_span_id(), v, 8); }},
    {"parent_span_id", [](EvalContext& c, Value* o) { return *o = Value::BytesView(c.span->parent_span_id()), Ok(); },
     [](EvalContext& c, const Value& v) { return SetId(c.span->mutable_parent_span_id(), v, 8); }},
    {"parent_span_id.string", [](EvalContext& c, Value* o) { return GetIdString(c.span->parent_span_id(), o); },
     [](EvalContext& c, const Value& v) { return SetIdString(c.span->mutable_parent_span_id(), v, 8); }},
    {"trace_state", [](EvalContext& c, Value* o) { return *o = Value::StringView(c.span->trace_state()), Ok(); },
     [](EvalContext& c, const Value& v) { return SetString(c.span->mutable_trace_state(), v), Ok(); }},
    {"name", [](EvalContext& c, Value* o) { return *o = Value::StringView(c.span->name()), Ok(); },
     [](EvalContext& c, const Value& v) { return SetString(c.span->mutable_name(), v), Ok(); }},
    {"kind", [](EvalContext& c, Value* o) { return *o = Value::Int(c.span->kind()), Ok(); },
     [](EvalContext& c, const Value& v) {
       if (v.type == Type::kInt && tpb::Span_SpanKind_IsValid(static_cast<int>(v.i))) {
         c.span->set_kind(static_cast<tpb::Span_SpanKind>(v.i));
       }
       return Ok();
     }},
    {"kind.string",
     [](EvalContext& c, Value* o) {
       static constexpr std::string_view kNames[] = {"Unspecified", "Internal", "Server",
                                                     "Client",      "Producer", "Consumer"};
       int k = c.span->kind();
       return *o = Value::StringView(k >= 0 && k < 6 ? kNames[k] : ""), Ok();
     },
     nullptr},
    {"start_time_unix_nano",
     [](EvalContext& c, Value* o) {
       return *o = Value::Int(static_cast<int64_t>(c.span->start_time_unix_nano())), Ok();
     },
     [](EvalContext& c, const Value& v) {
       uint64_t t = c.span->start_time_unix_nano();
       (void)SetTimeNanos(&t, v);
       c.span->set_start_time_unix_nano(t);
       return Ok();
     }},
    {"end_time_unix_nano",
     [](EvalContext& c, Value* o) { return *o = Value::Int(static_cast<int64_t>(c.span->end_time_unix_nano())), Ok(); },
     [](EvalContext& c, const Value& v) {
       uint64_t t = c.span->end_time_unix_nano();
       (void)SetTimeNanos(&t, v);
       c.span->set_end_time_unix_nano(t);
       return Ok();
     }},
    {"start_time",
     [](EvalContext& c, Value* o) {
       return *o = Value::Time(static_cast<int64_t>(c.span->start_time_unix_nano())), Ok();
     },
     [](EvalContext& c, const Value& v) {
       if (v.type == Type::kTime) c.span->set_start_time_unix_nano(static_cast<uint64_t>(v.i));
       return Ok();
     }},
    {"end_time",
     [](EvalContext& c, Value* o) {
       return *o = Value::Time(static_cast<int64_t>(c.span->end_time_unix_nano())), Ok();
     },
     [](EvalContext& c, const Value& v) {
       if (v.type == Type::kTime) c.span->set_end_time_unix_nano(static_cast<uint64_t>(v.i));
       return Ok();
     }},
    {"attributes", nullptr, nullptr, [](EvalContext& c) { return c.span->mutable_attributes(); }},
    {"dropped_attributes_count",
     [](EvalContext& c, Value* o) { return *o = Value::Int(c.span->dropped_attributes_count()), Ok(); },
     [](EvalContext& c, const Value& v) {
       if (v.type == Type::kInt) c.span->set_dropped_attributes_count(static_cast<uint32_t>(v.i));
       return Ok();
     }},
    {"dropped_events_count",
     [](EvalContext& c, Value* o) { return *o = Value::Int(c.span->dropped_events_count()), Ok(); },
     [](EvalContext& c, const Value& v) {
       if (v.type == Type::kInt) c.span->set_dropped_events_count(static_cast<uint32_t>(v.i));
       return Ok();
     }},
    {"dropped_links_count",
     [](EvalContext& c, Value* o) { return *o = Value::Int(c.span->dropped_links_count()), Ok(); },
     [](EvalContext& c, const Value& v) {
       if (v.type == Type::kInt) c.span->set_dropped_links_count(static_cast<uint32_t>(v.i));
       return Ok();
     }},
    {"flags", [](EvalContext& c, Value* o) { return *o = Value::Int(c.span->flags()), Ok(); },
     [](EvalContext& c, const Value& v) {
       if (v.type == Type::kInt) c.span->set_flags(static_cast<uint32_t>(v.i));
       return Ok();
     }},
    {"status.code", [](EvalContext& c, Value* o) { return *o = Value::Int(c.span->status().code()), Ok(); },
     [](EvalContext& c, const Value& v) {
       if (v.type == Type::kInt && tpb::Status_StatusCode_IsValid(static_cast<int>(v.i))) {
         c.span->mutable_status()->set_code(static_cast<tpb::Status_StatusCode>(v.i));
       }
       return Ok();
     }},
    {"status.message",
     [](EvalContext& c, Value* o) { return *o = Value::StringView(c.span->status().message()), Ok(); },
     [](EvalContext& c, const Value& v) { return SetString(c.span->mutable_status()->mutable_message(), v), Ok(); }},
};

// ---- span event ----
const FieldDef kEventFields[] = {
    {"name", [](EvalContext& c, Value* o) { return *o = Value::StringView(c.event->name()), Ok(); },
     [](EvalContext& c, const Value& v) { return SetString(c.event->mutable_name(), v), Ok(); }},
    {"time_unix_nano",
     [](EvalContext& c, Value* o) { return *o = Value::Int(static_cast<int64_t>(c.event->time_unix_nano())), Ok(); },
     [](EvalContext& c, const Value& v) {
       uint64_t t = c.event->time_unix_nano();
       (void)SetTimeNanos(&t, v);
       c.event->set_time_unix_nano(t);
       return Ok();
     }},
    {"time",
     [](EvalContext& c, Value* o) { return *o = Value::Time(static_cast<int64_t>(c.event->time_unix_nano())), Ok(); },
     [](EvalContext& c, const Value& v) {
       if (v.type == Type::kTime) c.event->set_time_unix_nano(static_cast<uint64_t>(v.i));
       return Ok();
     }},
    {"attributes", nullptr, nullptr, [](EvalContext& c) { return c.event->mutable_attributes(); }},
    {"dropped_attributes_count",
     [](EvalContext& c, Value* o) { return *o = Value::Int(c.event->dropped_attributes_count()), Ok(); },
     [](EvalContext& c, const Value& v) {
       if (v.type == Type::kInt) c.event->set_dropped_attributes_count(static_cast<uint32_t>(v.i));
       return Ok();
     }},
};

int64_t MetricType(const mpb::Metric& m) {
  switch (m.data_case()) {
    case mpb::Metric::kGauge:
      return 1;
    case mpb::Metric::kSum:
      return 2;
    case mpb::Metric::kHistogram:
      return 3;
    case mpb::Metric::kExponentialHistogram:
      return 4;
    case mpb::Metric::kSummary:
      return 5;
    default:
      return 0;
  }
}

// ---- metric ----
const FieldDef kMetricFields[] = {
    {"name", [](EvalContext& c, Value* o) { return *o = Value::StringView(c.metric->name()), Ok(); },
     [](EvalContext& c, const Value& v) { return SetString(c.metric->mutable_name(), v), Ok(); }},
    {"description", [](EvalContext& c, Value* o) { return *o = Value::StringView(c.metric->description()), Ok(); },
     [](EvalContext& c, const Value& v) { return SetString(c.metric->mutable_description(), v), Ok(); }},
    {"unit", [](EvalContext& c, Value* o) { return *o = Value::StringView(c.metric->unit()), Ok(); },
     [](EvalContext& c, const Value& v) { return SetString(c.metric->mutable_unit(), v), Ok(); }},
    {"type", [](EvalContext& c, Value* o) { return *o = Value::Int(MetricType(*c.metric)), Ok(); }, nullptr},
    {"aggregation_temporality",
     [](EvalContext& c, Value* o) {
       const mpb::Metric& m = *c.metric;
       int64_t t = m.has_sum()                     ? m.sum().aggregation_temporality()
                   : m.has_histogram()             ? m.histogram().aggregation_temporality()
                   : m.has_exponential_histogram() ? m.exponential_histogram().aggregation_temporality()
                                                   : 0;
       return *o = Value::Int(t), Ok();
     },
     [](EvalContext& c, const Value& v) {
       if (v.type != Type::kInt || !mpb::AggregationTemporality_IsValid(static_cast<int>(v.i))) return Ok();
       auto t = static_cast<mpb::AggregationTemporality>(v.i);
       mpb::Metric& m = *c.metric;
       if (m.has_sum()) m.mutable_sum()->set_aggregation_temporality(t);
       if (m.has_histogram()) m.mutable_histogram()->set_aggregation_temporality(t);
       if (m.has_exponential_histogram()) m.mutable_exponential_histogram()->set_aggregation_temporality(t);
       return Ok();
     }},
    {"is_monotonic",
     [](EvalContext& c, Value* o) {
       return *o = Value::Bool(c.metric->has_sum() && c.metric->sum().is_monotonic()), Ok();
     },
     [](EvalContext& c, const Value& v) {
       if (v.type == Type::kBool && c.metric->has_sum()) c.metric->mutable_sum()->set_is_monotonic(v.b);
       return Ok();
     }},
    {"metadata", nullptr, nullptr, [](EvalContext& c) { return c.metric->mutable_metadata(); }},
};

// ---- data point ----
template <typename F>
auto OnPoint(EvalContext& c, F f) {
  if (c.number) return f(*c.number);
  if (c.histogram) return f(*c.histogram);
  if (c.exp_histogram) return f(*c.exp_histogram);
  return f(*c.summary);
}

const FieldDef kDataPointFields[] = {
    {"attributes", nullptr, nullptr,
     [](EvalContext& c) { return OnPoint(c, [](auto& p) { return p.mutable_attributes(); }); }},
    {"start_time_unix_nano",
     [](EvalContext& c, Value* o) {
       return *o = Value::Int(static_cast<int64_t>(OnPoint(c, [](auto& p) { return p.start_time_unix_nano(); }))), Ok();
     },
     [](EvalContext& c, const Value& v) {
       if (v.type == Type::kInt || v.type == Type::kTime) {
         OnPoint(c, [&](auto& p) { p.set_start_time_unix_nano(static_cast<uint64_t>(v.i)); });
       }
       return Ok();
     }},
    {"time_unix_nano",
     [](EvalContext& c, Value* o) {
       return *o = Value::Int(static_cast<int64_t>(OnPoint(c, [](auto& p) { return p.time_unix_nano(); }))), Ok();
     },
     [](EvalContext& c, const Value& v) {
       if (v.type == Type::kInt || v.type == Type::kTime) {
         OnPoint(c, [&](auto& p) { p.set_time_unix_nano(static_cast<uint64_t>(v.i)); });
       }
       return Ok();
     }},
    {"start_time",
     [](EvalContext& c, Value* o) {
       return *o = Value::Time(static_cast<int64_t>(OnPoint(c, [](auto& p) { return p.start_time_unix_nano(); }))),
              Ok();
     },
     [](EvalContext& c, const Value& v) {
       if (v.type == Type::kTime) OnPoint(c, [&](auto& p) { p.set_start_time_unix_nano(static_cast<uint64_t>(v.i)); });
       return Ok();
     }},
    {"time",
     [](EvalContext& c, Value* o) {
       return *o = Value::Time(static_cast<int64_t>(OnPoint(c, [](auto& p) { return p.time_unix_nano(); }))), Ok();
     },
     [](EvalContext& c, const Value& v) {
       if (v.type == Type::kTime) OnPoint(c, [&](auto& p) { p.set_time_unix_nano(static_cast<uint64_t>(v.i)); });
       return Ok();
     }},
    {"flags",
     [](EvalContext& c, Value* o) { return *o = Value::Int(OnPoint(c, [](auto& p) { return p.flags(); })), Ok(); },
     [](EvalContext& c, const Value& v) {
       if (v.type == Type::kInt) OnPoint(c, [&](auto& p) { p.set_flags(static_cast<uint32_t>(v.i)); });
       return Ok();
     }},
    {"value_double",
     [](EvalContext& c, Value* o) {
       *o = c.number && c.number->has_as_double() ? Value::Double(c.number->as_double()) : Value::Nil();
       return Ok();
     },
     [](EvalContext& c, const Value& v) {
       if (c.number && v.type == Type::kDouble) c.number->set_as_double(v.d);
       return Ok();
     }},
    {"value_int",
     [](EvalContext& c, Value* o) {
       *o = c.number && c.number->has_as_int() ? Value::Int(c.number->as_int()) : Value::Nil();
       return Ok();
     },
     [](EvalContext& c, const Value& v) {
       if (c.number && v.type == Type::kInt) c.number->set_as_int(v.i);
       return Ok();
     }},
    {"count",
     [](EvalContext& c, Value* o) {
       *o = c.histogram       ? Value::Int(static_cast<int64_t>(c.histogram->count()))
            : c.exp_histogram ? Value::Int(static_cast<int64_t>(c.exp_histogram->count()))
            : c.summary       ? Value::Int(static_cast<int64_t>(c.summary->count()))
                              : Value::Nil();
       return Ok();
     },
     [](EvalContext& c, const Value& v) {
       if (v.type != Type::kInt) return Ok();
       if (c.histogram) c.histogram->set_count(static_cast<uint64_t>(v.i));
       if (c.exp_histogram) c.exp_histogram->set_count(static_cast<uint64_t>(v.i));
       if (c.summary) c.summary->set_count(static_cast<uint64_t>(v.i));
       return Ok();
     }},
    {"sum",
     [](EvalContext& c, Value* o) {
       *o = c.histogram       ? Value::Double(c.histogram->sum())
            : c.exp_histogram ? Value::Double(c.exp_histogram->sum())
            : c.summary       ? Value::Double(c.summary->sum())
                              : Value::Nil();
       return Ok();
     },
     [](EvalContext& c, const Value& v) {
       if (v.type != Type::kDouble) return Ok();
       if (c.histogram) c.histogram->set_sum(v.d);
       if (c.exp_histogram) c.exp_histogram->set_sum(v.d);
       if (c.summary) c.summary->set_sum(v.d);
       return Ok();
     }},
    {"scale",
     [](EvalContext& c, Value* o) {
       return *o = c.exp_histogram ? Value::Int(c.exp_histogram->scale()) : Value::Nil(), Ok();
     },
     [](EvalContext& c, const Value& v) {
       if (c.exp_histogram && v.type == Type::kInt) c.exp_histogram->set_scale(static_cast<int32_t>(v.i));
       return Ok();
     }},
    {"zero_count",
     [](EvalContext& c, Value* o) {
       return *o = c.exp_histogram ? Value::Int(static_cast<int64_t>(c.exp_histogram->zero_count())) : Value::Nil(),
              Ok();
     },
     [](EvalContext& c, const Value& v) {
       if (c.exp_histogram && v.type == Type::kInt) c.exp_histogram->set_zero_count(static_cast<uint64_t>(v.i));
       return Ok();
     }},
};

// ---- log record ----
const FieldDef kLogFields[] = {
    {"time_unix_nano",
     [](EvalContext& c, Value* o) { return *o = Value::Int(static_cast<int64_t>(c.log->time_unix_nano())), Ok(); },
     [](EvalContext& c, const Value& v) {
       uint64_t t = c.log->time_unix_nano();
       (void)SetTimeNanos(&t, v);
       c.log->set_time_unix_nano(t);
       return Ok();
     }},
    {"observed_time_unix_nano",
     [](EvalContext& c, Value* o) {
       return *o = Value::Int(static_cast<int64_t>(c.log->observed_time_unix_nano())), Ok();
     },
     [](EvalContext& c, const Value& v) {
       uint64_t t = c.log->observed_time_unix_nano();
       (void)SetTimeNanos(&t, v);
       c.log->set_observed_time_unix_nano(t);
       return Ok();
     }},
    {"time",
     [](EvalContext& c, Value* o) { return *o = Value::Time(static_cast<int64_t>(c.log->time_unix_nano())), Ok(); },
     [](EvalContext& c, const Value& v) {
       if (v.type == Type::kTime) c.log->set_time_unix_nano(static_cast<uint64_t>(v.i));
       return Ok();
     }},
    {"observed_time",
     [](EvalContext& c, Value* o) {
       return *o = Value::Time(static_cast<int64_t>(c.log->observed_time_unix_nano())), Ok();
     },
     [](EvalContext& c, const Value& v) {
       if (v.type == Type::kTime) c.log->set_observed_time_unix_nano(static_cast<uint64_t>(v.i));
       return Ok();
     }},
    {"severity_number", [](EvalContext& c, Value* o) { return *o = Value::Int(c.log->severity_number()), Ok(); },
     [](EvalContext& c, const Value& v) {
       if (v.type == Type::kInt && lpb::SeverityNumber_IsValid(static_cast<int>(v.i))) {
         c.log->set_severity_number(static_cast<lpb::SeverityNumber>(v.i));
       }
       return Ok();
     }},
    {"severity_text", [](EvalContext& c, Value* o) { return *o = Value::StringView(c.log->severity_text()), Ok(); },
     [](EvalContext& c, const Value& v) { return SetString(c.log->mutable_severity_text(), v), Ok(); }},
    {"body", nullptr, nullptr, nullptr, [](EvalContext& c) { return c.log->mutable_body(); }},
    {"body.string",
     [](EvalContext& c, Value* o) {
       const AnyValue& b = c.log->body();
       *o = b.has_string_value() ? Value::StringView(b.string_value()) : Value::String(ToString(Value::FromAny(b)));
       return Ok();
     },
     [](EvalContext& c, const Value& v) {
       if (v.type == Type::kString) c.log->mutable_body()->set_string_value(std::string(v.s));
       return Ok();
     }},
    {"attributes", nullptr, nullptr, [](EvalContext& c) { return c.log->mutable_attributes(); }},
    {"dropped_attributes_count",
     [](EvalContext& c, Value* o) { return *o = Value::Int(c.log->dropped_attributes_count()), Ok(); },
     [](EvalContext& c, const Value& v) {
       if (v.type == Type::kInt) c.log->set_dropped_attributes_count(static_cast<uint32_t>(v.i));
       return Ok();
     }},
    {"flags", [](EvalContext& c, Value* o) { return *o = Value::Int(c.log->flags()), Ok(); },
     [](EvalContext& c, const Value& v) {
       if (v.type == Type::kInt) c.log->set_flags(static_cast<uint32_t>(v.i));
       return Ok();
     }},
    {"trace_id", [](EvalContext& c, Value* o) { return *o = Value::BytesView(c.log->trace_id()), Ok(); },
     [](EvalContext& c, const Value& v) { return SetId(c.log->mutable_trace_id(), v, 16); }},
    {"trace_id.string", [](EvalContext& c, Value* o) { return GetIdString(c.log->trace_id(), o); },
     [](EvalContext& c, const Value& v) { return SetIdString(c.log->mutable_trace_id(), v, 16); }},
    {"span_id", [](EvalContext& c, Value* o) { return *o = Value::BytesView(c.log->span_id()), Ok(); },
     [](EvalContext& c, const Value& v) { return SetId(c.log->mutable_span_id(), v, 8); }},
    {"span_id.string", [](EvalContext& c, Value* o) { return GetIdString(c.log->span_id(), o); },
     [](EvalContext& c, const Value& v) { return SetIdString(c.log->mutable_span_id(), v, 8); }},
    {"event_name", [](EvalContext& c, Value* o) { return *o = Value::StringView(c.log->event_name()), Ok(); },
     [](EvalContext& c, const Value& v) { return SetString(c.log->mutable_event_name(), v), Ok(); }},
};

const FieldDef kCacheField = {"cache", nullptr, nullptr, [](EvalContext& c) { return &c.cache; }};

template <size_t N>
std::vector<const FieldDef*> All(const FieldDef (&defs)[N]) {
  std::vector<const FieldDef*> out;
  for (const FieldDef& d : defs) out.push_back(&d);
  return out;
}

std::vector<const FieldDef*> FieldsOf(ContextKind k) {
  switch (k) {
    case ContextKind::kResource:
      return All(kResourceFields);
    case ContextKind::kScope:
      return All(kScopeFields);
    case ContextKind::kSpan:
      return All(kSpanFields);
    case ContextKind::kSpanEvent:
      return All(kEventFields);
    case ContextKind::kMetric:
      return All(kMetricFields);
    case ContextKind::kDataPoint:
      return All(kDataPointFields);
    case ContextKind::kLog:
      return All(kLogFields);
  }
  return {};
}

absl::StatusOr<std::string_view> KeyString(EvalContext& c, const KeyStep& k, Value* scratch, bool* is_int, int64_t* i) {
  if (k.expr) {
    if (absl::Status s = k.expr->Eval(c, scratch); !s.ok()) return s;
    if (scratch->type == Type::kString) {
      *is_int = false;
      return scratch->s;
    }
    if (scratch->type == Type::kInt) {
      *is_int = true;
      *i = scratch->i;
      return std::string_view();
    }
    return absl::InvalidArgumentError(StrCat("a key must be a string or an int, not ", TypeName(scratch->type)));
  }
  *is_int = k.is_int;
  *i = k.i;
  return std::string_view(k.s);
}

// A path into a map or an AnyValue (attributes, body, cache), with keys.
class MapAccessor : public Accessor {
 public:
  MapAccessor(std::string name, MapRoot map_root, AnyRoot any_root, std::vector<KeyStep> keys)
      : map_root_(map_root), any_root_(any_root), keys_(std::move(keys)) {
    name_ = std::move(name);
  }

  absl::Status Get(EvalContext& c, Value* out) const override {
    if (map_root_) {
      KeyValues* m = map_root_(c);
      if (keys_.empty()) {
        *out = Value::MapView(m);
        return absl::OkStatus();
      }
      Value scratch;
      bool is_int;
      int64_t i;
      auto k = KeyString(c, keys_[0], &scratch, &is_int, &i);
      if (!k.ok()) return k.status();
      if (is_int) return absl::InvalidArgumentError(StrCat(name_, " is a map: its key must be a string"));
      const AnyValue* v = Find(*m, *k);
      auto r = Index(c, v, keys_, 1);
      if (!r.ok()) return r.status();
      *out = *r ? Value::FromAny(**r) : Value::Nil();
      return absl::OkStatus();
    }
    auto r = Index(c, any_root_(c), keys_, 0);
    if (!r.ok()) return r.status();
    *out = *r ? Value::FromAny(**r) : Value::Nil();
    return absl::OkStatus();
  }

  absl::Status Set(EvalContext& c, const Value& v) const override {
    AnyValue* cur = nullptr;
    size_t from = 0;
    if (map_root_) {
      KeyValues* m = map_root_(c);
      if (keys_.empty()) {
        if (v.type != Type::kMap || v.map == m) return absl::OkStatus();
        KeyValues copy = *v.map;
        m->Swap(&copy);
        return absl::OkStatus();
      }
      Value scratch;
      bool is_int;
      int64_t i;
      auto k = KeyString(c, keys_[0], &scratch, &is_int, &i);
      if (!k.ok()) return k.status();
      if (is_int) return absl::InvalidArgumentError(StrCat(name_, " is a map: its key must be a string"));
      cur = Upsert(m, *k);
      from = 1;
    } else {
      cur = any_root_(c);
    }
    for (size_t n = from; n < keys_.size(); ++n) {
      Value scratch;
      bool is_int;
      int64_t i;
      auto k = KeyString(c, keys_[n], &scratch, &is_int, &i);
      if (!k.ok()) return k.status();
      if (is_int) {
        if (!cur->has_array_value() || i < 0 || i >= cur->array_value().values_size()) {
          return absl::InvalidArgumentError(StrCat(name_, ": index ", i, " is out of range"));
        }
        cur = cur->mutable_array_value()->mutable_values(static_cast<int>(i));
      } else {
        if (!cur->has_kvlist_value()) cur->mutable_kvlist_value();
        cur = Upsert(cur->mutable_kvlist_value()->mutable_values(), *k);
      }
    }
    ToAny(v, cur);
    return absl::OkStatus();
  }

  KeyValues* MutableMap(EvalContext& c) const override {
    AnyValue* cur = nullptr;
    size_t from = 0;
    if (map_root_) {
      KeyValues* m = map_root_(c);
      if (keys_.empty()) return m;
      if (keys_[0].expr || keys_[0].is_int) return nullptr;
      cur = FindMutable(m, keys_[0].s);
      from = 1;
    } else {
      cur = any_root_(c);
    }
    for (size_t n = from; cur != nullptr && n < keys_.size(); ++n) {
      const KeyStep& k = keys_[n];
      if (k.expr) return nullptr;
      if (k.is_int) {
        if (!cur->has_array_value() || k.i < 0 || k.i >= cur->array_value().values_size()) return nullptr;
        cur = cur->mutable_array_value()->mutable_values(static_cast<int>(k.i));
      } else {
        if (!cur->has_kvlist_value()) return nullptr;
        cur = FindMutable(cur->mutable_kvlist_value()->mutable_values(), k.s);
      }
    }
    if (cur == nullptr || !cur->has_kvlist_value()) return nullptr;
    return cur->mutable_kvlist_value()->mutable_values();
  }

 private:
  MapRoot map_root_;
  AnyRoot any_root_;
  std::vector<KeyStep> keys_;
};

class FieldAccessor : public Accessor {
 public:
  FieldAccessor(std::string name, Getter get, Setter set) : get_(get), set_(set) { name_ = std::move(name); }
  absl::Status Get(EvalContext& c, Value* out) const override { return get_(c, out); }
  absl::Status Set(EvalContext& c, const Value& v) const override {
    if (set_ == nullptr) return Accessor::Set(c, v);
    return set_(c, v);
  }

 private:
  Getter get_;
  Setter set_;
};

std::string Join(const std::vector<std::string>& s, size_t from) {
  std::string out;
  for (size_t i = from; i < s.size(); ++i) {
    if (!out.empty()) out.push_back('.');
    out += s[i];
  }
  return out;
}

bool IsBelow(ContextKind ctx, ContextKind parent) {
  switch (parent) {
    case ContextKind::kResource:
      return ctx != ContextKind::kResource;
    case ContextKind::kScope:
      return ctx != ContextKind::kResource && ctx != ContextKind::kScope;
    case ContextKind::kSpan:
      return ctx == ContextKind::kSpanEvent;
    case ContextKind::kMetric:
      return ctx == ContextKind::kDataPoint;
    default:
      return false;
  }
}

}  // namespace

absl::StatusOr<const AnyValue*> Index(EvalContext& c, const AnyValue* v, const std::vector<KeyStep>& keys,
                                      size_t from) {
  for (size_t n = from; v != nullptr && n < keys.size(); ++n) {
    Value scratch;
    bool is_int;
    int64_t i;
    auto k = KeyString(c, keys[n], &scratch, &is_int, &i);
    if (!k.ok()) return k.status();
    if (is_int) {
      if (!v->has_array_value()) return nullptr;
      if (i < 0 || i >= v->array_value().values_size()) return nullptr;
      v = &v->array_value().values(static_cast<int>(i));
    } else {
      if (!v->has_kvlist_value()) return nullptr;
      v = Find(v->kvlist_value().values(), *k);
    }
  }
  return v;
}

absl::StatusOr<AccessorPtr> ResolvePath(ContextKind ctx, const std::vector<std::string>& segments,
                                        std::vector<KeyStep> keys) {
  if (segments.empty()) return absl::InvalidArgumentError("empty path");
  ContextKind target = ctx;
  size_t from = 0;
  const std::string& first = segments[0];
  auto named = ParseContextName(first);
  if (first == "cache") {
    if (segments.size() > 1) return absl::InvalidArgumentError("cache takes keys: cache[\"name\"]");
    return AccessorPtr(std::make_shared<MapAccessor>("cache", kCacheField.map_root, nullptr, std::move(keys)));
  }
  if (named && segments.size() > 1) {
    if (*named != ctx && !IsBelow(ctx, *named)) {
      return absl::InvalidArgumentError(
          StrCat("path ", Join(segments, 0), ": the ", ContextName(ctx), " context has no ", first, " paths"));
    }
    target = *named;
    from = 1;
    if (segments[1] == "cache") {
      if (segments.size() > 2 || target != ctx) return absl::InvalidArgumentError("cache takes keys: cache[\"name\"]");
      return AccessorPtr(std::make_shared<MapAccessor>("cache", kCacheField.map_root, nullptr, std::move(keys)));
    }
  }
  std::string name = Join(segments, from);
  std::string full = Join(segments, 0);
  for (const FieldDef* f : FieldsOf(target)) {
    if (f->name != name) continue;
    if (f->map_root || f->any_root) {
      return AccessorPtr(std::make_shared<MapAccessor>(full, f->map_root, f->any_root, std::move(keys)));
    }
    if (!keys.empty()) return absl::InvalidArgumentError(StrCat("path ", full, " cannot be indexed with [...]"));
    return AccessorPtr(std::make_shared<FieldAccessor>(full, f->get, f->set));
  }
  std::vector<std::string> names = PathNames(target);
  std::string list;
  for (const auto& n : names) StrAppend(&list, list.empty() ? "" : ", ", n);
  return absl::InvalidArgumentError(StrCat("unknown path ", full, " in the ", ContextName(ctx), " context; ",
                                           ContextName(target), " paths are: ", list));
}

std::vector<std::string> PathNames(ContextKind ctx) {
  std::vector<std::string> out;
  for (const FieldDef* f : FieldsOf(ctx)) out.emplace_back(f->name);
  out.emplace_back("cache");
  return out;
}

std::optional<int64_t> LookupEnum(std::string_view n) {
  struct E {
    std::string_view name;
    int64_t v;
  };
  static const E kEnums[] = {
      {"SPAN_KIND_UNSPECIFIED", 0},
      {"SPAN_KIND_INTERNAL", 1},
      {"SPAN_KIND_SERVER", 2},
      {"SPAN_KIND_CLIENT", 3},
      {"SPAN_KIND_PRODUCER", 4},
      {"SPAN_KIND_CONSUMER", 5},
      {"STATUS_CODE_UNSET", 0},
      {"STATUS_CODE_OK", 1},
      {"STATUS_CODE_ERROR", 2},
      {"SEVERITY_NUMBER_UNSPECIFIED", 0},
      {"SEVERITY_NUMBER_TRACE", 1},
      {"SEVERITY_NUMBER_TRACE2", 2},
      {"SEVERITY_NUMBER_TRACE3", 3},
      {"SEVERITY_NUMBER_TRACE4", 4},
      {"SEVERITY_NUMBER_DEBUG", 5},
      {"SEVERITY_NUMBER_DEBUG2", 6},
      {"SEVERITY_NUMBER_DEBUG3", 7},
      {"SEVERITY_NUMBER_DEBUG4", 8},
      {"SEVERITY_NUMBER_INFO", 9},
      {"SEVERITY_NUMBER_INFO2", 10},
      {"SEVERITY_NUMBER_INFO3", 11},
      {"SEVERITY_NUMBER_INFO4", 12},
      {"SEVERITY_NUMBER_WARN", 13},
      {"SEVERITY_NUMBER_WARN2", 14},
      {"SEVERITY_NUMBER_WARN3", 15},
      {"SEVERITY_NUMBER_WARN4", 16},
      {"SEVERITY_NUMBER_ERROR", 17},
      {"SEVERITY_NUMBER_ERROR2", 18},
      {"SEVERITY_NUMBER_ERROR3", 19},
      {"SEVERITY_NUMBER_ERROR4", 20},
      {"SEVERITY_NUMBER_FATAL", 21},
      {"SEVERITY_NUMBER_FATAL2", 22},
      {"SEVERITY_NUMBER_FATAL3", 23},
      {"SEVERITY_NUMBER_FATAL4", 24},
      {"METRIC_DATA_TYPE_NONE", 0},
      {"METRIC_DATA_TYPE_GAUGE", 1},
      {"METRIC_DATA_TYPE_SUM", 2},
      {"METRIC_DATA_TYPE_HISTOGRAM", 3},
      {"METRIC_DATA_TYPE_EXPONENTIAL_HISTOGRAM", 4},
      {"METRIC_DATA_TYPE_SUMMARY", 5},
      {"AGGREGATION_TEMPORALITY_UNSPECIFIED", 0},
      {"AGGREGATION_TEMPORALITY_DELTA", 1},
      {"AGGREGATION_TEMPORALITY_CUMULATIVE", 2},
      {"FLAG_NONE", 0},
      {"FLAG_NO_RECORDED_VALUE", 1},
  };
  for (const E& e : kEnums) {
    if (e.name == n) return e.v;
  }
  return std::nullopt;
}

}  // namespace outrigger::ottl
