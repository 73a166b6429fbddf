#include "collector/pdata/pdata.h"

#include <google/protobuf/arena.h>

#include <google/protobuf/util/json_util.h>
#include <algorithm>
#include <cstring>
#include <mutex>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "collector/pdata/json_encode.h"
#include "collector/pdata/wire_scan.h"
#include "nlohmann/json.hpp"
#include "opentelemetry/proto/collector/logs/v1/logs_service.pb.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"

namespace outrigger {

std::string_view SignalName(Signal s) {
  switch (s) {
    case Signal::kTraces:
      return "traces";
    case Signal::kMetrics:
      return "metrics";
    case Signal::kLogs:
      return "logs";
  }
  return "unknown";
}

std::string_view ItemNoun(Signal s) {
  switch (s) {
    case Signal::kTraces:
      return "spans";
    case Signal::kMetrics:
      return "metric_points";
    case Signal::kLogs:
      return "log_records";
  }
  return "items";
}

namespace pdata {

const std::vector<std::string>* ClientInfo::Metadata(std::string_view key) const {
  auto it = metadata.find(key);
  if (it == metadata.end()) {
    bool lower = true;
    for (char c : key) lower &= !(c >= 'A' && c <= 'Z');
    if (lower) return nullptr;
    it = metadata.find(absl::AsciiStrToLower(ToAbsl(key)));
    if (it == metadata.end()) return nullptr;
  }
  return &it->second;
}

size_t MetricPoints(const opentelemetry::proto::metrics::v1::Metric& m) {
  using metricspb = opentelemetry::proto::metrics::v1::Metric;
  switch (m.data_case()) {
    case metricspb::kGauge:
      return m.gauge().data_points_size();
    case metricspb::kSum:
      return m.sum().data_points_size();
    case metricspb::kHistogram:
      return m.histogram().data_points_size();
    case metricspb::kExponentialHistogram:
      return m.exponential_histogram().data_points_size();
    case metricspb::kSummary:
      return m.summary().data_points_size();
    default:
      return 0;
  }
}

namespace {

namespace tpb = opentelemetry::proto::collector::trace::v1;
namespace mpb = opentelemetry::proto::collector::metrics::v1;
namespace lpb = opentelemetry::proto::collector::logs::v1;
namespace metricspb = opentelemetry::proto::metrics::v1;

// Uniform access to the three request shapes: Request -> resources -> scopes -> records.
template <typename Request>
struct Traits;
template <>
struct Traits<tpb::ExportTraceServiceRequest> {
  static auto* Resources(tpb::ExportTraceServiceRequest& r) { return r.mutable_resource_spans(); }
  static const auto& Resources(const tpb::ExportTraceServiceRequest& r) { return r.resource_spans(); }
  template <typename RS>
  static auto* Scopes(RS& rs) {
    return rs.mutable_scope_spans();
  }
  template <typename RS>
  static const auto& ScopesC(const RS& rs) {
    return rs.scope_spans();
  }
  template <typename SS>
  static auto* Records(SS& ss) {
    return ss.mutable_spans();
  }
  template <typename SS>
  static const auto& RecordsC(const SS& ss) {
    return ss.spans();
  }
  template <typename Rec>
  static size_t Count(const Rec&) {
    return 1;
  }
};
template <>
struct Traits<mpb::ExportMetricsServiceRequest> {
  static auto* Resources(mpb::ExportMetricsServiceRequest& r) { return r.mutable_resource_metrics(); }
  static const auto& Resources(const mpb::ExportMetricsServiceRequest& r) { return r.resource_metrics(); }
  template <typename RS>
  static auto* Scopes(RS& rs) {
    return rs.mutable_scope_metrics();
  }
  template <typename RS>
  static const auto& ScopesC(const RS& rs) {
    return rs.scope_metrics();
  }
  template <typename SS>
  static auto* Records(SS& ss) {
    return ss.mutable_metrics();
  }
  template <typename SS>
  static const auto& RecordsC(const SS& ss) {
    return ss.metrics();
  }
  static size_t Count(const metricspb::Metric& m) { return MetricPoints(m); }
};
template <>
struct Traits<lpb::ExportLogsServiceRequest> {
  static auto* Resources(lpb::ExportLogsServiceRequest& r) { return r.mutable_resource_logs(); }
  static const auto& Resources(const lpb::ExportLogsServiceRequest& r) { return r.resource_logs(); }
  template <typename RS>
  static auto* Scopes(RS& rs) {
    return rs.mutable_scope_logs();
  }
  template <typename RS>
  static const auto& ScopesC(const RS& rs) {
    return rs.scope_logs();
  }
  template <typename SS>
  static auto* Records(SS& ss) {
    return ss.mutable_log_records();
  }
  template <typename SS>
  static const auto& RecordsC(const SS& ss) {
    return ss.log_records();
  }
  template <typename Rec>
  static size_t Count(const Rec&) {
    return 1;
  }
};

template <typename Request>
size_t CountItems(const Request& r) {
  using T = Traits<Request>;
  size_t n = 0;
  for (const auto& rs : T::Resources(r)) {
    for (const auto& ss : T::ScopesC(rs)) {
      for (const auto& rec : T::RecordsC(ss)) n += T::Count(rec);
    }
  }
  return n;
}

template <typename Request>
size_t CountResourceItems(const typename std::remove_reference_t<
                          decltype(Traits<Request>::Resources(std::declval<const Request&>()))>::value_type& rs) {
  using T = Traits<Request>;
  size_t n = 0;
  for (const auto& ss : T::ScopesC(rs)) {
    for (const auto& rec : T::RecordsC(ss)) n += T::Count(rec);
  }
  return n;
}

// Moves up to `budget` items from the front of `src` into `dst` (a fresh request on
// another arena; moving across arenas copies, which is fine on this rare path). Always
// takes at least one record so a caller makes progress. Returns the items moved.
template <typename Request>
size_t MoveFront(Request& src, Request& dst, size_t budget) {
  using T = Traits<Request>;
  size_t moved = 0;
  auto* resources = T::Resources(src);
  int whole_resources = 0;
  for (int i = 0; i < resources->size() && moved < budget; ++i) {
    auto& rs = *resources->Mutable(i);
    size_t c = CountResourceItems<Request>(rs);
    if (moved + c <= budget) {
      *T::Resources(dst)->Add() = rs;
      moved += c;
      ++whole_resources;
      continue;
    }
    // Split this resource: copy its header, then scopes.
    auto* drs = T::Resources(dst)->Add();
    *drs->mutable_resource() = rs.resource();
    drs->set_schema_url(rs.schema_url());
    auto* scopes = T::Scopes(rs);
    int whole_scopes = 0;
    for (int j = 0; j < scopes->size() && moved < budget; ++j) {
      auto& ss = *scopes->Mutable(j);
      size_t sc = 0;
      for (const auto& rec : T::RecordsC(ss)) sc += T::Count(rec);
      if (moved + sc <= budget) {
        *T::Scopes(*drs)->Add() = ss;
        moved += sc;
        ++whole_scopes;
        continue;
      }
      auto* dss = T::Scopes(*drs)->Add();
      *dss->mutable_scope() = ss.scope();
      dss->set_schema_url(ss.schema_url());
      auto* recs = T::Records(ss);
      int taken = 0;
      for (int k = 0; k < recs->size(); ++k) {
        size_t rc = T::Count(recs->Get(k));
        if (moved + rc > budget && moved > 0) break;
        *T::Records(*dss)->Add() = recs->Get(k);
        moved += rc;
        ++taken;
      }
      recs->DeleteSubrange(0, taken);
      break;
    }
    scopes->DeleteSubrange(0, whole_scopes);
    break;
  }
  resources->DeleteSubrange(0, whole_resources);
  return moved;
}

// OTLP/JSON encodes trace and span ids as hex; protobuf's JSON mapping uses base64.
bool IsIdKey(const std::string& k) {
  return k == "traceId" || k == "spanId" || k == "parentSpanId" || k == "trace_id" || k == "span_id" ||
         k == "parent_span_id";
}

int HexVal(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The deepest nesting of arrays and objects in a JSON text (strings skipped), stopping
// early once past `limit`: one pass, no recursion.
int JsonDepth(std::string_view s, int limit) {
  int depth = 0, max = 0;
  bool in_string = false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      max = std::max(max, ++depth);
      if (max > limit) return max;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return max;
}

// Builds the JSON tree (nlohmann's own SAX DOM builder, fed event by event) and refuses the
// first key that appears twice in one object: nlohmann keeps the last copy and drops the
// others silently (a body with `resourceSpans` twice lost the first half). One pass; not
// nlohmann's parser with a callback, which scans the enclosing array at every object's end
// (a body with 240,000 attributes took 34 s). An object's keys are kept in a hash set, so
// many keys in one object are not compared pairwise either. `error` says which key, and
// where.
class CheckedDomBuilder {
 public:
  using json = nlohmann::json;
  explicit CheckedDomBuilder(json* out) : dom_(*out, /*allow_exceptions_=*/false) {}

  bool null() { return Value() && dom_.null(); }
  bool boolean(bool v) { return Value() && dom_.boolean(v); }
  bool number_integer(json::number_integer_t v) { return Value() && dom_.number_integer(v); }
  bool number_unsigned(json::number_unsigned_t v) { return Value() && dom_.number_unsigned(v); }
  bool number_float(json::number_float_t v, const json::string_t& s) { return Value() && dom_.number_float(v, s); }
  bool string(json::string_t& v) { return Value() && dom_.string(v); }
  bool binary(json::binary_t& v) { return Value() && dom_.binary(v); }
  bool start_object(std::size_t n) { return Open(true) && dom_.start_object(n); }
  bool start_array(std::size_t n) { return Open(false) && dom_.start_array(n); }
  bool end_object() { return Close() && dom_.end_object(); }
  bool end_array() { return Close() && dom_.end_array(); }
  bool key(json::string_t& k) {
    if (!stack_.empty()) {
      Frame& f = stack_.back();
      if (!f.keys.insert(k).second) {
        error = StrCat("duplicate key ", k, " in the object at ", Path(), " (each key may appear once)");
        return false;  // stops the parse
      }
      f.last_key = k;
    }
    return dom_.key(k);
  }
  template <class Exception>
  bool parse_error(std::size_t at, const std::string& token, const Exception& e) {
    return dom_.parse_error(at, token, e);
  }

  std::string error;

 private:
  struct Frame {
    bool object;
    absl::flat_hash_set<std::string> keys;  // an object's keys so far
    std::string last_key;                   // the current one
    size_t index = 0;                       // an array's elements so far
  };
  bool Value() {
    if (!stack_.empty() && !stack_.back().object) ++stack_.back().index;
    return true;
  }
  bool Open(bool object) {
    Value();
    stack_.push_back(Frame{object, {}, {}, 0});
    return true;
  }
  bool Close() {
    if (!stack_.empty()) stack_.pop_back();
    return true;
  }
  // The JSON path of the innermost open object ($.resourceSpans[0].scopeSpans[1]).
  std::string Path() const {
    std::string p = "$";
    for (size_t i = 0; i + 1 < stack_.size(); ++i) {
      const Frame& f = stack_[i];
      if (f.object) {
        StrAppend(&p, ".", f.last_key);
      } else {
        StrAppend(&p, "[", f.index - 1, "]");
      }
    }
    return p;
  }
  nlohmann::detail::json_sax_dom_parser<json> dom_;
  std::vector<Frame> stack_;
};

absl::Status HexIdsToBase64(nlohmann::json& j, const std::string& path) {
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (IsIdKey(it.key()) && it->is_string()) {
        const std::string& hex = it->get_ref<const std::string&>();
        if (hex.size() % 2 != 0) {
          return absl::InvalidArgumentError(StrCat(path, ".", it.key(), ": invalid hex id \"", hex, "\" (odd length)"));
        }
        std::string bytes(hex.size() / 2, '\0');
        for (size_t i = 0; i < bytes.size(); ++i) {
          int hi = HexVal(hex[2 * i]), lo = HexVal(hex[2 * i + 1]);
          if (hi < 0 || lo < 0) {
            return absl::InvalidArgumentError(StrCat(path, ".", it.key(), ": invalid hex id \"", hex, "\""));
          }
          bytes[i] = static_cast<char>(hi * 16 + lo);
        }
        *it = absl::Base64Escape(bytes);
      } else {
        auto st = HexIdsToBase64(*it, StrCat(path, ".", it.key()));
        if (!st.ok()) return st;
      }
    }
  } else if (j.is_array()) {
    for (size_t i = 0; i < j.size(); ++i) {
      auto st = HexIdsToBase64(j[i], StrCat(path, "[", i, "]"));
      if (!st.ok()) return st;
    }
  }
  return absl::OkStatus();
}

}  // namespace

// A part is either the encoded request as it was received (checked by ScanRequest, so
// it decodes without error) or a decoded message on its own arena. The encoded form is
// decoded on first use (thread-safe: parts are shared between handles) and dropped
// once the message is changed.
template <typename Request>
struct Data<Request>::Part {
  // An empty decoded request. `size_hint`: the encoded size of what will be decoded
  // here; decoded records take a few times their encoded size, and sizing the first
  // block for that (and letting blocks grow past protobuf's 8 KiB) saves allocations.
  explicit Part(size_t size_hint = 0) { Allocate(size_hint); }
  Part(std::string encoded, size_t items, size_t invalid)
      : raw(std::move(encoded)), has_raw(true), raw_items(items), raw_invalid(invalid) {}

  const Request& Get() const {
    if (has_raw) {
      std::call_once(once, [this] {
        Allocate(raw.size());
        (void)msg->ParseFromString(raw);  // ScanRequest accepted it
      });
    }
    return *msg;
  }
  Request& Mutable() {
    Get();
    if (has_raw) {
      has_raw = false;
      std::string().swap(raw);
    }
    return *msg;
  }
  size_t Items() const { return has_raw ? raw_items : CountItems(*msg); }
  size_t Size() const { return has_raw ? raw.size() : msg->ByteSizeLong(); }
  std::shared_ptr<Part> Copy() const {
    std::shared_ptr<Part> c;
    if (has_raw) {
      c = std::make_shared<Part>(raw, raw_items, raw_invalid);
    } else {
      c = std::make_shared<Part>(msg->ByteSizeLong());
      c->msg->CopyFrom(*msg);
    }
    c->client = client;
    return c;
  }

  void Allocate(size_t size_hint) const {
    google::protobuf::ArenaOptions o;
    // A multiple of 8: protobuf puts its cleanup nodes (8-byte aligned structs) at the
    // end of each block, and later blocks double this size (an odd size was UB).
    o.start_block_size = (std::clamp<size_t>(size_hint * 3, 256, 1 << 20) + 7) & ~size_t{7};
    o.max_block_size = 1 << 20;
    arena = std::make_unique<google::protobuf::Arena>(o);
    msg = google::protobuf::Arena::CreateMessage<Request>(arena.get());
  }

  std::string raw;
  bool has_raw = false;
  size_t raw_items = 0;
  size_t raw_invalid = 0;
  mutable std::once_flag once;
  mutable std::unique_ptr<google::protobuf::Arena> arena;
  mutable Request* msg = nullptr;
  // Who sent this request (immutable, shared by the parts split from it); may be null.
  std::shared_ptr<const ClientInfo> client;
};

template <typename Request>
Data<Request>::Data() = default;
template <typename Request>
Data<Request>::~Data() = default;
template <typename Request>
Data<Request>::Data(Data&&) noexcept = default;
template <typename Request>
Data<Request>& Data<Request>::operator=(Data&&) noexcept = default;

template <typename Request>
Data<Request> Data<Request>::New(Request** out) {
  return NewSized(out, 0);
}

template <typename Request>
Data<Request> Data<Request>::NewSized(Request** out, size_t size_hint) {
  Data d;
  auto part = std::make_shared<Part>(size_hint);
  *out = part->msg;
  d.parts_.push_back(std::move(part));
  return d;
}

template <typename Request>
absl::StatusOr<Data<Request>> Data<Request>::FromProto(std::string_view bytes) {
  return FromProto(std::string(bytes));
}

template <typename Request>
absl::StatusOr<Data<Request>> Data<Request>::FromProto(std::string&& bytes) {
  ScanResult scan = ScanRequest(bytes, Request::descriptor());
  if (!scan.ok) {
    return absl::InvalidArgumentError(StrCat("malformed OTLP protobuf: cannot decode ", bytes.size(), " bytes as ",
                                             Request::descriptor()->name(), ": ", scan.error));
  }
  Data d;
  d.parts_.push_back(std::make_shared<Part>(std::move(bytes), scan.items, scan.invalid_ids));
  return d;
}

template <typename Request>
Data<Request> Data<Request>::FromTrustedProto(std::string&& bytes, size_t items, size_t invalid_ids) {
  Data d;
  d.parts_.push_back(std::make_shared<Part>(std::move(bytes), items, invalid_ids));
  return d;
}

template <typename Request>
absl::StatusOr<Data<Request>> Data<Request>::FromJson(std::string_view json) {
  // Refused before parsing: the JSON tree is walked recursively (hex ids, dump), and
  // 50,000 nested arrays overflowed the stack. Protobuf's JSON parser has the same limit.
  constexpr int kMaxJsonDepth = 100;
  if (JsonDepth(json, kMaxJsonDepth) > kMaxJsonDepth) {
    return absl::InvalidArgumentError(
        StrCat("malformed OTLP JSON: arrays and objects nested more than ", kMaxJsonDepth, " levels deep"));
  }
  nlohmann::json j;
  CheckedDomBuilder builder(&j);
  const bool valid = nlohmann::json::sax_parse(json, &builder);
  if (!builder.error.empty()) {
    return absl::InvalidArgumentError(StrCat("malformed OTLP JSON: ", builder.error));
  }
  if (!valid) return absl::InvalidArgumentError("malformed OTLP JSON: not valid JSON");
  if (!j.is_object()) {
    return absl::InvalidArgumentError("malformed OTLP JSON: the body must be a JSON object");
  }
  if (auto st = HexIdsToBase64(j, "$"); !st.ok()) {
    return absl::InvalidArgumentError(StrCat("malformed OTLP JSON: ", st.message()));
  }
  Request* msg = nullptr;
  Data d = New(&msg);
  google::protobuf::util::JsonParseOptions opts;
  opts.ignore_unknown_fields = true;
  auto st = google::protobuf::util::JsonStringToMessage(j.dump(), msg, opts);
  if (!st.ok()) {
    return absl::InvalidArgumentError(
        StrCat("malformed OTLP JSON: ", std::string(st.message().data(), st.message().size())));
  }
  return d;
}

template <typename Request>
void Data<Request>::AppendProtoTo(std::string* out) const {
  const size_t at = out->size();
  out->resize(at + ByteSize());
  WriteProtoTo(reinterpret_cast<uint8_t*>(out->data()) + at);
}

template <typename Request>
void Data<Request>::WriteProtoTo(uint8_t* dst) const {
  // Concatenated encodings of the same message type merge their repeated fields. Sizes
  // are computed once, by ByteSize (ByteSizeLong caches them), and the encoding reuses them.
  for (const auto& p : parts_) {
    if (p->has_raw) {
      std::memcpy(dst, p->raw.data(), p->raw.size());
      dst += p->raw.size();
    } else {
      dst = p->msg->SerializeWithCachedSizesToArray(dst);
    }
  }
}

template <typename Request>
std::string Data<Request>::ToProto() const {
  std::string out;
  AppendProtoTo(&out);
  return out;
}

template <typename Request>
std::string Data<Request>::ToJson() const {
  // Streamed (json_encode.h): no merged copy of the parts, no intermediate documents.
  std::string out;
  (void)EncodeJson(*this, /*max_bytes=*/0, [&](std::string_view chunk) {
    out.append(chunk);
    return absl::OkStatus();
  });
  return out;
}

template <typename Request>
size_t Data<Request>::ItemCount() const {
  size_t n = 0;
  for (const auto& p : parts_) n += p->Items();
  return n;
}

template <typename Request>
size_t Data<Request>::ResourceCount() const {
  size_t n = 0;
  for (const auto& p : parts_) n += Traits<Request>::Resources(p->Get()).size();
  return n;
}

template <typename Request>
size_t Data<Request>::ByteSize() const {
  size_t n = 0;
  for (const auto& p : parts_) n += p->Size();
  return n;
}

template <typename Request>
Data<Request> Data<Request>::Clone() const {
  Data d;
  d.parts_ = parts_;
  return d;
}

template <typename Request>
void Data<Request>::Append(Data&& other) {
  if (parts_.empty()) {
    parts_ = std::move(other.parts_);
  } else {
    parts_.reserve(parts_.size() + other.parts_.size());
    for (auto& p : other.parts_) parts_.push_back(std::move(p));
  }
  other.parts_.clear();
}

template <typename Request>
Data<Request> Data<Request>::SplitFront(size_t max_items) {
  Data front;
  size_t taken = 0;
  size_t whole = 0;
  for (; whole < parts_.size(); ++whole) {
    size_t c = parts_[whole]->Items();
    if (taken + c > max_items) break;
    taken += c;
  }
  for (size_t i = 0; i < whole; ++i) front.parts_.push_back(std::move(parts_[i]));
  parts_.erase(parts_.begin(), parts_.begin() + static_cast<long>(whole));
  if (taken < max_items && !parts_.empty()) {
    // Split the first remaining part; copy it first if another handle shares it.
    if (parts_[0].use_count() > 1) parts_[0] = parts_[0]->Copy();
    auto head = std::make_shared<Part>();
    head->client = parts_[0]->client;
    MoveFront(parts_[0]->Mutable(), *head->msg, max_items - taken);
    front.parts_.push_back(std::move(head));
    if (parts_[0]->Items() == 0) parts_.erase(parts_.begin());
  }
  return front;
}

template <typename Request>
void Data<Request>::ForEachRequest(const std::function<void(const Request&)>& fn) const {
  for (const auto& p : parts_) fn(p->Get());
}

template <typename Request>
void Data<Request>::ForEachMutableRequest(const std::function<void(Request&)>& fn) {
  for (auto& p : parts_) {
    if (p.use_count() > 1) p = p->Copy();
    fn(p->Mutable());
  }
}

template <typename Request>
void Data<Request>::ForEachRequestWithClient(const std::function<void(const Request&, const ClientInfo*)>& fn) const {
  for (const auto& p : parts_) fn(p->Get(), p->client.get());
}

template <typename Request>
void Data<Request>::ForEachMutableRequestWithClient(const std::function<void(Request&, const ClientInfo*)>& fn) {
  for (auto& p : parts_) {
    if (p.use_count() > 1) p = p->Copy();
    fn(p->Mutable(), p->client.get());
  }
}

template <typename Request>
void Data<Request>::SetClientInfo(std::shared_ptr<const ClientInfo> client) {
  for (auto& p : parts_) {
    // Another handle sharing the part keeps its own client: copy first (rare: receivers
    // set the client before anyone else holds the data).
    if (p.use_count() > 1) p = p->Copy();
    p->client = client;
  }
}

namespace {

template <typename Rec>
bool CheckIds(const Rec& r, bool trace_required, std::string* err) {
  auto bad = [&](const char* what, size_t want, size_t got) {
    if (err->empty()) *err = StrCat(what, " must be ", want, " bytes, got ", got);
    return false;
  };
  if (r.trace_id().size() != 16 && (trace_required || !r.trace_id().empty()))
    return bad("trace_id", 16, r.trace_id().size());
  if (r.span_id().size() != 8 && (trace_required || !r.span_id().empty())) return bad("span_id", 8, r.span_id().size());
  if (trace_required) {
    auto all_zero = [](const std::string& id) { return id.find_first_not_of('\0') == std::string::npos; };
    if (all_zero(r.trace_id())) {
      if (err->empty()) *err = "trace_id must not be all zeros";
      return false;
    }
    if (all_zero(r.span_id())) {
      if (err->empty()) *err = "span_id must not be all zeros";
      return false;
    }
  }
  if constexpr (requires { r.parent_span_id(); }) {
    if (!r.parent_span_id().empty() && r.parent_span_id().size() != 8)
      return bad("parent_span_id", 8, r.parent_span_id().size());
  }
  return true;
}

template <typename Request>
size_t DropInvalid(Request& req, bool trace_required, std::string* err) {
  using T = Traits<Request>;
  size_t dropped = 0;
  for (auto& rs : *T::Resources(req)) {
    for (auto& ss : *T::Scopes(rs)) {
      auto* recs = T::Records(ss);
      int keep = 0;
      for (int i = 0; i < recs->size(); ++i) {
        if (CheckIds(recs->Get(i), trace_required, err)) {
          if (keep != i) recs->SwapElements(keep, i);
          ++keep;
        } else {
          ++dropped;
        }
      }
      recs->DeleteSubrange(keep, recs->size() - keep);
    }
  }
  return dropped;
}

}  // namespace

template <typename Request>
size_t Data<Request>::DropInvalidIds(std::string* first_error) {
  if constexpr (std::is_same_v<Request, mpb::ExportMetricsServiceRequest>) {
    return 0;
  } else {
    // Check read-only first: most data is valid and should not be copied.
    std::string err;
    bool all_ok = true;
    constexpr bool kTraceRequired = std::is_same_v<Request, tpb::ExportTraceServiceRequest>;
    for (const auto& p : parts_) {
      if (p->has_raw) {
        all_ok &= p->raw_invalid == 0;
        continue;
      }
      for (const auto& rs : Traits<Request>::Resources(p->Get()))
        for (const auto& ss : Traits<Request>::ScopesC(rs))
          for (const auto& r : Traits<Request>::RecordsC(ss)) all_ok &= CheckIds(r, kTraceRequired, &err);
    }
    if (all_ok) return 0;
    size_t n = 0;
    ForEachMutableRequest([&](Request& r) { n += DropInvalid(r, kTraceRequired, first_error); });
    return n;
  }
}

template class Data<tpb::ExportTraceServiceRequest>;
template class Data<mpb::ExportMetricsServiceRequest>;
template class Data<lpb::ExportLogsServiceRequest>;

}  // namespace pdata
}  // namespace outrigger
