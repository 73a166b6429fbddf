#pragma once
// Values as Prometheus text: sample values, attribute values as label values, and the
// checks of configured names. Shared by the prometheus and prometheusremotewrite exporters.

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "collector/prometheus/naming.h"
#include "opentelemetry/proto/common/v1/common.pb.h"
#include "opentelemetry/proto/resource/v1/resource.pb.h"

namespace outrigger::prom {

// Sample values: integers without a fraction, others in the shortest exact form; NaN,
// +Inf, -Inf.
void AppendDouble(double v, std::string* out);
std::string DoubleString(double v);

// An attribute value as a label value: strings as they are, numbers and booleans as
// text, bytes in base64, arrays and maps as JSON.
std::string ValueString(const opentelemetry::proto::common::v1::AnyValue& v);

using LabelMap = std::map<std::string, std::string, std::less<>>;
using Labels = std::vector<std::pair<std::string, std::string>>;
using KeyValues = google::protobuf::RepeatedPtrField<opentelemetry::proto::common::v1::KeyValue>;

// Attributes as labels (names by LabelNameFor(strategy)). Keys that sanitize to the same
// label name have their values joined with ';' in the order of the original keys (as the
// specification says).
void MergeAttributes(const KeyValues& attrs, LabelMap* out,
                     TranslationStrategy strategy = TranslationStrategy::kUnderscoreEscapingWithSuffixes);

// What a resource says of its target: `job` ("<service.namespace>/<service.name>") and
// `instance` (service.instance.id) labels when set, and the other attributes, which go
// to target_info.
struct ResourceIdentity {
  Labels labels;
  KeyValues other;
};
ResourceIdentity IdentityOf(const opentelemetry::proto::resource::v1::Resource& resource);

// otel_scope_name and otel_scope_version, when the scope sets them.
void AppendScopeLabels(const opentelemetry::proto::common::v1::InstrumentationScope& scope, Labels* out);
// What upstream's prometheus exporter adds for a scope: otel_scope_name, otel_scope_version,
// otel_scope_schema_url (the ScopeMetrics' schema_url) when set, and every scope attribute
// as otel_scope_<key> (its name by LabelNameFor(strategy)).
void AppendScopeInfoLabels(const opentelemetry::proto::common::v1::InstrumentationScope& scope,
                           std::string_view schema_url, TranslationStrategy strategy, Labels* out);

// [a-zA-Z_][a-zA-Z0-9_]*
bool IsLabelName(std::string_view s);
// [a-zA-Z_:][a-zA-Z0-9_:]* (may be empty)
bool IsNamespace(std::string_view s);

}  // namespace outrigger::prom
