#include "receivers/filelog/operators/move.h"

#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "receivers/filelog/operators/field.h"

namespace outrigger::receivers::filelog::operators {

namespace {

class MoveOp : public Operator {
 public:
  MoveOp(std::string type, std::string id, OnError on_error, Stats* stats, Field from, Field to)
      : Operator(type, std::move(id), on_error, stats),
        copy_(type == "copy"),
        from_(std::move(from)),
        to_(std::move(to)) {}
  Result Process(Entry& e) override {
    std::optional<pdata::Value> v = copy_ ? Copy(e, from_) : Take(e, from_);
    if (!v) return Fail(FieldNotFound(from_));
    if (absl::Status st = Set(e, to_, std::move(*v)); !st.ok()) return Fail(st);
    return Result::kNext;
  }

 private:
  bool copy_;
  Field from_, to_;
};

}  // namespace

OperatorFactory DecodeMove(config::Node& item, const CommonOptions& common) {
  Field from, to;
  ReadField(item, "from", &from, true);
  ReadField(item, "to", &to, true);
  return [t = common.type, id = common.id, on_error = common.on_error, from, to](Stats* st) {
    return std::make_unique<MoveOp>(t, id, on_error, st, from, to);
  };
}

}  // namespace outrigger::receivers::filelog::operators
