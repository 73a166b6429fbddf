#pragma once
// Values as Prometheus text: sample values, attribute values as label values, and the
// checks of configured names. Shared by the prometheus and prometheusremotewrite exporters.

#include <string>
#include <string_view>

namespace opentelemetry::proto::common::v1 {
class AnyValue;
}

namespace outrigger::exporters::prometheus {

// Sample values: integers without a fraction, others in the shortest exact form; NaN,
// +Inf, -Inf.
void AppendDouble(double v, std::string* out);
std::string DoubleString(double v);

// An attribute value as a label value: strings as they are, numbers and booleans as
// text, bytes in base64, arrays and maps as JSON.
std::string ValueString(const opentelemetry::proto::common::v1::AnyValue& v);

// [a-zA-Z_][a-zA-Z0-9_]*
bool IsLabelName(std::string_view s);
// [a-zA-Z_:][a-zA-Z0-9_:]* (may be empty)
bool IsNamespace(std::string_view s);

}  // namespace outrigger::exporters::prometheus
