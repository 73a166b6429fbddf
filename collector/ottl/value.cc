#include "collector/ottl/value.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <vector>

#include "collector/common/json.h"
#include "opentelemetry/proto/common/v1/common.pb.h"

namespace outrigger::ottl {

std::string_view TypeName(Type t) {
  switch (t) {
    case Type::kNil:
      return "nil";
    case Type::kBool:
      return "bool";
    case Type::kInt:
      return "int";
    case Type::kDouble:
      return "double";
    case Type::kString:
      return "string";
    case Type::kBytes:
      return "bytes";
    case Type::kMap:
      return "map";
    case Type::kSlice:
      return "slice";
    case Type::kTime:
      return "time";
  }
  return "?";
}

std::string_view CompareOpName(CompareOp op) {
  switch (op) {
    case CompareOp::kEq:
      return "==";
    case CompareOp::kNe:
      return "!=";
    case CompareOp::kLt:
      return "<";
    case CompareOp::kLe:
      return "<=";
    case CompareOp::kGt:
      return ">";
    case CompareOp::kGe:
      return ">=";
  }
  return "?";
}

Value Value::String(std::string v) {
  auto p = std::make_shared<std::string>(std::move(v));
  Value r = StringView(*p);
  r.hold = std::move(p);
  return r;
}

Value Value::Bytes(std::string v) {
  Value r = String(std::move(v));
  r.type = Type::kBytes;
  return r;
}

Value Value::Owned(std::shared_ptr<AnyValue> v) {
  Value r = FromAny(*v);
  r.hold = std::move(v);
  return r;
}

Value Value::FromAny(const AnyValue& v) {
  switch (v.value_case()) {
    case AnyValue::kStringValue:
      return StringView(v.string_value());
    case AnyValue::kBoolValue:
      return Bool(v.bool_value());
    case AnyValue::kIntValue:
      return Int(v.int_value());
    case AnyValue::kDoubleValue:
      return Double(v.double_value());
    case AnyValue::kBytesValue:
      return BytesView(v.bytes_value());
    case AnyValue::kKvlistValue:
      return MapView(&v.kvlist_value().values());
    case AnyValue::kArrayValue:
      return SliceView(&v.array_value().values());
    default:
      return Nil();
  }
}

void ToAny(const Value& v, AnyValue* out) {
  switch (v.type) {
    case Type::kNil:
      out->Clear();
      return;
    case Type::kBool:
      out->set_bool_value(v.b);
      return;
    case Type::kInt:
    case Type::kTime:
      out->set_int_value(v.i);
      return;
    case Type::kDouble:
      out->set_double_value(v.d);
      return;
    case Type::kString:
      if (out->has_string_value() && out->string_value().data() == v.s.data()) return;
      out->mutable_string_value()->assign(v.s.data(), v.s.size());  // in place: no allocation when it fits
      return;
    case Type::kBytes:
      if (out->has_bytes_value() && out->bytes_value().data() == v.s.data()) return;
      out->mutable_bytes_value()->assign(v.s.data(), v.s.size());
      return;
    case Type::kMap: {
      if (out->has_kvlist_value() && &out->kvlist_value().values() == v.map) return;
      // Copy first: `v` may point into `out`.
      AnyValue tmp;
      *tmp.mutable_kvlist_value()->mutable_values() = *v.map;
      out->Swap(&tmp);
      return;
    }
    case Type::kSlice: {
      if (out->has_array_value() && &out->array_value().values() == v.slice) return;
      AnyValue tmp;
      *tmp.mutable_array_value()->mutable_values() = *v.slice;
      out->Swap(&tmp);
      return;
    }
  }
}

const AnyValue* Find(const KeyValues& m, std::string_view key) {
  for (const KeyValue& kv : m) {
    if (kv.key() == key) return &kv.value();
  }
  return nullptr;
}

AnyValue* FindMutable(KeyValues* m, std::string_view key) {
  for (KeyValue& kv : *m) {
    if (kv.key() == key) return kv.mutable_value();
  }
  return nullptr;
}

AnyValue* Upsert(KeyValues* m, std::string_view key) {
  if (AnyValue* v = FindMutable(m, key)) return v;
  KeyValue* kv = m->Add();
  kv->set_key(std::string(key));
  return kv->mutable_value();
}

namespace {

template <typename T>
bool Ordered(const T& a, const T& b, CompareOp op) {
  switch (op) {
    case CompareOp::kEq:
      return a == b;
    case CompareOp::kNe:
      return a != b;
    case CompareOp::kLt:
      return a < b;
    case CompareOp::kLe:
      return a <= b;
    case CompareOp::kGt:
      return a > b;
    case CompareOp::kGe:
      return a >= b;
  }
  return false;
}

bool MapsEqual(const KeyValues& a, const KeyValues& b) {
  if (a.size() != b.size()) return false;
  for (const KeyValue& kv : a) {
    const AnyValue* o = Find(b, kv.key());
    if (o == nullptr || !AnyEqual(kv.value(), *o)) return false;
  }
  return true;
}

bool SlicesEqual(const AnyValues& a, const AnyValues& b) {
  if (a.size() != b.size()) return false;
  for (int i = 0; i < a.size(); ++i) {
    if (!AnyEqual(a.Get(i), b.Get(i))) return false;
  }
  return true;
}

}  // namespace

bool AnyEqual(const AnyValue& a, const AnyValue& b) { return Equal(Value::FromAny(a), Value::FromAny(b)); }

bool Equal(const Value& a, const Value& b) { return Compare(a, b, CompareOp::kEq); }

bool Compare(const Value& a, const Value& b, CompareOp op) {
  if (a.type != b.type) {
    if (a.IsNumber() && b.IsNumber()) {
      double x = a.type == Type::kInt ? static_cast<double>(a.i) : a.d;
      double y = b.type == Type::kInt ? static_cast<double>(b.i) : b.d;
      return Ordered(x, y, op);
    }
    return op == CompareOp::kNe;
  }
  switch (a.type) {
    case Type::kNil:
      return op == CompareOp::kEq || op == CompareOp::kLe || op == CompareOp::kGe;
    case Type::kBool:
      return Ordered(a.b, b.b, op);
    case Type::kInt:
    case Type::kTime:
      return Ordered(a.i, b.i, op);
    case Type::kDouble:
      return Ordered(a.d, b.d, op);
    case Type::kString:
    case Type::kBytes:
      return Ordered(a.s, b.s, op);
    case Type::kMap:
      if (op == CompareOp::kEq) return a.map == b.map || MapsEqual(*a.map, *b.map);
      if (op == CompareOp::kNe) return !(a.map == b.map || MapsEqual(*a.map, *b.map));
      return false;
    case Type::kSlice:
      if (op == CompareOp::kEq) return a.slice == b.slice || SlicesEqual(*a.slice, *b.slice);
      if (op == CompareOp::kNe) return !(a.slice == b.slice || SlicesEqual(*a.slice, *b.slice));
      return false;
  }
  return false;
}

std::string FormatDouble(double d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "+Inf" : "-Inf";
  char buf[400];
  auto r = std::to_chars(buf, buf + sizeof(buf), d, std::chars_format::fixed);
  return std::string(buf, r.ptr);
}

namespace {
void AppendHex(std::string_view s, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (unsigned char c : s) {
    out->push_back(kHex[c >> 4]);
    out->push_back(kHex[c & 15]);
  }
}

void AppendJsonMap(const KeyValues& m, std::string* out) {
  std::vector<const KeyValue*> sorted;
  sorted.reserve(m.size());
  for (const KeyValue& kv : m) sorted.push_back(&kv);
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const KeyValue* a, const KeyValue* b) { return a->key() < b->key(); });
  out->push_back('{');
  bool first = true;
  for (const KeyValue* kv : sorted) {
    if (!first) out->push_back(',');
    first = false;
    AppendJsonString(out, kv->key());
    out->push_back(':');
    AppendJson(kv->value(), out);
  }
  out->push_back('}');
}

void AppendJsonSlice(const AnyValues& l, std::string* out) {
  out->push_back('[');
  bool first = true;
  for (const AnyValue& v : l) {
    if (!first) out->push_back(',');
    first = false;
    AppendJson(v, out);
  }
  out->push_back(']');
}
}  // namespace

void AppendJson(const AnyValue& v, std::string* out) { AppendJson(Value::FromAny(v), out); }

void AppendJson(const Value& v, std::string* out) {
  switch (v.type) {
    case Type::kNil:
      out->append("null");
      return;
    case Type::kBool:
      out->append(v.b ? "true" : "false");
      return;
    case Type::kInt:
    case Type::kTime:
      out->append(std::to_string(v.i));
      return;
    case Type::kDouble:
      if (std::isfinite(v.d)) {
        char buf[64];
        auto r = std::to_chars(buf, buf + sizeof(buf), v.d);
        out->append(buf, r.ptr);
      } else {
        AppendJsonString(out, FormatDouble(v.d));
      }
      return;
    case Type::kString:
      AppendJsonString(out, v.s);
      return;
    case Type::kBytes: {
      std::string hex;
      AppendHex(v.s, &hex);
      AppendJsonString(out, hex);
      return;
    }
    case Type::kMap:
      AppendJsonMap(*v.map, out);
      return;
    case Type::kSlice:
      AppendJsonSlice(*v.slice, out);
      return;
  }
}

void AppendString(const Value& v, std::string* out) {
  switch (v.type) {
    case Type::kNil:
      return;
    case Type::kBool:
      out->append(v.b ? "true" : "false");
      return;
    case Type::kInt:
    case Type::kTime:
      out->append(std::to_string(v.i));
      return;
    case Type::kDouble:
      out->append(FormatDouble(v.d));
      return;
    case Type::kString:
      out->append(v.s);
      return;
    case Type::kBytes:
      AppendHex(v.s, out);
      return;
    case Type::kMap:
    case Type::kSlice:
      AppendJson(v, out);
      return;
  }
}

std::string ToString(const Value& v) {
  std::string out;
  AppendString(v, &out);
  return out;
}

}  // namespace outrigger::ottl
