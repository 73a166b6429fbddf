#include "receivers/filelog/operators/retain.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "collector/common/strings.h"
#include "receivers/filelog/operators/field.h"

namespace outrigger::receivers::filelog::operators {

namespace {

class RetainOp : public Operator {
 public:
  RetainOp(std::string id, OnError on_error, Stats* stats, std::vector<Field> fields)
      : Operator("retain", std::move(id), on_error, stats), fields_(std::move(fields)) {
    for (const auto& f : fields_) {
      body_ |= f.root == Field::Root::kBody;
      attributes_ |= f.root == Field::Root::kAttributes;
      resource_ |= f.root == Field::Root::kResource;
    }
  }
  Result Process(Entry& e) override {
    Entry keep;
    for (const auto& f : fields_) {
      if (auto v = Take(e, f)) Set(keep, f, std::move(*v)).IgnoreError();
    }
    if (body_) e.record.body = std::move(keep.record.body);
    if (attributes_) e.record.attributes = std::move(keep.record.attributes);
    if (resource_) e.resource = std::move(keep.resource);
    return Result::kNext;
  }

 private:
  std::vector<Field> fields_;
  bool body_ = false, attributes_ = false, resource_ = false;
};

}  // namespace

OperatorFactory DecodeRetain(config::Node& item, const CommonOptions& common) {
  std::vector<std::string> names;
  item.Read("fields", &names);
  std::vector<Field> fields;
  for (const auto& name : names) {
    auto f = ParseField(name);
    if (!f.ok()) {
      item.ErrorAt("fields", f.status().message());
    } else if (f->IsRoot()) {
      item.ErrorAt("fields", StrCat("retain a key of ", name, ", not the whole ", name));
    } else {
      fields.push_back(std::move(*f));
    }
  }
  if (names.empty()) item.ErrorAt("fields", "is required (a list of fields to keep)");
  return [id = common.id, on_error = common.on_error, fields](Stats* st) {
    return std::make_unique<RetainOp>(id, on_error, st, fields);
  };
}

}  // namespace outrigger::receivers::filelog::operators
