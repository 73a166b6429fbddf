#include "collector/prometheus/labels.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>

#include "absl/strings/escaping.h"
#include "collector/common/json.h"
#include "collector/common/strings.h"
#include "collector/prometheus/naming.h"

namespace outrigger::prom {

namespace cpb = opentelemetry::proto::common::v1;

// Sample values: integers without a fraction, others in the shortest exact form.
void AppendDouble(double v, std::string* out) {
  if (std::isnan(v)) {
    out->append("NaN");
  } else if (std::isinf(v)) {
    out->append(v > 0 ? "+Inf" : "-Inf");
  } else {
    char buf[64];
    std::to_chars_result r;
    if (v == std::floor(v) && std::fabs(v) < 1e15) {
      r = std::to_chars(buf, buf + sizeof buf, static_cast<int64_t>(v));
    } else {
      r = std::to_chars(buf, buf + sizeof buf, v);
    }
    out->append(buf, r.ptr);
  }
}

std::string DoubleString(double v) {
  std::string s;
  AppendDouble(v, &s);
  return s;
}

namespace {
void AppendJsonValue(const cpb::AnyValue& v, std::string* out) {
  switch (v.value_case()) {
    case cpb::AnyValue::kStringValue:
      AppendJsonString(out, v.string_value());
      break;
    case cpb::AnyValue::kBoolValue:
      out->append(v.bool_value() ? "true" : "false");
      break;
    case cpb::AnyValue::kIntValue:
      out->append(std::to_string(v.int_value()));
      break;
    case cpb::AnyValue::kDoubleValue:
      if (std::isfinite(v.double_value())) {
        AppendDouble(v.double_value(), out);
      } else {
        AppendJsonString(out, DoubleString(v.double_value()));
      }
      break;
    case cpb::AnyValue::kBytesValue:
      AppendJsonString(out, ToStd(absl::Base64Escape(v.bytes_value())));
      break;
    case cpb::AnyValue::kArrayValue: {
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
    case cpb::AnyValue::kKvlistValue: {
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

}  // namespace

// An attribute value as a label value: strings as they are, arrays and maps as JSON.
std::string ValueString(const cpb::AnyValue& v) {
  switch (v.value_case()) {
    case cpb::AnyValue::kStringValue:
      return v.string_value();
    case cpb::AnyValue::kBoolValue:
      return v.bool_value() ? "true" : "false";
    case cpb::AnyValue::kIntValue:
      return std::to_string(v.int_value());
    case cpb::AnyValue::kDoubleValue:
      return DoubleString(v.double_value());
    case cpb::AnyValue::kBytesValue:
      return absl::Base64Escape(v.bytes_value());
    case cpb::AnyValue::kArrayValue:
    case cpb::AnyValue::kKvlistValue: {
      std::string s;
      AppendJsonValue(v, &s);
      return s;
    }
    default:
      return "";
  }
}

void MergeAttributes(const KeyValues& attrs, LabelMap* out, TranslationStrategy strategy) {
  std::vector<const cpb::KeyValue*> sorted;
  sorted.reserve(static_cast<size_t>(attrs.size()));
  for (const auto& kv : attrs) {
    if (!kv.key().empty()) sorted.push_back(&kv);
  }
  if (sorted.size() > 1) {
    std::sort(sorted.begin(), sorted.end(),
              [](const cpb::KeyValue* a, const cpb::KeyValue* b) { return a->key() < b->key(); });
  }
  for (const cpb::KeyValue* kv : sorted) {
    std::string name = LabelNameFor(strategy, kv->key());
    if (name.empty()) continue;
    std::string value = ValueString(kv->value());
    auto [it, inserted] = out->try_emplace(std::move(name), value);
    if (!inserted) {
      it->second.push_back(';');
      it->second.append(value);
    }
  }
}

ResourceIdentity IdentityOf(const opentelemetry::proto::resource::v1::Resource& resource) {
  ResourceIdentity id;
  std::string service_name, service_namespace, instance;
  bool has_name = false;
  for (const auto& kv : resource.attributes()) {
    if (kv.key() == "service.name") {
      service_name = ValueString(kv.value());
      has_name = true;
    } else if (kv.key() == "service.namespace") {
      service_namespace = ValueString(kv.value());
    } else if (kv.key() == "service.instance.id") {
      instance = ValueString(kv.value());
    } else {
      *id.other.Add() = kv;
    }
  }
  if (has_name) {
    id.labels.emplace_back("job",
                           service_namespace.empty() ? service_name : StrCat(service_namespace, "/", service_name));
  }
  if (!instance.empty()) id.labels.emplace_back("instance", instance);
  return id;
}

void AppendScopeLabels(const cpb::InstrumentationScope& scope, Labels* out) {
  if (!scope.name().empty()) out->emplace_back("otel_scope_name", scope.name());
  if (!scope.version().empty()) out->emplace_back("otel_scope_version", scope.version());
}

void AppendScopeInfoLabels(const cpb::InstrumentationScope& scope, std::string_view schema_url,
                           TranslationStrategy strategy, Labels* out) {
  AppendScopeLabels(scope, out);
  if (!schema_url.empty()) out->emplace_back("otel_scope_schema_url", std::string(schema_url));
  for (const auto& kv : scope.attributes()) {
    if (kv.key().empty()) continue;
    std::string name = LabelNameFor(strategy, StrCat("otel_scope_", kv.key()));
    if (!name.empty()) out->emplace_back(std::move(name), ValueString(kv.value()));
  }
}

bool IsLabelName(std::string_view s) {
  if (s.empty()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

bool IsNamespace(std::string_view s) {
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' || (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

}  // namespace outrigger::prom
