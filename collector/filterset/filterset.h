#pragma once
// Upstream's match properties (contrib internal/filter: filterconfig.MatchConfig /
// MatchProperties, filterset strict|regexp), shared by processors that select records
// the legacy way: `attributes` (include/exclude), `filter` (its include/exclude forms).
//
// Decoding: MatchConfig::Decode reads `include` and `exclude` of a processor's mapping;
// MatchProperties::Decode reads one of them. Compiling (Matcher::Compile, or
// PropertiesMatcher::Compile for one side) checks them as upstream does for the signal
// (ValidateForSpans / ValidateForLogs) and compiles the regular expressions (RE2); a
// compiled matcher is immutable, thread-safe, and matches without allocating (except a
// regexp match on a non-string attribute, which formats the value as upstream does).
//
// Semantics, as upstream:
//  - A list (services, span_names, span_kinds, log_bodies, log_severity_texts,
//    metric_names) matches if any item matches: strict is equality, regexp is an
//    unanchored RE2 search (Go's MatchString).
//  - attributes / resources: every listed key must be present; with a value, strict
//    compares typed values (a string "1" is not the int 1), regexp (string values only)
//    searches the attribute formatted as a string. No value: presence only.
//  - libraries: every entry must match the scope's name (and version, if given).
//  - services: the resource's service.name ("<nil-service-name>" when absent).
//  - log_bodies: only a string body is tested (another body passes).
//  - log_severity_number: the record's number >= min; an unspecified number (0) matches
//    only with match_undefined.
//  - Properties given together must all match. Matcher::Skip* is
//    `(include given && !include.Match) || (exclude given && exclude.Match)`.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "collector/config/node.h"
#include "collector/pdata/pdata.h"
#include "opentelemetry/proto/common/v1/common.pb.h"
#include "opentelemetry/proto/logs/v1/logs.pb.h"
#include "opentelemetry/proto/metrics/v1/metrics.pb.h"
#include "opentelemetry/proto/resource/v1/resource.pb.h"
#include "opentelemetry/proto/trace/v1/trace.pb.h"

namespace re2 {
class RE2;
}

namespace outrigger::filterset {

using AnyValue = opentelemetry::proto::common::v1::AnyValue;
using KeyValue = opentelemetry::proto::common::v1::KeyValue;
using Attributes = google::protobuf::RepeatedPtrField<KeyValue>;
using Resource = opentelemetry::proto::resource::v1::Resource;
using Scope = opentelemetry::proto::common::v1::InstrumentationScope;
using Span = opentelemetry::proto::trace::v1::Span;
using LogRecord = opentelemetry::proto::logs::v1::LogRecord;
using Metric = opentelemetry::proto::metrics::v1::Metric;

enum class MatchType { kStrict, kRegexp };

// ---- configuration (upstream's names) ----

struct Attribute {
  std::string key;
  std::optional<AnyValue> value;  // absent or null: the key's presence is enough
};

struct Library {
  std::string name;
  std::optional<std::string> version;  // absent: any version
};

struct SeverityNumber {
  int32_t min = 0;  // 1..24 (TRACE..FATAL4); read as a number or a name ("INFO", "warn2")
  bool match_undefined = false;
};

struct MatchProperties {
  std::string match_type;  // "strict" or "regexp" (required)
  // `regexp: {cacheenabled, cachemaxnumentries}`: accepted; RE2 needs no result cache.
  bool regexp_cache_enabled = false;
  int64_t regexp_cache_max_num_entries = 0;
  std::vector<std::string> services;
  std::vector<std::string> span_names;
  std::vector<std::string> span_kinds;  // "SPAN_KIND_SERVER", ...
  std::vector<std::string> log_bodies;
  std::vector<std::string> log_severity_texts;
  std::optional<SeverityNumber> log_severity_number;
  std::vector<std::string> metric_names;
  std::vector<Attribute> attributes;
  std::vector<Attribute> resources;
  std::vector<Library> libraries;

  // Reads the keys above from `node` (a mapping); errors go to the node's Errors.
  void Decode(config::Node& node);
  // Upstream's checks for the signal (which properties apply, at least one given), and
  // the match type and patterns.
  absl::Status ValidateFor(Signal signal) const;
};

struct MatchConfig {
  std::optional<MatchProperties> include;
  std::optional<MatchProperties> exclude;
  // Reads `include` and `exclude` from `parent` (absent or null: not given).
  void Decode(config::Node& parent);
  bool empty() const { return !include && !exclude; }
};

// Reads a configured value of any YAML type into an AnyValue: plain (unquoted)
// integers, floats and booleans as int/double/bool, other scalars as strings, lists as
// arrays, mappings as key-value lists. False (with an error on `node`) on a bad shape.
bool DecodeValue(config::Node& node, AnyValue* out);

// ---- values, shared by matchers and processors ----

// The attribute `key` of `attrs`, or null (linear, no allocation).
const AnyValue* FindAttribute(const Attributes& attrs, std::string_view key);
AnyValue* FindMutableAttribute(Attributes* attrs, std::string_view key);
// Typed equality (upstream's pcommon.Value.Equal): same type and value; arrays and
// key-value lists element by element.
bool ValueEqual(const AnyValue& a, const AnyValue& b);
// Upstream's Value.AsString(): strings as they are, booleans "true"/"false", integers
// in decimal, doubles in the shortest form (exponent below 1e-6 and from 1e21),
// bytes in base64, arrays and maps as JSON, an empty value "".
std::string AsString(const AnyValue& v);
void AppendAsString(const AnyValue& v, std::string* out);
// The numeric severity for an upstream severity name ("info", "WARN3"), or nullopt.
std::optional<int32_t> SeverityFromName(std::string_view name);
// "SPAN_KIND_SERVER" etc. (upstream's traceutil.SpanKindStr).
std::string_view SpanKindName(int kind);

// ---- compiled ----

// A list of strings matched strict (a set) or regexp (any pattern found).
class StringFilter {
 public:
  static absl::StatusOr<StringFilter> Create(const std::vector<std::string>& items, MatchType type);
  StringFilter(StringFilter&&) noexcept;
  StringFilter& operator=(StringFilter&&) noexcept;
  ~StringFilter();
  bool Matches(std::string_view s) const;

 private:
  StringFilter() = default;
  MatchType type_ = MatchType::kStrict;
  absl::flat_hash_set<std::string> strict_;
  std::vector<std::unique_ptr<re2::RE2>> patterns_;
};

// One side (include or exclude), compiled for a signal.
class PropertiesMatcher {
 public:
  static absl::StatusOr<PropertiesMatcher> Compile(const MatchProperties& mp, Signal signal);
  PropertiesMatcher(PropertiesMatcher&&) noexcept;
  PropertiesMatcher& operator=(PropertiesMatcher&&) noexcept;
  ~PropertiesMatcher();

  bool MatchSpan(const Resource& resource, const Scope& scope, const Span& span) const;
  bool MatchLog(const Resource& resource, const Scope& scope, const LogRecord& log) const;
  // A metric as a whole (upstream's filtermetric): metric_names and resources.
  bool MatchMetric(const Resource& resource, const Metric& metric) const;
  // One data point of `metric` (upstream's datapoint skip expression): metric_names,
  // resources, and attributes against the point's attributes.
  bool MatchDataPoint(const Resource& resource, const Metric& metric, const Attributes& point_attributes) const;

 private:
  struct AttrMatcher {
    std::string key;
    std::optional<AnyValue> value;         // strict
    std::unique_ptr<StringFilter> regexp;  // regexp
  };
  struct LibMatcher {
    std::unique_ptr<StringFilter> name;
    std::unique_ptr<StringFilter> version;  // null: any
  };
  PropertiesMatcher() = default;
  static bool MatchAttrs(const std::vector<AttrMatcher>& m, const Attributes& attrs);
  bool MatchCommon(const Resource& resource, const Scope& scope, const Attributes& attrs) const;

  std::unique_ptr<StringFilter> services_, span_names_, span_kinds_, log_bodies_, severity_texts_, metric_names_;
  std::optional<SeverityNumber> severity_number_;
  std::vector<AttrMatcher> attributes_, resources_;
  std::vector<LibMatcher> libraries_;
};

// include/exclude, compiled for a signal. Skip* is true for a record the processor must
// leave alone. An empty MatchConfig skips nothing.
class Matcher {
 public:
  static absl::StatusOr<Matcher> Compile(const MatchConfig& mc, Signal signal);
  Matcher() = default;
  Matcher(Matcher&&) noexcept = default;
  Matcher& operator=(Matcher&&) noexcept = default;

  bool empty() const { return !include_ && !exclude_; }
  bool SkipSpan(const Resource& resource, const Scope& scope, const Span& span) const;
  bool SkipLog(const Resource& resource, const Scope& scope, const LogRecord& log) const;
  bool SkipMetric(const Resource& resource, const Metric& metric) const;
  bool SkipDataPoint(const Resource& resource, const Metric& metric, const Attributes& point_attributes) const;

 private:
  std::unique_ptr<PropertiesMatcher> include_, exclude_;
};

}  // namespace outrigger::filterset
