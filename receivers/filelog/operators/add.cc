#include "receivers/filelog/operators/add.h"

#include <memory>
#include <string>
#include <utility>

#include "absl/strings/numbers.h"
#include "collector/common/strings.h"
#include "receivers/filelog/operators/field.h"

namespace outrigger::receivers::filelog::operators {

namespace {

using pdata::Value;
using pdata::ValueList;
using pdata::ValueMap;

class AddOp : public Operator {
 public:
  AddOp(std::string id, OnError on_error, Stats* stats, Field field, Value value)
      : Operator("add", std::move(id), on_error, stats), field_(std::move(field)), value_(std::move(value)) {}
  Result Process(Entry& e) override {
    if (absl::Status st = Set(e, field_, value_); !st.ok()) return Fail(st);
    return Result::kNext;
  }

 private:
  Field field_;
  Value value_;
};

// Reads a config value for `add`: plain scalars that look like integers, floats or
// booleans keep that type (as upstream); quoted scalars are strings.
Value ConfigValue(config::Node& n) {
  if (n.IsMap()) {
    ValueMap m;
    for (auto& [k, v] : n.Entries()) m.emplace_back(k, ConfigValue(*v));
    return Value(std::move(m));
  }
  if (n.IsList()) {
    ValueList l;
    for (config::Node* v : n.Items()) l.push_back(ConfigValue(*v));
    return Value(std::move(l));
  }
  std::string s;
  if (!n.IsScalar() || !n.As(&s)) return Value();
  if (n.IsPlainScalar()) {
    int64_t i;
    double d;
    if (absl::SimpleAtoi(s, &i)) return Value(i);
    if (s == "true" || s == "True" || s == "TRUE") return Value(true);
    if (s == "false" || s == "False" || s == "FALSE") return Value(false);
    if (s.find_first_of("0123456789") != std::string::npos && absl::SimpleAtod(s, &d)) return Value(d);
  }
  return Value(s);
}

}  // namespace

OperatorFactory DecodeAdd(config::Node& item, const CommonOptions& common) {
  Field field;
  bool ok = ReadField(item, "field", &field, true);
  config::Node& v = item.Value("value");
  Value value;
  std::string text;
  if (v.IsNull()) {
    item.ErrorAt("value", "is required");
  } else {
    if (v.IsScalar() && v.As(&text) && text.rfind("EXPR(", 0) == 0) {
      item.ErrorAt("value", "EXPR(...) expressions are not supported; use a constant value");
    }
    value = ConfigValue(v);
  }
  if (ok && !field.IsBody() && field.IsRoot() && value.map() == nullptr) {
    item.ErrorAt("value", StrCat("a value added to ", field.text, " must be a map"));
  }
  return [id = common.id, on_error = common.on_error, field, value](Stats* st) {
    return std::make_unique<AddOp>(id, on_error, st, field, value);
  };
}

}  // namespace outrigger::receivers::filelog::operators
