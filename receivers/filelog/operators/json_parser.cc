#include "receivers/filelog/operators/json_parser.h"

#include <memory>
#include <string>
#include <utility>

#include "receivers/filelog/operators/json.h"
#include "receivers/filelog/operators/parser.h"

namespace outrigger::receivers::filelog::operators {

namespace {

class JsonParser : public ParserOp {
 public:
  JsonParser(std::string id, OnError on_error, Stats* stats, ParserSpec spec, bool parse_ints)
      : ParserOp("json_parser", std::move(id), on_error, stats, std::move(spec)), parse_ints_(parse_ints) {}

 protected:
  absl::StatusOr<pdata::Value> Parse(const pdata::Value& v) override {
    const std::string* s = v.str();
    if (s == nullptr) return absl::InvalidArgumentError("value to parse as JSON is not a string");
    auto m = ParseJsonObject(*s, parse_ints_);
    if (!m.ok()) return m.status();
    return pdata::Value(std::move(*m));
  }

 private:
  bool parse_ints_;
};

}  // namespace

OperatorFactory DecodeJsonParser(config::Node& item, const CommonOptions& common) {
  ParserSpec spec = ReadParserSpec(item);
  bool parse_ints = true;
  item.Read("parse_ints", &parse_ints);
  item.Accept("scope_name");
  return [id = common.id, on_error = common.on_error, spec, parse_ints](Stats* st) {
    return std::make_unique<JsonParser>(id, on_error, st, spec, parse_ints);
  };
}

}  // namespace outrigger::receivers::filelog::operators
