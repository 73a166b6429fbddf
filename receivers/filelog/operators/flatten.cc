#include "receivers/filelog/operators/flatten.h"

#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "collector/common/strings.h"
#include "receivers/filelog/operators/field.h"

namespace outrigger::receivers::filelog::operators {

namespace {

using pdata::Value;

class FlattenOp : public Operator {
 public:
  FlattenOp(std::string id, OnError on_error, Stats* stats, Field field)
      : Operator("flatten", std::move(id), on_error, stats), field_(std::move(field)) {
    parent_ = field_;
    parent_.path.pop_back();
  }
  Result Process(Entry& e) override {
    const Value* v = Get(e, field_);
    if (v == nullptr) return Fail(FieldNotFound(field_));
    if (v->map() == nullptr) return Fail(absl::InvalidArgumentError(StrCat("field ", field_.text, " is not a map")));
    std::optional<Value> inner = Take(e, field_);
    for (auto& [k, val] : *inner->map()) {
      Field child = parent_;
      child.path.push_back(k);
      if (absl::Status st = Set(e, child, std::move(val)); !st.ok()) return Fail(st);
    }
    return Result::kNext;
  }

 private:
  Field field_, parent_;
};

}  // namespace

OperatorFactory DecodeFlatten(config::Node& item, const CommonOptions& common) {
  Field field;
  if (ReadField(item, "field", &field, true) && field.IsRoot()) {
    item.ErrorAt("field", "name a nested map such as body.key");
  }
  return [id = common.id, on_error = common.on_error, field](Stats* st) {
    return std::make_unique<FlattenOp>(id, on_error, st, field);
  };
}

}  // namespace outrigger::receivers::filelog::operators
