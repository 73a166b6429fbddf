#include "receivers/filelog/operators/parser.h"

#include <utility>

namespace outrigger::receivers::filelog::operators {

ParserSpec ReadParserSpec(config::Node& item) {
  ParserSpec spec;
  ReadField(item, "parse_from", &spec.parse_from, false);
  ReadField(item, "parse_to", &spec.parse_to, false);
  Field body;
  if (ReadField(item, "body", &body, false)) spec.body = body;
  spec.timestamp = ReadTimestampBlock(item);
  spec.severity = ReadSeverityBlock(item);
  if (!spec.parse_from.IsBody() && spec.parse_from.IsRoot()) {
    item.ErrorAt("parse_from", "cannot parse from the attributes or resource root; name a key");
  }
  return spec;
}

Operator::Result ParserOp::Process(Entry& e) {
  const pdata::Value* src = Get(e, spec_.parse_from);
  if (src == nullptr) return Fail(FieldNotFound(spec_.parse_from));
  absl::StatusOr<pdata::Value> parsed = Parse(*src);
  if (!parsed.ok()) return Fail(parsed.status());
  if (absl::Status st = Set(e, spec_.parse_to, std::move(*parsed)); !st.ok()) return Fail(st);
  return Post(e);
}

Operator::Result ParserOp::Post(Entry& e) {
  if (spec_.body) {
    if (auto v = Copy(e, *spec_.body)) {
      e.record.body = std::move(*v);
    } else {
      return Fail(FieldNotFound(*spec_.body));
    }
  }
  if (spec_.timestamp) {
    if (absl::Status st = ApplyTimestamp(*spec_.timestamp, e); !st.ok()) return Fail(st);
  }
  if (spec_.severity) {
    if (absl::Status st = ApplySeverity(*spec_.severity, e); !st.ok()) return Fail(st);
  }
  return Result::kNext;
}

}  // namespace outrigger::receivers::filelog::operators
