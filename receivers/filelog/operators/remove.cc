#include "receivers/filelog/operators/remove.h"

#include <memory>
#include <string>
#include <utility>

#include "receivers/filelog/operators/field.h"

namespace outrigger::receivers::filelog::operators {

namespace {

class RemoveOp : public Operator {
 public:
  RemoveOp(std::string id, OnError on_error, Stats* stats, Field field)
      : Operator("remove", std::move(id), on_error, stats), field_(std::move(field)) {}
  Result Process(Entry& e) override {
    if (!Take(e, field_)) return Fail(FieldNotFound(field_));
    return Result::kNext;
  }

 private:
  Field field_;
};

}  // namespace

OperatorFactory DecodeRemove(config::Node& item, const CommonOptions& common) {
  Field field;
  ReadField(item, "field", &field, true);
  return [id = common.id, on_error = common.on_error, field](Stats* st) {
    return std::make_unique<RemoveOp>(id, on_error, st, field);
  };
}

}  // namespace outrigger::receivers::filelog::operators
