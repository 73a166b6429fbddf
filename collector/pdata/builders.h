#pragma once
// Builders of pdata without protobuf, for receivers that make their own records
// (StatsD, Prometheus scrapes, log files): one resource and one scope per build.

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "collector/pdata/pdata.h"

namespace outrigger::pdata {

using Attributes = std::vector<std::pair<std::string, std::string>>;
// An attribute as views (into whatever holds it), for the builders' no-copy overloads.
using AttributeView = std::pair<std::string_view, std::string_view>;

enum class Temporality { kDelta = 1, kCumulative = 2 };

struct HistogramPoint {
  uint64_t count = 0;
  double sum = 0, min = 0, max = 0;
  std::vector<double> bounds;           // explicit buckets: upper bounds
  std::vector<uint64_t> bucket_counts;  // bounds.size() + 1
  bool has_min_max = true;              // false: min and max are left unset (e.g. scraped)
};

struct ExponentialHistogramPoint {
  uint64_t count = 0, zero_count = 0;
  double sum = 0, min = 0, max = 0;
  int32_t scale = 0;
  int32_t positive_offset = 0, negative_offset = 0;
  std::vector<uint64_t> positive, negative;
};

struct SummaryPoint {
  uint64_t count = 0;
  double sum = 0;
  std::vector<std::pair<double, double>> quantiles;  // (quantile in [0,1], value)
};

// An exemplar of a sum or histogram point (e.g. from an OpenMetrics exposition).
struct Exemplar {
  double value = 0;
  uint64_t time_ns = 0;
  std::string trace_id, span_id;  // raw bytes (16 and 8) or empty
  Attributes attrs;               // its other labels: OTLP's filtered_attributes
};

class MetricsBuilder {
 public:
  MetricsBuilder(const Attributes& resource, const std::string& scope_name, const std::string& scope_version);
  ~MetricsBuilder();

  // `no_recorded_value` sets the point's NO_RECORDED_VALUE flag (a staleness marker: the
  // series ended; the value is ignored by consumers).
  void Gauge(const std::string& name, const std::string& unit, const Attributes& attrs, double value, uint64_t time_ns,
             bool no_recorded_value = false);
  void Sum(const std::string& name, const std::string& unit, const Attributes& attrs, double value, uint64_t start_ns,
           uint64_t time_ns, bool monotonic, Temporality t, bool no_recorded_value = false,
           std::span<const Exemplar> exemplars = {});
  void Histogram(const std::string& name, const std::string& unit, const Attributes& attrs, const HistogramPoint& p,
                 uint64_t start_ns, uint64_t time_ns, Temporality t, bool no_recorded_value = false,
                 std::span<const Exemplar> exemplars = {});
  void ExponentialHistogram(const std::string& name, const std::string& unit, const Attributes& attrs,
                            const ExponentialHistogramPoint& p, uint64_t start_ns, uint64_t time_ns, Temporality t);
  void Summary(const std::string& name, const std::string& unit, const Attributes& attrs, const SummaryPoint& p,
               uint64_t start_ns, uint64_t time_ns, bool no_recorded_value = false);

  // The same with attributes as views (e.g. into a parsed exposition): no copies but
  // the ones into the message.
  void Gauge(std::string_view name, std::string_view unit, std::span<const AttributeView> attrs, double value,
             uint64_t time_ns, bool no_recorded_value = false);
  void Sum(std::string_view name, std::string_view unit, std::span<const AttributeView> attrs, double value,
           uint64_t start_ns, uint64_t time_ns, bool monotonic, Temporality t, bool no_recorded_value = false,
           std::span<const Exemplar> exemplars = {});
  void Histogram(std::string_view name, std::string_view unit, std::span<const AttributeView> attrs,
                 const HistogramPoint& p, uint64_t start_ns, uint64_t time_ns, Temporality t,
                 bool no_recorded_value = false, std::span<const Exemplar> exemplars = {});
  void Summary(std::string_view name, std::string_view unit, std::span<const AttributeView> attrs,
               const SummaryPoint& p, uint64_t start_ns, uint64_t time_ns, bool no_recorded_value = false);

  size_t points() const { return points_; }
  // The metrics built so far; the builder is empty afterwards.
  Metrics Build();

 private:
  template <typename A>
  void GaugeImpl(std::string_view name, std::string_view unit, const A& attrs, double value, uint64_t time_ns,
                 bool no_recorded_value);
  template <typename A>
  void SumImpl(std::string_view name, std::string_view unit, const A& attrs, double value, uint64_t start_ns,
               uint64_t time_ns, bool monotonic, Temporality t, bool no_recorded_value,
               std::span<const Exemplar> exemplars);
  template <typename A>
  void HistogramImpl(std::string_view name, std::string_view unit, const A& attrs, const HistogramPoint& p,
                     uint64_t start_ns, uint64_t time_ns, Temporality t, bool no_recorded_value,
                     std::span<const Exemplar> exemplars);
  template <typename A>
  void SummaryImpl(std::string_view name, std::string_view unit, const A& attrs, const SummaryPoint& p,
                   uint64_t start_ns, uint64_t time_ns, bool no_recorded_value);

  struct Impl;
  std::unique_ptr<Impl> impl_;
  size_t points_ = 0;
};

// An OTLP AnyValue without protobuf: what log parsers produce (a JSON body, typed
// attributes). Maps keep their keys in insertion order; keys are unique by convention.
struct Value;
using ValueList = std::vector<Value>;
using ValueMap = std::vector<std::pair<std::string, Value>>;
struct Bytes {
  std::string data;
  bool operator==(const Bytes&) const = default;
};
struct Value {
  std::variant<std::monostate, std::string, bool, int64_t, double, Bytes, ValueList, ValueMap> v;

  Value() = default;
  Value(std::string s) : v(std::move(s)) {}    // NOLINT(google-explicit-constructor)
  Value(const char* s) : v(std::string(s)) {}  // NOLINT(google-explicit-constructor)
  Value(bool b) : v(b) {}                      // NOLINT(google-explicit-constructor)
  Value(int64_t i) : v(i) {}                   // NOLINT(google-explicit-constructor)
  Value(double d) : v(d) {}                    // NOLINT(google-explicit-constructor)
  Value(ValueList l) : v(std::move(l)) {}      // NOLINT(google-explicit-constructor)
  Value(ValueMap m) : v(std::move(m)) {}       // NOLINT(google-explicit-constructor)
  Value(Bytes b) : v(std::move(b)) {}          // NOLINT(google-explicit-constructor)

  bool empty() const { return std::holds_alternative<std::monostate>(v); }
  const std::string* str() const { return std::get_if<std::string>(&v); }
  const ValueMap* map() const { return std::get_if<ValueMap>(&v); }
  ValueMap* map() { return std::get_if<ValueMap>(&v); }
  bool operator==(const Value&) const;
};
// The entry of `m` under `key`, or nullptr.
const Value* Find(const ValueMap& m, std::string_view key);
Value* Find(ValueMap& m, std::string_view key);
// Sets m[key] = v (replacing an existing entry in place, else appending).
void Set(ValueMap& m, std::string key, Value v);
// Removes m[key]; returns the old value (empty Value when there was none).
Value Remove(ValueMap& m, std::string_view key);

// One log record as a log receiver builds it.
struct LogRecord {
  uint64_t time_ns = 0;           // 0: unset (the event's own time is unknown)
  uint64_t observed_time_ns = 0;  // when the collector read it
  int severity_number = 0;        // OTLP SeverityNumber, 0 = unspecified
  std::string severity_text;
  Value body;
  ValueMap attributes;
  std::string trace_id, span_id;  // raw bytes (16 and 8) or empty
  uint32_t flags = 0;
};

// Log records under one resource and scope.
class LogsBuilder {
 public:
  LogsBuilder(const Attributes& resource, const std::string& scope_name);
  LogsBuilder(const ValueMap& resource, const std::string& scope_name);
  ~LogsBuilder();
  void Add(const LogRecord& r);
  // The same, moving the record's strings (body, attribute values, ...) into the message
  // instead of copying them; `r` is left valid but unspecified.
  void Add(LogRecord&& r);
  // A record with a string body (a bytes body if `bytes`) that the caller fills through
  // the returned pointer, straight into the message: a receiver copies a line once, from
  // its read buffer into the record. Sets the observed time and copies `attrs`; the
  // other fields are unset. The pointer is valid until the next Add/AddLine or Build.
  std::string* AddLine(uint64_t observed_time_ns, const ValueMap& attrs, bool bytes = false);
  // severity_number: OTLP SeverityNumber (9 INFO, 13 WARN, 17 ERROR, ...).
  void Add(const std::string& body, int severity_number, const std::string& severity_text, const Attributes& attrs,
           uint64_t time_ns);
  size_t records() const { return records_; }
  Logs Build();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  size_t records_ = 0;
};

}  // namespace outrigger::pdata
