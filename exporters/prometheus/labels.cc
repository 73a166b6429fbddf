#include "exporters/prometheus/labels.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>

#include "absl/strings/escaping.h"
#include "collector/common/strings.h"
#include "opentelemetry/proto/common/v1/common.pb.h"

namespace outrigger::exporters::prometheus {

namespace cpb = opentelemetry::proto::common::v1;

namespace {
void AppendJsonString(std::string_view s, std::string* out) {
  out->push_back('"');
  for (char c : s) {
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(c)));
          out->append(buf);
        } else {
          out->push_back(c);
        }
    }
  }
  out->push_back('"');
}

}  // namespace

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
    case cpb::AnyValue::kStringValue: AppendJsonString(v.string_value(), out); break;
    case cpb::AnyValue::kBoolValue: out->append(v.bool_value() ? "true" : "false"); break;
    case cpb::AnyValue::kIntValue: out->append(std::to_string(v.int_value())); break;
    case cpb::AnyValue::kDoubleValue:
      if (std::isfinite(v.double_value())) {
        AppendDouble(v.double_value(), out);
      } else {
        AppendJsonString(DoubleString(v.double_value()), out);
      }
      break;
    case cpb::AnyValue::kBytesValue: AppendJsonString(ToStd(absl::Base64Escape(v.bytes_value())), out); break;
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
        AppendJsonString(kv.key(), out);
        out->push_back(':');
        AppendJsonValue(kv.value(), out);
      }
      out->push_back('}');
      break;
    }
    default: out->append("null");
  }
}

}  // namespace

// An attribute value as a label value: strings as they are, arrays and maps as JSON.
std::string ValueString(const cpb::AnyValue& v) {
  switch (v.value_case()) {
    case cpb::AnyValue::kStringValue: return v.string_value();
    case cpb::AnyValue::kBoolValue: return v.bool_value() ? "true" : "false";
    case cpb::AnyValue::kIntValue: return std::to_string(v.int_value());
    case cpb::AnyValue::kDoubleValue: return DoubleString(v.double_value());
    case cpb::AnyValue::kBytesValue: return absl::Base64Escape(v.bytes_value());
    case cpb::AnyValue::kArrayValue:
    case cpb::AnyValue::kKvlistValue: {
      std::string s;
      AppendJsonValue(v, &s);
      return s;
    }
    default: return "";
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
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
              (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

}  // namespace outrigger::exporters::prometheus
