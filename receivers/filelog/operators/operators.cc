#include "receivers/filelog/operators/operators.h"

#include <algorithm>
#include <chrono>
#include <functional>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_join.h"
#include "re2/re2.h"
#include "receivers/filelog/operators/field.h"
#include "receivers/filelog/operators/json.h"
#include "receivers/filelog/operators/operator.h"
#include "receivers/filelog/operators/severity.h"
#include "receivers/filelog/operators/time_layout.h"
#include "spdlog/spdlog.h"

namespace outrigger::receivers::filelog::operators {

using pdata::Value;
using pdata::ValueList;
using pdata::ValueMap;

// ---- plumbing ----

uint64_t WallNowNs() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
}

namespace {
uint64_t MonoNowNs() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
          .count());
}
constexpr uint64_t kLogEveryNs = 10'000'000'000ULL;
}  // namespace

Operator::Result Operator::Fail(const absl::Status& st) {
  ++stats_->parse_errors;
  const bool drop = on_error_ == OnError::kDrop || on_error_ == OnError::kDropQuiet;
  if (drop) ++stats_->dropped;
  if (on_error_ == OnError::kSend || on_error_ == OnError::kDrop) {
    uint64_t now = MonoNowNs();
    if (last_log_ns_ == 0 || now - last_log_ns_ >= kLogEveryNs) {
      spdlog::warn("filelog operator {} ({}): {}; entry {}{}", id_, type_, st.message(), drop ? "dropped" : "sent on",
                   suppressed_ > 0 ? StrCat(" (", suppressed_, " more errors since the last message)") : "");
      last_log_ns_ = now;
      suppressed_ = 0;
    } else {
      ++suppressed_;
    }
  }
  return drop ? Result::kDrop : Result::kNext;
}

namespace {

absl::Status NotFound(const Field& f) { return absl::NotFoundError(StrCat("field ", f.text, " not found")); }

// ---- embedded blocks ----

struct TimestampBlock {
  Field parse_from;
  TimeLayout layout;
};

struct SeverityBlock {
  Field parse_from;
  SeverityMapping mapping;
};

absl::Status ApplyTimestamp(const TimestampBlock& b, Entry& e) {
  const Value* v = Get(e, b.parse_from);
  if (v == nullptr) return NotFound(b.parse_from);
  auto t = b.layout.Parse(*v, WallNowNs());
  if (!t.ok()) return t.status();
  e.record.time_ns = *t;
  return absl::OkStatus();
}

absl::Status ApplySeverity(const SeverityBlock& b, Entry& e) {
  const Value* v = Get(e, b.parse_from);
  if (v == nullptr) return NotFound(b.parse_from);
  if (!b.mapping.Apply(*v, &e.record)) {
    return absl::InvalidArgumentError(StrCat("severity field ", b.parse_from.text, " is not a string or a number"));
  }
  return absl::OkStatus();
}

// ---- parsers ----

struct ParserSpec {
  Field parse_from = Field::Body();
  Field parse_to = Field::Attributes();
  std::optional<Field> body;  // moved... copied to body after parsing
  std::optional<TimestampBlock> timestamp;
  std::optional<SeverityBlock> severity;
};

class ParserOp : public Operator {
 public:
  ParserOp(std::string type, std::string id, OnError on_error, Stats* stats, ParserSpec spec)
      : Operator(std::move(type), std::move(id), on_error, stats), spec_(std::move(spec)) {}

  Result Process(Entry& e) override {
    const Value* src = Get(e, spec_.parse_from);
    if (src == nullptr) return Fail(NotFound(spec_.parse_from));
    absl::StatusOr<Value> parsed = Parse(*src);
    if (!parsed.ok()) return Fail(parsed.status());
    if (absl::Status st = Set(e, spec_.parse_to, std::move(*parsed)); !st.ok()) return Fail(st);
    return Post(e);
  }

 protected:
  virtual absl::StatusOr<Value> Parse(const Value& v) = 0;

  Result Post(Entry& e) {
    if (spec_.body) {
      if (auto v = Copy(e, *spec_.body)) {
        e.record.body = std::move(*v);
      } else {
        return Fail(NotFound(*spec_.body));
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

  ParserSpec spec_;
};

class JsonParser : public ParserOp {
 public:
  JsonParser(std::string id, OnError on_error, Stats* stats, ParserSpec spec, bool parse_ints)
      : ParserOp("json_parser", std::move(id), on_error, stats, std::move(spec)), parse_ints_(parse_ints) {}

 protected:
  absl::StatusOr<Value> Parse(const Value& v) override {
    const std::string* s = v.str();
    if (s == nullptr) return absl::InvalidArgumentError("value to parse as JSON is not a string");
    auto m = ParseJsonObject(*s, parse_ints_);
    if (!m.ok()) return m.status();
    return Value(std::move(*m));
  }

 private:
  bool parse_ints_;
};

class RegexParser : public ParserOp {
 public:
  RegexParser(std::string id, OnError on_error, Stats* stats, ParserSpec spec, std::shared_ptr<const re2::RE2> re)
      : ParserOp("regex_parser", std::move(id), on_error, stats, std::move(spec)), re_(std::move(re)) {
    for (const auto& [name, index] : re_->NamedCapturingGroups()) groups_.emplace_back(index, name);
    std::sort(groups_.begin(), groups_.end());
    matches_.resize(re_->NumberOfCapturingGroups() + 1);
  }

 protected:
  absl::StatusOr<Value> Parse(const Value& v) override {
    const std::string* s = v.str();
    if (s == nullptr) return absl::InvalidArgumentError("value to parse with the regex is not a string");
    if (!re_->Match(*s, 0, s->size(), re2::RE2::UNANCHORED, matches_.data(), static_cast<int>(matches_.size()))) {
      return absl::InvalidArgumentError("regex pattern does not match");
    }
    ValueMap m;
    m.reserve(groups_.size());
    for (const auto& [index, name] : groups_) {
      const re2::StringPiece& g = matches_[index];
      m.emplace_back(name, Value(std::string(g.data(), g.size())));
    }
    return Value(std::move(m));
  }

 private:
  std::shared_ptr<const re2::RE2> re_;
  std::vector<std::pair<int, std::string>> groups_;
  std::vector<re2::StringPiece> matches_;
};

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

// ---- container ----

struct ContainerSpec {
  std::string format = "auto";  // auto, docker, crio, containerd
  bool add_metadata_from_filepath = true;
  uint64_t max_log_size = 1 << 20;
  Field parse_from = Field::Body();
  Field parse_to = Field::Attributes();
  std::optional<SeverityBlock> severity;
};

class ContainerParser : public Operator {
 public:
  ContainerParser(std::string id, OnError on_error, Stats* stats, ContainerSpec spec)
      : Operator("container", std::move(id), on_error, stats), spec_(std::move(spec)) {
    logtag_field_ = spec_.parse_to;
    logtag_field_.path.push_back("logtag");
  }

  Result Process(Entry& e) override {
    const Value* src = Get(e, spec_.parse_from);
    if (src == nullptr) return Fail(NotFound(spec_.parse_from));
    const std::string* line = src->str();
    if (line == nullptr) return Fail(absl::InvalidArgumentError("container log line is not a string"));

    std::string_view stream, time, tag;
    bool partial = false;
    const bool docker = spec_.format == "docker" || (spec_.format == "auto" && !line->empty() && (*line)[0] == '{');
    if (docker) {
      if (!ParseDockerLine(*line, &docker_) && !ParseDockerSlow(*line)) {
        return Fail(absl::InvalidArgumentError("not a docker json-file line"));
      }
      stream = docker_.stream;
      time = docker_.time;
      if (!docker_.log.empty() && docker_.log.back() == '\n') {
        docker_.log.pop_back();
      } else {
        partial = true;
      }
      log_.swap(docker_.log);
    } else {
      // <RFC 3339 time> <stdout|stderr> <P|F>[:flags] <log>
      std::string_view s = *line;
      size_t a = s.find(' ');
      size_t b = a == std::string_view::npos ? a : s.find(' ', a + 1);
      if (b == std::string_view::npos) return Fail(absl::InvalidArgumentError("not a CRI log line"));
      time = s.substr(0, a);
      stream = s.substr(a + 1, b - a - 1);
      size_t c = s.find(' ', b + 1);
      tag = s.substr(b + 1, c == std::string_view::npos ? std::string_view::npos : c - b - 1);
      if (tag.empty() || (stream != "stdout" && stream != "stderr")) {
        return Fail(absl::InvalidArgumentError("not a CRI log line"));
      }
      partial = tag[0] == 'P';
      std::string_view log = c == std::string_view::npos ? std::string_view() : s.substr(c + 1);
      log_.assign(log.data(), log.size());
    }
    uint64_t time_ns = 0;
    if (!time.empty()) {
      auto t = TimeLayout::Rfc3339Nano().ParseString(time, 0);
      if (!t.ok()) return Fail(t.status());
      time_ns = *t;
    }
    // The views above point into the body: copy what we keep before replacing it.
    Value stream_v{std::string(stream)};
    std::optional<Value> tag_v;
    if (!docker) tag_v = Value(std::string(tag));

    Held* held = FindHeld(e.file_path, stream_v);
    if (held != nullptr) {
      // A continuation of a held partial line: append its text.
      // The body is the held line's text (parse_to is never under body: checked at decode).
      std::string* body = std::get_if<std::string>(&held->entry.record.body.v);
      if (body != nullptr) body->append(log_);
      held->entry.offset_end = e.offset_end;
      if (tag_v) {
        if (Value* t = GetMutable(held->entry, logtag_field_)) *t = std::move(*tag_v);
      }
      if (partial && body != nullptr && (spec_.max_log_size == 0 || body->size() < spec_.max_log_size)) {
        return Result::kHeld;
      }
      e = std::move(held->entry);
      held_.erase(held_.begin() + (held - held_.data()));
      return Finish(e);
    }

    e.record.body = Value(std::move(log_));
    log_ = std::string();
    e.record.time_ns = time_ns;
    ValueMap attrs;
    attrs.reserve(2);
    if (tag_v) attrs.emplace_back("logtag", std::move(*tag_v));
    attrs.emplace_back("log.iostream", stream_v);
    if (absl::Status st = Set(e, spec_.parse_to, Value(std::move(attrs))); !st.ok()) return Fail(st);
    if (spec_.add_metadata_from_filepath) {
      if (absl::Status st = AddMetadata(e); !st.ok()) {
        if (Fail(st) == Result::kDrop) return Result::kDrop;
      }
    }
    const std::string* body = e.record.body.str();
    if (partial && body != nullptr && (spec_.max_log_size == 0 || body->size() < spec_.max_log_size)) {
      uint64_t since = e.record.observed_time_ns != 0 ? e.record.observed_time_ns : WallNowNs();
      held_.push_back(Held{std::move(*stream_v.str()), std::move(e), since});
      return Result::kHeld;
    }
    return Finish(e);
  }

  void Flush(uint64_t now_ns, uint64_t max_hold_ns, Emitter& em) override {
    for (size_t i = 0; i < held_.size();) {
      if (max_hold_ns == 0 || held_[i].since_ns + max_hold_ns <= now_ns) {
        Entry e = std::move(held_[i].entry);
        held_.erase(held_.begin() + i);
        if (Finish(e) == Result::kNext) em.Emit(std::move(e));
      } else {
        ++i;
      }
    }
  }

  std::optional<uint64_t> PendingStart(const std::string& file_path) const override {
    std::optional<uint64_t> start;
    for (const auto& h : held_) {
      if (h.entry.file_path == file_path && (!start || h.entry.offset_start < *start)) start = h.entry.offset_start;
    }
    return start;
  }

  void Forget(const std::string& file_path, Emitter& em) override {
    for (size_t i = 0; i < held_.size();) {
      if (held_[i].entry.file_path == file_path) {
        Entry e = std::move(held_[i].entry);
        held_.erase(held_.begin() + i);
        if (Finish(e) == Result::kNext) em.Emit(std::move(e));
      } else {
        ++i;
      }
    }
    if (meta_path_ == file_path) meta_path_.clear();
  }

 private:
  struct Held {
    std::string stream;
    Entry entry;
    uint64_t since_ns;
  };

  Held* FindHeld(const std::string& file, const Value& stream) {
    for (auto& h : held_) {
      if (h.stream == *stream.str() && h.entry.file_path == file) return &h;
    }
    return nullptr;
  }

  Result Finish(Entry& e) {
    if (spec_.severity) {
      if (absl::Status st = ApplySeverity(*spec_.severity, e); !st.ok()) return Fail(st);
    }
    return Result::kNext;
  }

  // /var/log/pods/<namespace>_<pod>_<uid>/<container>/<restart>.log
  absl::Status AddMetadata(Entry& e) {
    const std::string* path = &e.file_path;
    if (path->empty()) {
      const Value* p = pdata::Find(e.record.attributes, "log.file.path");
      if (p != nullptr && p->str() != nullptr) path = p->str();
    }
    if (meta_path_.empty() || *path != meta_path_) {
      meta_path_ = *path;
      meta_ = ParsePodPath(*path, &meta_status_);
    }
    if (!meta_status_.ok()) return meta_status_;
    if (e.resource.empty()) {
      e.resource = meta_;
    } else {
      for (const auto& [k, v] : meta_) pdata::Set(e.resource, k, v);
    }
    return absl::OkStatus();
  }

  static ValueMap ParsePodPath(std::string_view path, absl::Status* st) {
    *st = absl::InvalidArgumentError(
        StrCat("file path \"", path, "\" is not /var/log/pods/<namespace>_<pod>_<uid>/<container>/<restart>.log"));
    size_t s3 = path.rfind('/');
    if (s3 == std::string_view::npos || s3 == 0) return {};
    size_t s2 = path.rfind('/', s3 - 1);
    if (s2 == std::string_view::npos || s2 == 0) return {};
    size_t s1 = path.rfind('/', s2 - 1);
    if (s1 == std::string_view::npos) return {};
    std::string_view file = path.substr(s3 + 1);
    std::string_view container = path.substr(s2 + 1, s3 - s2 - 1);
    std::string_view pod_dir = path.substr(s1 + 1, s2 - s1 - 1);
    if (file.size() <= 4 || file.substr(file.size() - 4) != ".log") return {};
    std::string_view restart = file.substr(0, file.size() - 4);
    if (!std::all_of(restart.begin(), restart.end(), [](char c) { return c >= '0' && c <= '9'; })) return {};
    size_t u1 = pod_dir.find('_');
    size_t u2 = pod_dir.rfind('_');
    if (u1 == std::string_view::npos || u2 == u1 || u1 == 0 || u2 + 1 >= pod_dir.size() || container.empty()) {
      return {};
    }
    *st = absl::OkStatus();
    return ValueMap{
        {"k8s.namespace.name", Value(std::string(pod_dir.substr(0, u1)))},
        {"k8s.pod.name", Value(std::string(pod_dir.substr(u1 + 1, u2 - u1 - 1)))},
        {"k8s.pod.uid", Value(std::string(pod_dir.substr(u2 + 1)))},
        {"k8s.container.name", Value(std::string(container))},
        {"k8s.container.restart_count", Value(std::string(restart))},
    };
  }

  bool ParseDockerSlow(const std::string& line) {
    auto m = ParseJsonObject(line, true);
    if (!m.ok()) return false;
    const Value* log = pdata::Find(*m, "log");
    if (log == nullptr || log->str() == nullptr) return false;
    docker_.log = *log->str();
    slow_stream_.clear();
    slow_time_.clear();
    if (const Value* s = pdata::Find(*m, "stream"); s != nullptr && s->str() != nullptr) slow_stream_ = *s->str();
    if (const Value* t = pdata::Find(*m, "time"); t != nullptr && t->str() != nullptr) slow_time_ = *t->str();
    docker_.stream = slow_stream_;
    docker_.time = slow_time_;
    return true;
  }

  ContainerSpec spec_;
  DockerLine docker_;
  std::string log_, slow_stream_, slow_time_;
  std::vector<Held> held_;
  Field logtag_field_;
  std::string meta_path_;
  ValueMap meta_;
  absl::Status meta_status_;
};


// ---- transformers ----

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

class MoveOp : public Operator {
 public:
  MoveOp(std::string type, std::string id, OnError on_error, Stats* stats, Field from, Field to)
      : Operator(type, std::move(id), on_error, stats),
        copy_(type == "copy"),
        from_(std::move(from)),
        to_(std::move(to)) {}
  Result Process(Entry& e) override {
    std::optional<Value> v = copy_ ? Copy(e, from_) : Take(e, from_);
    if (!v) return Fail(NotFound(from_));
    if (absl::Status st = Set(e, to_, std::move(*v)); !st.ok()) return Fail(st);
    return Result::kNext;
  }

 private:
  bool copy_;
  Field from_, to_;
};

class RemoveOp : public Operator {
 public:
  RemoveOp(std::string id, OnError on_error, Stats* stats, Field field)
      : Operator("remove", std::move(id), on_error, stats), field_(std::move(field)) {}
  Result Process(Entry& e) override {
    if (!Take(e, field_)) return Fail(NotFound(field_));
    return Result::kNext;
  }

 private:
  Field field_;
};

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

class FlattenOp : public Operator {
 public:
  FlattenOp(std::string id, OnError on_error, Stats* stats, Field field)
      : Operator("flatten", std::move(id), on_error, stats), field_(std::move(field)) {
    parent_ = field_;
    parent_.path.pop_back();
  }
  Result Process(Entry& e) override {
    const Value* v = Get(e, field_);
    if (v == nullptr) return Fail(NotFound(field_));
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

class NoopOp : public Operator {
 public:
  NoopOp(std::string id, Stats* stats) : Operator("noop", std::move(id), OnError::kSend, stats) {}
  Result Process(Entry&) override { return Result::kNext; }
};

// ---- configuration ----

const std::vector<std::string>& OperatorTypes() {
  static const std::vector<std::string> kTypes = {
      "json_parser", "regex_parser", "container", "time_parser", "severity_parser", "add",
      "move",        "copy",         "remove",    "retain",      "flatten",         "noop"};
  return kTypes;
}

// Types upstream has that this chain does not (a clearer error than "unknown").
const std::vector<std::string>& UnsupportedTypes() {
  static const std::vector<std::string> kTypes = {
      "router",        "filter",        "recombine",    "key_value_parser", "csv_parser", "syslog_parser",
      "trace_parser",  "scope_name_parser", "regex_replace", "unquote",      "assign_keys", "json_array_parser",
      "stdout",        "file_input",    "journald_input", "udp_input",      "tcp_input"};
  return kTypes;
}

bool ReadField(config::Node& n, std::string_view key, Field* out, bool required) {
  if (!n.Has(key)) {
    n.Accept(key);
    if (required) n.ErrorAt(key, "is required");
    return false;
  }
  std::string s;
  size_t before = n.errors()->list().size();
  n.Read(key, &s);
  if (n.errors()->list().size() != before) return false;
  auto f = ParseField(s);
  if (!f.ok()) {
    n.ErrorAt(key, f.status().message());
    return false;
  }
  *out = std::move(*f);
  return true;
}

// The time options of a timestamp block or a time_parser (parse_from read by the caller).
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

struct ChainConfig::Op {
  std::string type, id, output;
  std::function<std::unique_ptr<Operator>(Stats*)> make;
};

void ChainConfig::Decode(config::Node& receiver_node) {
  ops.clear();
  config::Node& list = receiver_node.Value("operators");
  if (list.IsNull()) return;
  if (!list.IsList()) {
    list.Error("expected a list of operators ({type: ..., ...})");
    return;
  }
  const std::vector<config::Node*> items = list.Items();
  for (config::Node* item_ptr : items) {
    config::Node& item = *item_ptr;
    auto op = std::make_shared<Op>();
    if (!item.IsMap()) {
      item.Error("expected a mapping with a type, e.g. {type: json_parser}");
      ops.push_back(std::move(op));
      continue;
    }
    item.Read("type", &op->type);
    const std::string& type = op->type;
    const bool explicit_id = item.Has("id");
    item.Read("id", &op->id);
    if (!explicit_id || op->id.empty()) {
      // Like upstream: default ids are the type, numbered when repeated (add, add1, ...).
      op->id = type;
      for (int n = 1; std::any_of(ops.begin(), ops.end(), [&](const auto& p) { return p->id == op->id; }); ++n) {
        op->id = StrCat(type, n);
      }
    }
    item.Read("output", &op->output);
    if (item.Has("if")) {
      item.Accept("if");
      item.ErrorAt("if", "expressions are not supported; use one receiver per kind of file instead");
    }
    std::string on_error_s = "send";
    item.ReadEnum("on_error", &on_error_s, {"send", "send_quiet", "drop", "drop_quiet"});
    OnError on_error = on_error_s == "send"         ? OnError::kSend
                       : on_error_s == "send_quiet" ? OnError::kSendQuiet
                       : on_error_s == "drop"       ? OnError::kDrop
                                                    : OnError::kDropQuiet;
    const size_t errors_before = receiver_node.errors()->list().size();
    const std::string id = op->id;

    auto read_parser = [&](ParserSpec* spec) {
      ReadField(item, "parse_from", &spec->parse_from, false);
      ReadField(item, "parse_to", &spec->parse_to, false);
      Field body;
      if (ReadField(item, "body", &body, false)) spec->body = body;
      spec->timestamp = ReadTimestampBlock(item);
      spec->severity = ReadSeverityBlock(item);
      if (!spec->parse_from.IsBody() && spec->parse_from.IsRoot()) {
        item.ErrorAt("parse_from", "cannot parse from the attributes or resource root; name a key");
      }
    };

    if (type.empty()) {
      item.Error("type is required (json_parser, regex_parser, container, ...)");
    } else if (type == "json_parser") {
      ParserSpec spec;
      read_parser(&spec);
      bool parse_ints = true;
      item.Read("parse_ints", &parse_ints);
      item.Accept("scope_name");
      op->make = [=](Stats* st) { return std::make_unique<JsonParser>(id, on_error, st, spec, parse_ints); };
    } else if (type == "regex_parser") {
      ParserSpec spec;
      read_parser(&spec);
      std::string regex;
      item.Read("regex", &regex);
      config::Node& cache = item.Child("cache");
      uint64_t cache_size = 0;
      cache.Read("size", &cache_size);  // accepted for compatibility; RE2 needs no cache
      std::shared_ptr<const re2::RE2> re;
      if (regex.empty()) {
        item.ErrorAt("regex", "is required");
      } else {
        re2::RE2::Options opts;
        opts.set_log_errors(false);
        auto compiled = std::make_shared<re2::RE2>(regex, opts);
        if (!compiled->ok()) {
          item.ErrorAt("regex", StrCat("does not compile: ", compiled->error()));
        } else if (compiled->NamedCapturingGroups().empty()) {
          item.ErrorAt("regex", "has no named capture group such as (?P<name>...)");
        } else {
          re = compiled;
        }
      }
      op->make = [=](Stats* st) { return std::make_unique<RegexParser>(id, on_error, st, spec, re); };
    } else if (type == "container") {
      ContainerSpec spec;
      item.ReadEnum("format", &spec.format, {"auto", "docker", "crio", "containerd"});
      item.Read("add_metadata_from_filepath", &spec.add_metadata_from_filepath);
      item.ReadBytes("max_log_size", &spec.max_log_size);
      ReadField(item, "parse_from", &spec.parse_from, false);
      if (ReadField(item, "parse_to", &spec.parse_to, false) && spec.parse_to.IsBody()) {
        // The body becomes the log text; partial lines are joined by appending to it.
        item.ErrorAt("parse_to", StrCat("the container parser keeps the log text in the body; parse_to must be "
                                        "under attributes or resource, not \"",
                                        spec.parse_to.text, "\""));
      }
      spec.severity = ReadSeverityBlock(item);
      if (item.Has("timestamp")) {
        item.Accept("timestamp");
        item.ErrorAt("timestamp", "the container parser takes the time from the line itself");
      }
      op->make = [=](Stats* st) { return std::make_unique<ContainerParser>(id, on_error, st, spec); };
    } else if (type == "time_parser") {
      TimestampBlock b;
      b.parse_from = Field::Body();
      ReadField(item, "parse_from", &b.parse_from, false);
      if (auto l = ReadTimeLayout(item)) b.layout = std::move(*l);
      op->make = [=](Stats* st) { return std::make_unique<TimeParser>(id, on_error, st, b); };
    } else if (type == "severity_parser") {
      SeverityBlock b;
      b.parse_from = Field::Body();
      ReadField(item, "parse_from", &b.parse_from, false);
      b.mapping.Decode(item);
      op->make = [=](Stats* st) { return std::make_unique<SeverityParser>(id, on_error, st, b); };
    } else if (type == "add") {
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
      op->make = [=](Stats* st) { return std::make_unique<AddOp>(id, on_error, st, field, value); };
    } else if (type == "move" || type == "copy") {
      Field from, to;
      ReadField(item, "from", &from, true);
      ReadField(item, "to", &to, true);
      std::string t = type;
      op->make = [=](Stats* st) { return std::make_unique<MoveOp>(t, id, on_error, st, from, to); };
    } else if (type == "remove") {
      Field field;
      ReadField(item, "field", &field, true);
      op->make = [=](Stats* st) { return std::make_unique<RemoveOp>(id, on_error, st, field); };
    } else if (type == "retain") {
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
      op->make = [=](Stats* st) { return std::make_unique<RetainOp>(id, on_error, st, fields); };
    } else if (type == "flatten") {
      Field field;
      if (ReadField(item, "field", &field, true) && field.IsRoot()) {
        item.ErrorAt("field", "name a nested map such as body.key");
      }
      op->make = [=](Stats* st) { return std::make_unique<FlattenOp>(id, on_error, st, field); };
    } else if (type == "noop") {
      op->make = [=](Stats* st) { return std::make_unique<NoopOp>(id, st); };
    } else if (std::find(UnsupportedTypes().begin(), UnsupportedTypes().end(), type) != UnsupportedTypes().end()) {
      item.ErrorAt("type", StrCat("operator \"", type, "\" is not supported by Outrigger (supported: ",
                                  absl::StrJoin(OperatorTypes(), ", "), ")"));
    } else {
      std::string msg = StrCat("unknown operator type \"", type, "\"");
      if (auto s = config::Suggest(type, OperatorTypes())) {
        StrAppend(&msg, "; did you mean '", *s, "'?");
      } else {
        StrAppend(&msg, " (supported: ", absl::StrJoin(OperatorTypes(), ", "), ")");
      }
      item.ErrorAt("type", msg);
    }
    const bool known = std::find(OperatorTypes().begin(), OperatorTypes().end(), type) != OperatorTypes().end();
    if (known) {
      item.Finish();  // unknown options, now: they make this operator's make() null below
    } else {
      item.AcceptAll();  // an unknown type is one error, not one per option
    }
    for (const auto& prev : ops) {
      if (prev->id == op->id) {
        item.ErrorAt("id", StrCat("duplicate operator id \"", op->id, "\"; set a unique id"));
        break;
      }
    }
    if (!known || receiver_node.errors()->list().size() != errors_before) op->make = nullptr;
    ops.push_back(std::move(op));
  }
  // Only linear chains: an `output` must name the next operator.
  for (size_t i = 0; i < ops.size(); ++i) {
    const std::string& out = ops[i]->output;
    if (out.empty()) continue;
    if (i + 1 < ops.size() && ops[i + 1]->id == out) continue;
    items[i]->ErrorAt("output", StrCat("output \"", out,
                                       "\" is not the next operator; only linear chains are supported, so output "
                                       "may be omitted or name the next operator's id"));
  }
}

namespace {

class ChainImpl : public Chain {
 public:
  void Process(Entry&& in, std::vector<Entry>* out) override {
    if (!deferred_.empty()) TakeDeferred(out);
    Run(0, std::move(in), out);
  }

  void Flush(uint64_t now_ns, uint64_t max_hold_ns, std::vector<Entry>* out) override {
    if (!deferred_.empty()) TakeDeferred(out);
    for (size_t i = 0; i < ops_.size(); ++i) {
      ChainEmitter em(this, i + 1, out);
      ops_[i]->Flush(now_ns, max_hold_ns, em);
    }
  }

  std::optional<uint64_t> PendingStart(const std::string& file_path) const override {
    std::optional<uint64_t> start;
    for (const auto& op : ops_) {
      auto s = op->PendingStart(file_path);
      if (s && (!start || *s < *start)) start = s;
    }
    return start;
  }

  void Forget(const std::string& file_path) override {
    for (size_t i = 0; i < ops_.size(); ++i) {
      ChainEmitter em(this, i + 1, &deferred_);
      ops_[i]->Forget(file_path, em);
    }
  }

  const Stats& stats() const override { return stats_; }

  Stats stats_;
  std::vector<std::unique_ptr<Operator>> ops_;

 private:
  class ChainEmitter : public Emitter {
   public:
    ChainEmitter(ChainImpl* chain, size_t next, std::vector<Entry>* out) : chain_(chain), next_(next), out_(out) {}
    void Emit(Entry&& e) override { chain_->Run(next_, std::move(e), out_); }

   private:
    ChainImpl* chain_;
    size_t next_;
    std::vector<Entry>* out_;
  };

  void Run(size_t from, Entry&& e, std::vector<Entry>* out) {
    for (size_t i = from; i < ops_.size(); ++i) {
      if (ops_[i]->Process(e) != Operator::Result::kNext) return;
    }
    out->push_back(std::move(e));
  }

  void TakeDeferred(std::vector<Entry>* out) {
    for (auto& e : deferred_) out->push_back(std::move(e));
    deferred_.clear();
  }

  std::vector<Entry> deferred_;  // released by Forget(), handed out by the next call
};

}  // namespace

absl::StatusOr<std::unique_ptr<Chain>> BuildChain(const ChainConfig& cfg) {
  auto chain = std::make_unique<ChainImpl>();
  for (const auto& op : cfg.ops) {
    if (op == nullptr || !op->make) {
      return absl::InvalidArgumentError(
          StrCat("operator ", op == nullptr ? std::string("?") : op->id, " has configuration errors"));
    }
    chain->ops_.push_back(op->make(&chain->stats_));
  }
  return std::unique_ptr<Chain>(std::move(chain));
}

}  // namespace outrigger::receivers::filelog::operators
