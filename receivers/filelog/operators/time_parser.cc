#include "receivers/filelog/operators/time_parser.h"

#include <map>
#include <memory>
#include <string>
#include <utility>

namespace outrigger::receivers::filelog::operators {

namespace {

class TimeParser : public Operator {
 public:
  TimeParser(std::string id, OnError on_error, Stats* stats, TimestampBlock block)
      : Operator("time_parser", std::move(id), on_error, stats), block_(std::move(block)) {}
  Result Process(Entry& e) override {
    if (absl::Status st = ApplyTimestamp(block_, e); !st.ok()) return Fail(st);
    return Result::kNext;
  }

 private:
  TimestampBlock block_;
};

}  // namespace

absl::Status ApplyTimestamp(const TimestampBlock& b, Entry& e) {
  const pdata::Value* v = Get(e, b.parse_from);
  if (v == nullptr) return FieldNotFound(b.parse_from);
  auto t = b.layout.Parse(*v, b.layout.needs_now() ? WallNowNs() : 0);
  if (!t.ok()) return t.status();
  e.record.time_ns = *t;
  return absl::OkStatus();
}

std::optional<TimeLayout> ReadTimeLayout(config::Node& n) {
  std::string type = "strptime", layout, location;
  std::map<std::string, std::string> zones;
  n.ReadEnum("layout_type", &type, {"strptime", "gotime", "epoch"});
  n.Read("layout", &layout);
  n.Read("location", &location);
  n.Read("time_zone_locations", &zones);
  if (layout.empty()) {
    n.ErrorAt("layout", "is required");
    return std::nullopt;
  }
  auto checked = TimeLayout::Compile(type, layout, "UTC");
  if (!checked.ok()) {
    n.ErrorAt("layout", checked.status().message());
    return std::nullopt;
  }
  auto l = TimeLayout::Compile(type, layout, location, zones);
  if (!l.ok()) {
    n.ErrorAt(location.empty() ? "time_zone_locations" : "location", l.status().message());
    return std::nullopt;
  }
  return std::move(*l);
}

std::optional<TimestampBlock> ReadTimestampBlock(config::Node& parent) {
  if (!parent.Has("timestamp")) {
    parent.Accept("timestamp");
    return std::nullopt;
  }
  config::Node& n = parent.Child("timestamp");
  if (n.IsNull()) return std::nullopt;
  TimestampBlock b;
  bool ok = ReadField(n, "parse_from", &b.parse_from, true);
  auto l = ReadTimeLayout(n);
  if (!ok || !l) return std::nullopt;
  b.layout = std::move(*l);
  return b;
}

OperatorFactory DecodeTimeParser(config::Node& item, const CommonOptions& common) {
  TimestampBlock b;
  b.parse_from = Field::Body();
  ReadField(item, "parse_from", &b.parse_from, false);
  if (auto l = ReadTimeLayout(item)) b.layout = std::move(*l);
  return [id = common.id, on_error = common.on_error, b](Stats* st) {
    return std::make_unique<TimeParser>(id, on_error, st, b);
  };
}

}  // namespace outrigger::receivers::filelog::operators
