#include "collector/filterset/filterset.h"

#include <re2/re2.h>

#include <charconv>
#include <cmath>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "collector/common/json.h"

namespace outrigger::filterset {
namespace {

using opentelemetry::proto::common::v1::AnyValue;

constexpr std::string_view kSeverityNames[] = {
    "UNSPECIFIED", "TRACE",  "TRACE2", "TRACE3", "TRACE4", "DEBUG",  "DEBUG2", "DEBUG3", "DEBUG4",
    "INFO",        "INFO2",  "INFO3",  "INFO4",  "WARN",   "WARN2",  "WARN3",  "WARN4",  "ERROR",
    "ERROR2",      "ERROR3", "ERROR4", "FATAL",  "FATAL2", "FATAL3", "FATAL4"};

constexpr std::string_view kSpanKinds[] = {"SPAN_KIND_UNSPECIFIED", "SPAN_KIND_INTERNAL", "SPAN_KIND_SERVER",
                                           "SPAN_KIND_CLIENT",      "SPAN_KIND_PRODUCER", "SPAN_KIND_CONSUMER"};

void DecodeAttributes(config::Node& node, std::string_view key, std::vector<Attribute>* out) {
  for (config::Node* item : node.ReadMappings(key)) {
    Attribute a;
    item->Read("key", &a.key);
    config::Node& v = item->Value("value");
    if (!v.IsNull()) {
      AnyValue value;
      if (DecodeValue(v, &value)) a.value = std::move(value);
    }
    out->push_back(std::move(a));
  }
}

absl::StatusOr<std::unique_ptr<StringFilter>> MakeFilter(const std::vector<std::string>& items, MatchType type) {
  if (items.empty()) return std::unique_ptr<StringFilter>();
  auto f = StringFilter::Create(items, type);
  if (!f.ok()) return f.status();
  return std::make_unique<StringFilter>(std::move(*f));
}

absl::StatusOr<MatchType> ParseMatchType(const std::string& t) {
  if (t == "strict") return MatchType::kStrict;
  if (t == "regexp") return MatchType::kRegexp;
  return absl::InvalidArgumentError(StrCat("unrecognized match_type: '", t, "', valid types are: [regexp strict]"));
}

void AppendDouble(double d, std::string* out) {
  if (std::isnan(d) || std::isinf(d)) {
    // Upstream formats these as an encoding error message; keep a readable word.
    out->append(std::isnan(d) ? "NaN" : (d > 0 ? "+Inf" : "-Inf"));
    return;
  }
  char buf[64];
  const double abs = std::fabs(d);
  const bool exp = abs != 0 && (abs < 1e-6 || abs >= 1e21);
  auto r = std::to_chars(buf, buf + sizeof buf, d, exp ? std::chars_format::scientific : std::chars_format::fixed);
  size_t n = static_cast<size_t>(r.ptr - buf);
  if (exp && n >= 4 && buf[n - 4] == 'e' && buf[n - 3] == '-' && buf[n - 2] == '0') {
    buf[n - 2] = buf[n - 1];  // e-07 -> e-7, as Go's JSON numbers
    --n;
  }
  out->append(buf, n);
}

// JSON of a value inside an array or map (upstream's AsString of a map or slice).
void AppendJsonValue(const AnyValue& v, std::string* out) {
  switch (v.value_case()) {
    case AnyValue::kStringValue:
      AppendJsonString(out, v.string_value());
      break;
    case AnyValue::kBoolValue:
      out->append(v.bool_value() ? "true" : "false");
      break;
    case AnyValue::kIntValue:
      StrAppend(out, v.int_value());
      break;
    case AnyValue::kDoubleValue:
      AppendDouble(v.double_value(), out);
      break;
    case AnyValue::kBytesValue:
      AppendJsonString(out, absl::Base64Escape(v.bytes_value()));
      break;
    case AnyValue::kArrayValue: {
      out->push_back('[');
      bool first = true;
      for (const auto& e : v.array_value().values()) {
        if (!first) out->push_back(',');
        first = false;
        AppendJsonValue(e, out);
      }
      out->push_back(']');
      break;
    }
    case AnyValue::kKvlistValue: {
      out->push_back('{');
      bool first = true;
      for (const auto& kv : v.kvlist_value().values()) {
        if (!first) out->push_back(',');
        first = false;
        AppendJsonString(out, kv.key());
        out->push_back(':');
        AppendJsonValue(kv.value(), out);
      }
      out->push_back('}');
      break;
    }
    default:
      out->append("null");
  }
}

// Upstream's attributeStringValue: a regexp tests strings, booleans and numbers only.
bool StringOf(const AnyValue& v, std::string_view* view, std::string* scratch) {
  switch (v.value_case()) {
    case AnyValue::kStringValue:
      *view = v.string_value();
      return true;
    case AnyValue::kBoolValue:
    case AnyValue::kIntValue:
    case AnyValue::kDoubleValue:
      scratch->clear();
      AppendAsString(v, scratch);
      *view = *scratch;
      return true;
    default:
      return false;
  }
}

}  // namespace

// ---- configuration ----

bool DecodeValue(config::Node& node, AnyValue* out) {
  if (node.IsList()) {
    auto* arr = out->mutable_array_value();
    bool ok = true;
    for (config::Node* item : node.Items()) ok &= DecodeValue(*item, arr->add_values());
    return ok;
  }
  if (node.IsMap()) {
    auto* kvs = out->mutable_kvlist_value();
    bool ok = true;
    for (auto& [k, v] : node.Entries()) {
      auto* kv = kvs->add_values();
      kv->set_key(k);
      ok &= DecodeValue(*v, kv->mutable_value());
    }
    return ok;
  }
  if (node.IsNull()) {
    out->Clear();
    return true;
  }
  std::string s;
  if (!node.As(&s)) return false;
  if (node.IsPlainScalar()) {
    // YAML's core schema: integers, floats and booleans unless quoted.
    int64_t i = 0;
    auto r = std::from_chars(s.data(), s.data() + s.size(), i);
    if (r.ec == std::errc() && r.ptr == s.data() + s.size() && !s.empty()) {
      out->set_int_value(i);
      return true;
    }
    if (s == "true" || s == "True" || s == "TRUE" || s == "false" || s == "False" || s == "FALSE") {
      out->set_bool_value(s[0] == 't' || s[0] == 'T');
      return true;
    }
    double d = 0;
    auto rd = std::from_chars(s.data(), s.data() + s.size(), d);
    if (!s.empty() && rd.ec == std::errc() && rd.ptr == s.data() + s.size() &&
        s.find_first_of(".eE") != std::string::npos) {
      out->set_double_value(d);
      return true;
    }
  }
  out->set_string_value(std::move(s));
  return true;
}

void MatchProperties::Decode(config::Node& node) {
  node.Read("match_type", &match_type);
  config::Node& re = node.Child("regexp");
  re.Read("cacheenabled", &regexp_cache_enabled);
  re.Read("cachemaxnumentries", &regexp_cache_max_num_entries);
  node.Read("services", &services);
  node.Read("span_names", &span_names);
  node.Read("span_kinds", &span_kinds);
  node.Read("log_bodies", &log_bodies);
  node.Read("log_severity_texts", &log_severity_texts);
  config::Node& sev = node.Child("log_severity_number");
  if (!sev.IsNull()) {
    SeverityNumber sn;
    config::Node& min = sev.Value("min");
    if (!min.IsNull()) {
      std::string text;
      int64_t n = 0;
      auto whole_number = [&] {
        auto r = std::from_chars(text.data(), text.data() + text.size(), n);
        return !text.empty() && r.ec == std::errc() && r.ptr == text.data() + text.size();
      };
      if (min.IsPlainScalar() && min.As(&text) && whole_number()) {
        if (n < 0 || n > 24) {
          min.Error("must be a severity number from 1 (TRACE) to 24 (FATAL4), or its name");
        } else {
          sn.min = static_cast<int32_t>(n);
        }
      } else if (min.As(&text)) {
        if (auto s = SeverityFromName(text)) {
          sn.min = *s;
        } else {
          min.Error(StrCat("unrecognized severity \"", text, "\"; use TRACE, DEBUG, INFO, WARN, ERROR or FATAL (with ",
                           "an optional 2, 3 or 4), or a number"));
        }
      }
    }
    sev.Read("match_undefined", &sn.match_undefined);
    log_severity_number = sn;
  }
  node.Read("metric_names", &metric_names);
  DecodeAttributes(node, "attributes", &attributes);
  DecodeAttributes(node, "resources", &resources);
  for (config::Node* item : node.ReadMappings("libraries")) {
    Library l;
    item->Read("name", &l.name);
    if (item->Has("version") && !item->Value("version").IsNull()) {
      std::string v;
      item->Read("version", &v);
      l.version = std::move(v);
    }
    libraries.push_back(std::move(l));
  }
  node.Unsupported("expressions", "expr match expressions are not supported; use match_type strict or regexp");
}

absl::Status MatchProperties::ValidateFor(Signal signal) const {
  auto type = ParseMatchType(match_type);
  if (!type.ok()) return type.status();
  switch (signal) {
    case Signal::kTraces:
      if (!log_bodies.empty()) return absl::InvalidArgumentError("log_bodies should not be specified for trace spans");
      if (!log_severity_texts.empty()) {
        return absl::InvalidArgumentError("log_severity_texts should not be specified for trace spans");
      }
      if (log_severity_number) {
        return absl::InvalidArgumentError("log_severity_number should not be specified for trace spans");
      }
      if (!metric_names.empty()) {
        return absl::InvalidArgumentError("metric_names should not be specified for trace spans");
      }
      if (services.empty() && span_names.empty() && attributes.empty() && libraries.empty() && resources.empty() &&
          span_kinds.empty()) {
        return absl::InvalidArgumentError(
            "at least one of \"services\", \"span_names\", \"span_kinds\", \"attributes\", \"libraries\" or "
            "\"resources\" field must be specified");
      }
      if (*type == MatchType::kStrict) {
        for (const auto& k : span_kinds) {
          bool known = false;
          for (size_t i = 1; i < std::size(kSpanKinds); ++i) known |= kSpanKinds[i] == k;
          if (!known) {
            return absl::InvalidArgumentError(
                StrCat("span_kinds \"", k,
                       "\" must match one of the standard span kinds when match_type=strict: [SPAN_KIND_CLIENT "
                       "SPAN_KIND_CONSUMER SPAN_KIND_INTERNAL SPAN_KIND_PRODUCER SPAN_KIND_SERVER]"));
          }
        }
      }
      break;
    case Signal::kLogs:
      if (!span_names.empty() || !services.empty() || !span_kinds.empty()) {
        return absl::InvalidArgumentError("services, span_names, and span_kinds are not valid for log records");
      }
      if (!metric_names.empty()) {
        return absl::InvalidArgumentError("metric_names should not be specified for log records");
      }
      if (attributes.empty() && libraries.empty() && resources.empty() && log_bodies.empty() &&
          log_severity_texts.empty() && !log_severity_number) {
        return absl::InvalidArgumentError(
            "at least one of \"attributes\", \"libraries\", \"span_kinds\", \"resources\", \"log_bodies\", "
            "\"log_severity_texts\" or \"log_severity_number\" field must be specified");
      }
      break;
    case Signal::kMetrics:
      // Upstream's metric matching reads metric_names, attributes (of data points) and
      // resources; the others would be ignored silently there: refused here.
      if (!services.empty() || !span_names.empty() || !span_kinds.empty()) {
        return absl::InvalidArgumentError("services, span_names, and span_kinds are not valid for metrics");
      }
      if (!log_bodies.empty() || !log_severity_texts.empty() || log_severity_number) {
        return absl::InvalidArgumentError(
            "log_bodies, log_severity_texts and log_severity_number are not valid for metrics");
      }
      if (!libraries.empty()) {
        return absl::InvalidArgumentError(
            "libraries is not used for metrics; use metric_names, attributes or "
            "resources");
      }
      if (metric_names.empty() && attributes.empty() && resources.empty()) {
        return absl::InvalidArgumentError(
            "at least one of \"metric_names\", \"attributes\" or \"resources\" field must be specified");
      }
      break;
  }
  for (const auto* list : {&attributes, &resources}) {
    for (const auto& a : *list) {
      if (a.key.empty()) return absl::InvalidArgumentError("can't have empty key in the list of attributes");
      if (*type == MatchType::kRegexp && a.value && a.value->value_case() != AnyValue::kStringValue) {
        return absl::InvalidArgumentError(
            StrCat("match_type=regexp for \"", a.key, "\" only supports Str, but found another type"));
      }
    }
  }
  return absl::OkStatus();
}

void MatchConfig::Decode(config::Node& parent) {
  for (auto [key, side] : {std::pair{"include", &include}, std::pair{"exclude", &exclude}}) {
    config::Node& n = parent.Child(key);
    if (n.IsNull()) continue;
    MatchProperties mp;
    mp.Decode(n);
    *side = std::move(mp);
  }
}

// ---- values ----

const AnyValue* FindAttribute(const Attributes& attrs, std::string_view key) {
  for (const auto& kv : attrs) {
    if (kv.key() == key) return &kv.value();
  }
  return nullptr;
}

AnyValue* FindMutableAttribute(Attributes* attrs, std::string_view key) {
  for (auto& kv : *attrs) {
    if (kv.key() == key) return kv.mutable_value();
  }
  return nullptr;
}

bool ValueEqual(const AnyValue& a, const AnyValue& b) {
  if (a.value_case() != b.value_case()) return false;
  switch (a.value_case()) {
    case AnyValue::kStringValue:
      return a.string_value() == b.string_value();
    case AnyValue::kBoolValue:
      return a.bool_value() == b.bool_value();
    case AnyValue::kIntValue:
      return a.int_value() == b.int_value();
    case AnyValue::kDoubleValue:
      return a.double_value() == b.double_value();
    case AnyValue::kBytesValue:
      return a.bytes_value() == b.bytes_value();
    case AnyValue::kArrayValue: {
      const auto& x = a.array_value().values();
      const auto& y = b.array_value().values();
      if (x.size() != y.size()) return false;
      for (int i = 0; i < x.size(); ++i) {
        if (!ValueEqual(x[i], y[i])) return false;
      }
      return true;
    }
    case AnyValue::kKvlistValue: {
      const auto& x = a.kvlist_value().values();
      const auto& y = b.kvlist_value().values();
      if (x.size() != y.size()) return false;
      for (const auto& kv : x) {
        const AnyValue* other = FindAttribute(y, kv.key());
        if (other == nullptr || !ValueEqual(kv.value(), *other)) return false;
      }
      return true;
    }
    default:
      return true;  // both empty
  }
}

void AppendAsString(const AnyValue& v, std::string* out) {
  switch (v.value_case()) {
    case AnyValue::kStringValue:
      out->append(v.string_value());
      break;
    case AnyValue::kBoolValue:
      out->append(v.bool_value() ? "true" : "false");
      break;
    case AnyValue::kIntValue:
      StrAppend(out, v.int_value());
      break;
    case AnyValue::kDoubleValue:
      AppendDouble(v.double_value(), out);
      break;
    case AnyValue::kBytesValue:
      out->append(absl::Base64Escape(v.bytes_value()));
      break;
    case AnyValue::kArrayValue:
    case AnyValue::kKvlistValue:
      AppendJsonValue(v, out);
      break;
    default:
      break;
  }
}

std::string AsString(const AnyValue& v) {
  std::string s;
  AppendAsString(v, &s);
  return s;
}

std::optional<int32_t> SeverityFromName(std::string_view name) {
  for (size_t i = 0; i < std::size(kSeverityNames); ++i) {
    if (absl::EqualsIgnoreCase(ToAbsl(name), ToAbsl(kSeverityNames[i]))) return static_cast<int32_t>(i);
  }
  return std::nullopt;
}

std::string_view SpanKindName(int kind) {
  if (kind < 0 || static_cast<size_t>(kind) >= std::size(kSpanKinds)) return "";
  return kSpanKinds[kind];
}

// ---- StringFilter ----

StringFilter::StringFilter(StringFilter&&) noexcept = default;
StringFilter& StringFilter::operator=(StringFilter&&) noexcept = default;
StringFilter::~StringFilter() = default;

absl::StatusOr<StringFilter> StringFilter::Create(const std::vector<std::string>& items, MatchType type) {
  StringFilter f;
  f.type_ = type;
  if (type == MatchType::kStrict) {
    f.strict_.insert(items.begin(), items.end());
    return f;
  }
  RE2::Options opts;
  opts.set_log_errors(false);
  for (const auto& p : items) {
    auto re = std::make_unique<re2::RE2>(p, opts);
    if (!re->ok()) {
      return absl::InvalidArgumentError(StrCat("error parsing regexp \"", p, "\": ", re->error()));
    }
    f.patterns_.push_back(std::move(re));
  }
  return f;
}

bool StringFilter::Matches(std::string_view s) const {
  if (type_ == MatchType::kStrict) return strict_.contains(ToAbsl(s));
  for (const auto& re : patterns_) {
    if (re2::RE2::PartialMatch(re2::StringPiece(s.data(), s.size()), *re)) return true;
  }
  return false;
}

// ---- PropertiesMatcher ----

PropertiesMatcher::PropertiesMatcher(PropertiesMatcher&&) noexcept = default;
PropertiesMatcher& PropertiesMatcher::operator=(PropertiesMatcher&&) noexcept = default;
PropertiesMatcher::~PropertiesMatcher() = default;

absl::StatusOr<PropertiesMatcher> PropertiesMatcher::Compile(const MatchProperties& mp, Signal signal) {
  if (auto st = mp.ValidateFor(signal); !st.ok()) return st;
  const MatchType type = *ParseMatchType(mp.match_type);
  PropertiesMatcher m;
  struct {
    const std::vector<std::string>* items;
    std::unique_ptr<StringFilter>* into;
  } lists[] = {{&mp.services, &m.services_},
               {&mp.span_names, &m.span_names_},
               {&mp.span_kinds, &m.span_kinds_},
               {&mp.log_bodies, &m.log_bodies_},
               {&mp.log_severity_texts, &m.severity_texts_},
               {&mp.metric_names, &m.metric_names_}};
  for (auto& l : lists) {
    auto f = MakeFilter(*l.items, type);
    if (!f.ok()) return f.status();
    *l.into = std::move(*f);
  }
  m.severity_number_ = mp.log_severity_number;
  for (auto [from, into] : {std::pair{&mp.attributes, &m.attributes_}, std::pair{&mp.resources, &m.resources_}}) {
    for (const auto& a : *from) {
      AttrMatcher am;
      am.key = a.key;
      if (a.value) {
        if (type == MatchType::kRegexp) {
          auto f = MakeFilter({a.value->string_value()}, type);
          if (!f.ok()) return f.status();
          am.regexp = std::move(*f);
        } else {
          am.value = a.value;
        }
      }
      into->push_back(std::move(am));
    }
  }
  for (const auto& l : mp.libraries) {
    LibMatcher lm;
    auto name = MakeFilter({l.name}, type);
    if (!name.ok()) return name.status();
    lm.name = std::move(*name);
    if (l.version) {
      auto v = MakeFilter({*l.version}, type);
      if (!v.ok()) return v.status();
      lm.version = std::move(*v);
    }
    m.libraries_.push_back(std::move(lm));
  }
  return m;
}

bool PropertiesMatcher::MatchAttrs(const std::vector<AttrMatcher>& m, const Attributes& attrs) {
  if (m.empty()) return true;
  std::string scratch;  // only non-string values tested by a regexp are formatted
  for (const auto& am : m) {
    const AnyValue* v = FindAttribute(attrs, am.key);
    if (v == nullptr) return false;
    if (am.regexp) {
      std::string_view s;
      if (!StringOf(*v, &s, &scratch) || !am.regexp->Matches(s)) return false;
    } else if (am.value && !ValueEqual(*v, *am.value)) {
      return false;
    }
  }
  return true;
}

bool PropertiesMatcher::MatchCommon(const Resource& resource, const Scope& scope, const Attributes& attrs) const {
  for (const auto& l : libraries_) {
    if (!l.name->Matches(scope.name())) return false;
    if (l.version && !l.version->Matches(scope.version())) return false;
  }
  if (!MatchAttrs(resources_, resource.attributes())) return false;
  return MatchAttrs(attributes_, attrs);
}

bool PropertiesMatcher::MatchSpan(const Resource& resource, const Scope& scope, const Span& span) const {
  if (services_) {
    const AnyValue* svc = FindAttribute(resource.attributes(), "service.name");
    if (svc == nullptr) {
      if (!services_->Matches("<nil-service-name>")) return false;
    } else if (svc->value_case() == AnyValue::kStringValue) {
      if (!services_->Matches(svc->string_value())) return false;
    } else if (!services_->Matches(AsString(*svc))) {
      return false;
    }
  }
  if (span_names_ && !span_names_->Matches(span.name())) return false;
  if (span_kinds_ && !span_kinds_->Matches(SpanKindName(span.kind()))) return false;
  return MatchCommon(resource, scope, span.attributes());
}

bool PropertiesMatcher::MatchLog(const Resource& resource, const Scope& scope, const LogRecord& log) const {
  if (log_bodies_ && log.body().value_case() == AnyValue::kStringValue &&
      !log_bodies_->Matches(log.body().string_value())) {
    return false;
  }
  if (severity_texts_ && !severity_texts_->Matches(log.severity_text())) return false;
  if (severity_number_) {
    const int32_t n = static_cast<int32_t>(log.severity_number());
    if (n == 0 ? !severity_number_->match_undefined : n < severity_number_->min) return false;
  }
  return MatchCommon(resource, scope, log.attributes());
}

bool PropertiesMatcher::MatchMetric(const Resource& resource, const Metric& metric) const {
  if (metric_names_ && !metric_names_->Matches(metric.name())) return false;
  return MatchAttrs(resources_, resource.attributes());
}

bool PropertiesMatcher::MatchDataPoint(const Resource& resource, const Metric& metric,
                                       const Attributes& point_attributes) const {
  return MatchMetric(resource, metric) && MatchAttrs(attributes_, point_attributes);
}

// ---- Matcher ----

absl::StatusOr<Matcher> Matcher::Compile(const MatchConfig& mc, Signal signal) {
  Matcher m;
  for (auto [side, into, name] :
       {std::tuple{&mc.include, &m.include_, "include"}, std::tuple{&mc.exclude, &m.exclude_, "exclude"}}) {
    if (!*side) continue;
    auto pm = PropertiesMatcher::Compile(**side, signal);
    if (!pm.ok()) return absl::InvalidArgumentError(StrCat(name, ": ", pm.status().message()));
    *into = std::make_unique<PropertiesMatcher>(std::move(*pm));
  }
  return m;
}

bool Matcher::SkipSpan(const Resource& resource, const Scope& scope, const Span& span) const {
  if (include_ && !include_->MatchSpan(resource, scope, span)) return true;
  return exclude_ && exclude_->MatchSpan(resource, scope, span);
}

bool Matcher::SkipLog(const Resource& resource, const Scope& scope, const LogRecord& log) const {
  if (include_ && !include_->MatchLog(resource, scope, log)) return true;
  return exclude_ && exclude_->MatchLog(resource, scope, log);
}

bool Matcher::SkipMetric(const Resource& resource, const Metric& metric) const {
  if (include_ && !include_->MatchMetric(resource, metric)) return true;
  return exclude_ && exclude_->MatchMetric(resource, metric);
}

bool Matcher::SkipDataPoint(const Resource& resource, const Metric& metric, const Attributes& point_attributes) const {
  if (include_ && !include_->MatchDataPoint(resource, metric, point_attributes)) return true;
  return exclude_ && exclude_->MatchDataPoint(resource, metric, point_attributes);
}

}  // namespace outrigger::filterset
