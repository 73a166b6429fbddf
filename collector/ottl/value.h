#pragma once
// OTTL values: a small variant over what statements read and write. Strings, bytes, maps
// and slices read from a record are views into its protobuf messages (no copy); values a
// converter makes keep their storage alive through `hold`. A view is valid until the
// record it came from is changed, which an editor does only after its arguments are
// evaluated.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "google/protobuf/repeated_ptr_field.h"

namespace opentelemetry::proto::common::v1 {
class AnyValue;
class KeyValue;
}  // namespace opentelemetry::proto::common::v1

namespace outrigger::ottl {

using AnyValue = opentelemetry::proto::common::v1::AnyValue;
using KeyValue = opentelemetry::proto::common::v1::KeyValue;
using KeyValues = google::protobuf::RepeatedPtrField<KeyValue>;
using AnyValues = google::protobuf::RepeatedPtrField<AnyValue>;

enum class Type : uint8_t { kNil, kBool, kInt, kDouble, kString, kBytes, kMap, kSlice, kTime };
std::string_view TypeName(Type t);

struct Value {
  Type type = Type::kNil;
  union {
    bool b;
    int64_t i;  // kInt; kTime: Unix nanoseconds
    double d;
    const KeyValues* map;
    const AnyValues* slice;
  };
  std::string_view s;                // kString, kBytes
  std::shared_ptr<const void> hold;  // storage owned by this value (converter results)

  Value() : i(0) {}
  static Value Nil() { return Value(); }
  static Value Bool(bool v) {
    Value r;
    r.type = Type::kBool;
    r.b = v;
    return r;
  }
  static Value Int(int64_t v) {
    Value r;
    r.type = Type::kInt;
    r.i = v;
    return r;
  }
  static Value Double(double v) {
    Value r;
    r.type = Type::kDouble;
    r.d = v;
    return r;
  }
  static Value Time(int64_t unix_nanos) {
    Value r;
    r.type = Type::kTime;
    r.i = unix_nanos;
    return r;
  }
  // A view: `v` must outlive the value.
  static Value StringView(std::string_view v) {
    Value r;
    r.type = Type::kString;
    r.s = v;
    return r;
  }
  static Value BytesView(std::string_view v) {
    Value r;
    r.type = Type::kBytes;
    r.s = v;
    return r;
  }
  static Value MapView(const KeyValues* m) {
    Value r;
    r.type = Type::kMap;
    r.map = m;
    return r;
  }
  static Value SliceView(const AnyValues* l) {
    Value r;
    r.type = Type::kSlice;
    r.slice = l;
    return r;
  }
  // Owning forms (allocate).
  static Value String(std::string v);
  static Value Bytes(std::string v);
  // Takes an AnyValue (kvlist or array) and owns it.
  static Value Owned(std::shared_ptr<AnyValue> v);
  // A view on an AnyValue's content (an empty AnyValue is nil).
  static Value FromAny(const AnyValue& v);

  bool IsNil() const { return type == Type::kNil; }
  bool IsNumber() const { return type == Type::kInt || type == Type::kDouble; }
};

// Copies `v` into `out` (a time becomes its Unix nanoseconds; nil clears `out`).
void ToAny(const Value& v, AnyValue* out);

// OTTL's comparison rules: numbers of different types compare as doubles, bools with
// false < true, strings and bytes bytewise, maps and slices only for == and !=; values of
// different types are "not equal" (only != is true).
enum class CompareOp : uint8_t { kEq, kNe, kLt, kLe, kGt, kGe };
std::string_view CompareOpName(CompareOp op);
bool Compare(const Value& a, const Value& b, CompareOp op);
bool Equal(const Value& a, const Value& b);
bool AnyEqual(const AnyValue& a, const AnyValue& b);

// The string form (String(), Concat, Format's %v): strings as they are, bytes as hex,
// numbers in Go's shortest form, maps and slices as JSON, nil as "".
std::string ToString(const Value& v);
void AppendString(const Value& v, std::string* out);
// JSON of an AnyValue / Value (maps, slices).
void AppendJson(const AnyValue& v, std::string* out);
void AppendJson(const Value& v, std::string* out);
std::string FormatDouble(double d);

// Looks a key up in a map (the last one wins, as pdata's Get finds the first: OTLP
// attributes have unique keys). Null if absent.
const AnyValue* Find(const KeyValues& m, std::string_view key);
AnyValue* FindMutable(KeyValues* m, std::string_view key);
// The value under `key`, added if absent.
AnyValue* Upsert(KeyValues* m, std::string_view key);

}  // namespace outrigger::ottl
