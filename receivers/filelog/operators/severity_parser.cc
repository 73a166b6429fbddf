#include "receivers/filelog/operators/severity_parser.h"

#include <memory>
#include <string>
#include <utility>

#include "collector/common/strings.h"

namespace outrigger::receivers::filelog::operators {

namespace {

class SeverityParser : public Operator {
 public:
  SeverityParser(std::string id, OnError on_error, Stats* stats, SeverityBlock block)
      : Operator("severity_parser", std::move(id), on_error, stats), block_(std::move(block)) {}
  Result Process(Entry& e) override {
    if (absl::Status st = ApplySeverity(block_, e); !st.ok()) return Fail(st);
    return Result::kNext;
  }

 private:
  SeverityBlock block_;
};

}  // namespace

absl::Status ApplySeverity(const SeverityBlock& b, Entry& e) {
  const pdata::Value* v = Get(e, b.parse_from);
  if (v == nullptr) return FieldNotFound(b.parse_from);
  if (!b.mapping.Apply(*v, &e.record)) {
    return absl::InvalidArgumentError(StrCat("severity field ", b.parse_from.text, " is not a string or a number"));
  }
  return absl::OkStatus();
}

std::optional<SeverityBlock> ReadSeverityBlock(config::Node& parent) {
  if (!parent.Has("severity")) {
    parent.Accept("severity");
    return std::nullopt;
  }
  config::Node& n = parent.Child("severity");
  if (n.IsNull()) return std::nullopt;
  SeverityBlock b;
  bool ok = ReadField(n, "parse_from", &b.parse_from, true);
  b.mapping.Decode(n);
  if (!ok) return std::nullopt;
  return b;
}

OperatorFactory DecodeSeverityParser(config::Node& item, const CommonOptions& common) {
  SeverityBlock b;
  b.parse_from = Field::Body();
  ReadField(item, "parse_from", &b.parse_from, false);
  b.mapping.Decode(item);
  return [id = common.id, on_error = common.on_error, b](Stats* st) {
    return std::make_unique<SeverityParser>(id, on_error, st, b);
  };
}

}  // namespace outrigger::receivers::filelog::operators
