#include "receivers/filelog/operators/json_parser.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "receivers/filelog/operators/json.h"
#include "receivers/filelog/operators/parser.h"

namespace outrigger::receivers::filelog::operators {

namespace {

class JsonParser : public ParserOp {
 public:
  JsonParser(std::string id, OnError on_error, Stats* stats, ParserSpec spec, bool parse_ints)
      : ParserOp("json_parser", std::move(id), on_error, stats, std::move(spec)), parse_ints_(parse_ints) {
    // The direct path: from the body to the body, and the blocks read fields of the
    // parsed body (what they read otherwise is not the line's).
    const ParserSpec& s = this->spec();
    direct_ = s.parse_from.IsBody() && s.parse_from.IsRoot() && s.parse_to.IsBody() && s.parse_to.IsRoot() && !s.body &&
              (!s.timestamp || (s.timestamp->parse_from.IsBody() && !s.timestamp->parse_from.IsRoot())) &&
              (!s.severity || (s.severity->parse_from.IsBody() && !s.severity->parse_from.IsRoot()));
    if (s.timestamp) paths_.push_back(&s.timestamp->parse_from.path);
    if (s.severity) paths_.push_back(&s.severity->parse_from.path);
  }

  bool direct() const override { return direct_; }

  // What Process() makes of a string body, encoded; false for anything Process() would
  // fail on (it then runs and reports it).
  bool EncodeDirect(std::string_view line, size_t readable, DirectRecord* out) override {
    if (!direct_) return false;
    out->body.clear();
    JsonField fields[2];
    if (!EncodeJsonObject(line, readable, parse_ints_, &out->body, paths_.data(), fields, paths_.size())) return false;
    const ParserSpec& s = spec();
    out->time_ns = 0;
    out->severity_number = 0;
    out->severity_text.clear();
    size_t i = 0;
    if (s.timestamp) {
      const JsonField& f = fields[i++];
      if (!f.found) return false;
      const TimeLayout& l = s.timestamp->layout;
      const uint64_t now = l.needs_now() ? WallNowNs() : 0;
      absl::StatusOr<uint64_t> t = f.is_string ? l.ParseString(f.str, now) : l.Parse(f.value, now);
      if (!t.ok()) return false;
      out->time_ns = *t;
    }
    if (s.severity) {
      const JsonField& f = fields[i++];
      if (!f.found) return false;
      if (f.is_string) {
        s.severity->mapping.ApplyString(f.str, &out->severity_number, &out->severity_text);
      } else {
        pdata::LogRecord r;
        if (!s.severity->mapping.Apply(f.value, &r)) return false;
        out->severity_number = r.severity_number;
        out->severity_text = std::move(r.severity_text);
      }
    }
    return true;
  }

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
  bool direct_ = false;
  std::vector<const std::vector<std::string>*> paths_;  // of the timestamp, then the severity
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
