#pragma once
// OTTL contexts: which record a statement runs on, the pointers to it and its parents
// (EvalContext), and the paths each context offers (Accessor), after upstream's
// pkg/ottl/contexts. A path resolves once, at compile time, to an Accessor that reads
// and writes the protobuf message directly.

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "collector/ottl/value.h"

namespace opentelemetry::proto {
namespace resource::v1 {
class Resource;
}
namespace common::v1 {
class InstrumentationScope;
}
namespace trace::v1 {
class Span;
class Span_Event;
}  // namespace trace::v1
namespace metrics::v1 {
class Metric;
class NumberDataPoint;
class HistogramDataPoint;
class ExponentialHistogramDataPoint;
class SummaryDataPoint;
}  // namespace metrics::v1
namespace logs::v1 {
class LogRecord;
}
}  // namespace opentelemetry::proto

namespace outrigger::ottl {

enum class ContextKind : uint8_t { kResource, kScope, kSpan, kSpanEvent, kMetric, kDataPoint, kLog };
std::string_view ContextName(ContextKind k);  // "resource", "scope", "span", "spanevent", ...
// Also accepts "instrumentation_scope" for scope.
std::optional<ContextKind> ParseContextName(std::string_view name);

// The record a statement runs on and its parents. Pointers of contexts above the
// statement's are set too (a span statement sees its resource and scope). `cache` is a
// scratch map for the statements of one record; the caller clears it between records.
struct EvalContext {
  opentelemetry::proto::resource::v1::Resource* resource = nullptr;
  std::string* resource_schema_url = nullptr;
  opentelemetry::proto::common::v1::InstrumentationScope* scope = nullptr;
  std::string* scope_schema_url = nullptr;
  opentelemetry::proto::trace::v1::Span* span = nullptr;
  opentelemetry::proto::trace::v1::Span_Event* event = nullptr;
  opentelemetry::proto::metrics::v1::Metric* metric = nullptr;
  opentelemetry::proto::metrics::v1::NumberDataPoint* number = nullptr;
  opentelemetry::proto::metrics::v1::HistogramDataPoint* histogram = nullptr;
  opentelemetry::proto::metrics::v1::ExponentialHistogramDataPoint* exp_histogram = nullptr;
  opentelemetry::proto::metrics::v1::SummaryDataPoint* summary = nullptr;
  opentelemetry::proto::logs::v1::LogRecord* log = nullptr;
  KeyValues cache;
  // Data points: exactly one of the four pointers is set.
  void ClearDataPoint() { number = nullptr, histogram = nullptr, exp_histogram = nullptr, summary = nullptr; }
};

// An expression compiled for evaluation.
class Expr {
 public:
  explicit Expr(int column) : column_(column) {}
  virtual ~Expr() = default;
  virtual absl::Status Eval(EvalContext& c, Value* out) const = 0;
  int column() const { return column_; }

 private:
  int column_;
};
using ExprPtr = std::unique_ptr<Expr>;

// One step of `[...]` after a path.
struct KeyStep {
  bool is_int = false;
  std::string s;
  int64_t i = 0;
  ExprPtr expr;  // computed key
};

class Accessor {
 public:
  virtual ~Accessor() = default;
  virtual absl::Status Get(EvalContext& c, Value* out) const = 0;
  // Writes `v`. A value of a type the field cannot hold is ignored, as upstream does.
  virtual absl::Status Set(EvalContext& c, const Value& v) const;
  // The map this path names, for editors that change a map in place (null if the path
  // holds no map).
  virtual KeyValues* MutableMap(EvalContext& c) const { return nullptr; }
  const std::string& name() const { return name_; }

 protected:
  std::string name_;
};
using AccessorPtr = std::shared_ptr<Accessor>;

// Resolves `segments` (a.b.c) and `keys` for a statement of context `ctx`. Both the bare
// form (`attributes["k"]`) and the prefixed one (`span.attributes["k"]`) work; parents
// are reached as `resource.…`, `instrumentation_scope.…` (or `scope.…`), `span.…` (span
// events) and `metric.…` (data points).
absl::StatusOr<AccessorPtr> ResolvePath(ContextKind ctx, const std::vector<std::string>& segments,
                                        std::vector<KeyStep> keys);

// Enum literals (SPAN_KIND_SERVER, STATUS_CODE_ERROR, SEVERITY_NUMBER_INFO,
// METRIC_DATA_TYPE_SUM, AGGREGATION_TEMPORALITY_DELTA, ...).
std::optional<int64_t> LookupEnum(std::string_view name);

// The paths of a context, for documentation and error messages.
std::vector<std::string> PathNames(ContextKind ctx);

// Walks `keys` from a value: maps take string keys, slices int keys. Null if absent.
absl::StatusOr<const AnyValue*> Index(EvalContext& c, const AnyValue* v, const std::vector<KeyStep>& keys, size_t from);

}  // namespace outrigger::ottl
