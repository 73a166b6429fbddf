#include "receivers/filelog/operators/container.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "collector/common/strings.h"
#include "receivers/filelog/operators/field.h"
#include "receivers/filelog/operators/json.h"
#include "receivers/filelog/operators/severity_parser.h"
#include "receivers/filelog/operators/time_layout.h"

namespace outrigger::receivers::filelog::operators {

namespace {

using pdata::Value;
using pdata::ValueMap;

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
    if (src == nullptr) return Fail(FieldNotFound(spec_.parse_from));
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

}  // namespace

OperatorFactory DecodeContainer(config::Node& item, const CommonOptions& common) {
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
  return [id = common.id, on_error = common.on_error, spec](Stats* st) {
    return std::make_unique<ContainerParser>(id, on_error, st, spec);
  };
}

}  // namespace outrigger::receivers::filelog::operators
