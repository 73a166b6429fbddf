#include "exporters/elasticsearch/encoder.h"

#include <openssl/sha.h>

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstring>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/escaping.h"
#include "opentelemetry/proto/collector/logs/v1/logs_service.pb.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"

namespace outrigger::exporters::elasticsearch {

namespace cpb = opentelemetry::proto::common::v1;
namespace lpb = opentelemetry::proto::logs::v1;
namespace tpb = opentelemetry::proto::trace::v1;
namespace mpb = opentelemetry::proto::metrics::v1;
namespace rpb = opentelemetry::proto::resource::v1;
using Attrs = google::protobuf::RepeatedPtrField<cpb::KeyValue>;

namespace {

void AppendHex(std::string* out, const std::string& bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  for (unsigned char c : bytes) {
    out->push_back(kHex[c >> 4]);
    out->push_back(kHex[c & 15]);
  }
  out->push_back('"');
}

void AppendInt(std::string* out, int64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out->append(buf, r.ptr);
}

void AppendDouble(std::string* out, double v) {
  if (!std::isfinite(v)) {
    out->append("null");  // JSON has no NaN or Infinity
    return;
  }
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out->append(buf, r.ptr);
}

void AppendValue(std::string* out, const cpb::AnyValue& v);

// Whether kvs[i]'s key came before: a scan for the usual few attributes, a set beyond
// (issue 15: 300,000 distinct keys in one 4 MB request made the scan 10^11 compares).
class SeenKeys {
 public:
  static constexpr int kScanUpTo = 32;
  explicit SeenKeys(const Attrs& kvs) : kvs_(kvs) {}
  bool Repeated(int i) {
    const std::string& k = kvs_[i].key();
    if (kvs_.size() <= kScanUpTo) {
      for (int j = 0; j < i; ++j) {
        if (kvs_[j].key() == k) return true;
      }
      return false;
    }
    // Called for increasing i (every one, or those not skipped): what is before i and
    // not in the set yet is added first.
    for (; added_ < i; ++added_) set_.insert(kvs_[added_].key());
    return set_.contains(k);
  }

 private:
  const Attrs& kvs_;
  absl::flat_hash_set<std::string_view> set_;
  int added_ = 0;
};

// {"k":v,...}; a repeated key keeps its first value (Elasticsearch refuses duplicates).
template <typename Skip>
void AppendObject(std::string* out, const Attrs& kvs, Skip skip) {
  out->push_back('{');
  bool first = true;
  SeenKeys seen(kvs);
  for (int i = 0; i < kvs.size(); ++i) {
    const auto& kv = kvs[i];
    if (skip(kv.key())) continue;
    if (seen.Repeated(i)) continue;
    if (!first) out->push_back(',');
    first = false;
    out->push_back('"');
    AppendJsonEscaped(out, kv.key());
    out->append("\":");
    AppendValue(out, kv.value());
  }
  out->push_back('}');
}
void AppendObject(std::string* out, const Attrs& kvs) {
  AppendObject(out, kvs, [](const std::string&) { return false; });
}

void AppendValue(std::string* out, const cpb::AnyValue& v) {
  switch (v.value_case()) {
    case cpb::AnyValue::kStringValue:
      AppendJsonString(out, v.string_value());
      break;
    case cpb::AnyValue::kBoolValue:
      out->append(v.bool_value() ? "true" : "false");
      break;
    case cpb::AnyValue::kIntValue:
      AppendInt(out, v.int_value());
      break;
    case cpb::AnyValue::kDoubleValue:
      AppendDouble(out, v.double_value());
      break;
    case cpb::AnyValue::kBytesValue: {
      std::string b64;
      absl::Base64Escape(v.bytes_value(), &b64);
      out->push_back('"');
      out->append(b64);
      out->push_back('"');
      break;
    }
    case cpb::AnyValue::kArrayValue: {
      out->push_back('[');
      const auto& a = v.array_value().values();
      for (int i = 0; i < a.size(); ++i) {
        if (i > 0) out->push_back(',');
        AppendValue(out, a[i]);
      }
      out->push_back(']');
      break;
    }
    case cpb::AnyValue::kKvlistValue:
      AppendObject(out, v.kvlist_value().values());
      break;
    default:
      out->append("null");
  }
}

// The value as text: strings as they are, anything else as JSON.
std::string ValueText(const cpb::AnyValue& v) {
  if (v.value_case() == cpb::AnyValue::kStringValue) return v.string_value();
  std::string s;
  AppendValue(&s, v);
  return s;
}

const cpb::AnyValue* Find(const Attrs& kvs, std::string_view key) {
  for (const auto& kv : kvs) {
    if (kv.key() == key) return &kv.value();
  }
  return nullptr;
}

// Writes "key":value pairs of a flat JSON object, with an optional set of the keys
// written so far (a key is written once).
class Fields {
 public:
  Fields(std::string* out, absl::flat_hash_set<std::string>* seen = nullptr) : out_(out), seen_(seen) {}
  // Starts "prefix+key": ; false (and nothing written) if that key was written already.
  bool Key(std::string_view key, std::string_view prefix = {}) {
    if (seen_ != nullptr) {
      std::string k = StrCat(prefix, key);
      if (!seen_->insert(std::move(k)).second) return false;
    }
    if (!first_) out_->push_back(',');
    first_ = false;
    out_->push_back('"');
    out_->append(prefix);
    AppendJsonEscaped(out_, key);
    out_->append("\":");
    return true;
  }
  void String(std::string_view key, std::string_view v) {
    if (Key(key)) AppendJsonString(out_, v);
  }
  void Int(std::string_view key, int64_t v) {
    if (Key(key)) AppendInt(out_, v);
  }
  void Time(std::string_view key, uint64_t ns) {
    if (Key(key)) AppendJsonTime(out_, ns);
  }
  void Hex(std::string_view key, const std::string& id) {
    if (!id.empty() && Key(key)) AppendHex(out_, id);
  }
  void Value(std::string_view key, const cpb::AnyValue& v, std::string_view prefix = {}) {
    if (Key(key, prefix)) AppendValue(out_, v);
  }
  // Raw JSON fragment of complete "k":v pairs.
  void Fragment(std::string_view frag) {
    if (frag.empty()) return;
    if (!first_) out_->push_back(',');
    first_ = false;
    out_->append(frag);
  }
  std::string* out() { return out_; }

 private:
  std::string* out_;
  absl::flat_hash_set<std::string>* seen_;
  bool first_ = true;
};

constexpr std::string_view kKindNames[] = {"Unspecified", "Internal", "Server", "Client", "Producer", "Consumer"};
std::string_view KindName(int k) { return k >= 0 && k < 6 ? kKindNames[k] : "Unspecified"; }
std::string_view StatusName(int c) { return c == 1 ? "Ok" : c == 2 ? "Error" : "Unset"; }

// ECS: OpenTelemetry semantic-convention names → ECS field names (resource and record
// attributes), after the upstream exporter's table.
std::string_view EcsName(std::string_view k) {
  struct Pair {
    std::string_view from, to;
  };
  static constexpr Pair kMap[] = {
      {"service.instance.id", "service.node.name"},
      {"deployment.environment", "service.environment"},
      {"deployment.environment.name", "service.environment"},
      {"telemetry.sdk.name", "agent.name"},
      {"telemetry.sdk.version", "agent.version"},
      {"cloud.platform", "cloud.service.name"},
      {"container.image.tag", "container.image.tag"},
      {"host.name", "host.hostname"},
      {"host.arch", "host.architecture"},
      {"process.executable.path", "process.executable"},
      {"process.runtime.name", "service.runtime.name"},
      {"process.runtime.version", "service.runtime.version"},
      {"os.type", "host.os.platform"},
      {"os.description", "host.os.full"},
      {"os.name", "host.os.name"},
      {"os.version", "host.os.version"},
      {"k8s.namespace.name", "kubernetes.namespace"},
      {"k8s.node.name", "kubernetes.node.name"},
      {"k8s.pod.name", "kubernetes.pod.name"},
      {"k8s.pod.uid", "kubernetes.pod.uid"},
      {"k8s.deployment.name", "kubernetes.deployment.name"},
      {"k8s.statefulset.name", "kubernetes.statefulset.name"},
      {"k8s.replicaset.name", "kubernetes.replicaset.name"},
      {"k8s.daemonset.name", "kubernetes.daemonset.name"},
      {"k8s.job.name", "kubernetes.job.name"},
      {"k8s.cronjob.name", "kubernetes.cronjob.name"},
      {"exception.type", "error.type"},
      {"exception.message", "error.message"},
      {"exception.stacktrace", "error.stack_trace"},
  };
  for (const auto& p : kMap) {
    if (p.from == k) return p.to;
  }
  return k;
}

// Fields every ECS document writes itself; attributes mapping to them are left out.
bool EcsReserved(std::string_view k) {
  return k == "@timestamp" || k == "message" || k == "log.level" || k == "event.severity" || k == "trace.id" ||
         k == "span.id" || k == "parent.id" || k == "span.name" || k == "span.kind" || k == "event.duration" ||
         k == "event.outcome" || k == "event.action";
}

void AppendEcsAttrs(Fields& f, const Attrs& kvs) {
  for (const auto& kv : kvs) {
    std::string_view name = EcsName(kv.key());
    if (EcsReserved(name)) continue;
    f.Value(name, kv.value());
  }
}

void AppendPrefixed(Fields& f, std::string_view prefix, const Attrs& kvs) {
  for (const auto& kv : kvs) f.Value(kv.key(), kv.value(), prefix);
}

// none/raw: fixed field names written by the document itself.
bool NoneReserved(std::string_view k) {
  return k == "@timestamp" || k == "Body" || k == "SeverityNumber" || k == "SeverityText" || k == "TraceFlags" ||
         k == "TraceId" || k == "SpanId" || k == "ParentSpanId" || k == "Name" || k == "Kind" || k == "EndTimestamp" ||
         k == "Duration" || k == "TraceStatus" || k == "TraceStatusDescription" || k == "Link";
}

// none/raw: the attributes (raw: without the Attributes. prefix and the reserved names); a
// repeated key keeps its first value.
void AppendNoneAttrs(Fields& f, const Attrs& kvs, bool raw) {
  SeenKeys seen(kvs);
  for (int i = 0; i < kvs.size(); ++i) {
    const auto& kv = kvs[i];
    if (raw && NoneReserved(kv.key())) continue;
    if (!seen.Repeated(i)) f.Value(kv.key(), kv.value(), raw ? "" : "Attributes.");
  }
}

// Routing attributes (data_stream.*: the document's data_stream object; elasticsearch.index):
// not written among the attributes in mapping mode otel, as upstream.
bool IsDataStreamKey(std::string_view k) {
  return k == "data_stream.type" || k == "data_stream.dataset" || k == "data_stream.namespace" ||
         k == "elasticsearch.index";
}

// upstream's /receiver/(\w*receiver) on a scope name: "hostmetricsreceiver" of
// ".../receiver/hostmetricsreceiver/internal/...", else empty.
std::string ReceiverOfScope(std::string_view name) {
  for (size_t at = name.find("/receiver/"); at != std::string_view::npos; at = name.find("/receiver/", at + 1)) {
    size_t b = at + 10, e = b;
    while (e < name.size() && (std::isalnum(static_cast<unsigned char>(name[e])) || name[e] == '_')) ++e;
    // \w* is greedy, then "receiver" must end the word run at some point: the last match.
    std::string_view word = name.substr(b, e - b);
    size_t r = word.rfind("receiver");
    if (r != std::string_view::npos) return std::string(word.substr(0, r + 8));
  }
  return "";
}

// Per resource or scope: its fields as a ready fragment (computed once, copied into
// every document of that resource or scope).
std::string ResourceFragment(const std::string& mode, const rpb::Resource& r, const std::string& schema_url) {
  std::string s;
  if (mode == "otel") {
    s.append("\"resource\":{\"attributes\":");
    AppendObject(&s, r.attributes(), [](const std::string& k) { return IsDataStreamKey(k); });
    if (r.dropped_attributes_count() > 0) {
      s.append(",\"dropped_attributes_count\":");
      AppendInt(&s, r.dropped_attributes_count());
    }
    if (!schema_url.empty()) {
      s.append(",\"schema_url\":");
      AppendJsonString(&s, schema_url);
    }
    s.push_back('}');
  } else if (mode == "ecs") {
    // Written per document (mapped, after the record's own fields).
  } else {
    Fields f(&s);
    AppendPrefixed(f, "Resource.", r.attributes());
  }
  return s;
}

std::string ScopeFragment(const std::string& mode, const cpb::InstrumentationScope& sc) {
  std::string s;
  if (mode == "otel") {
    s.append("\"scope\":{");
    Fields f(&s);
    if (!sc.name().empty()) f.String("name", sc.name());
    if (!sc.version().empty()) f.String("version", sc.version());
    if (sc.attributes_size() > 0 && f.Key("attributes")) {
      AppendObject(&s, sc.attributes(), [](const std::string& k) { return IsDataStreamKey(k); });
    }
    s.push_back('}');
  } else if (mode == "ecs") {
    // ECS has no instrumentation scope; its name is kept as a label, like upstream.
  } else {
    Fields f(&s);
    if (!sc.name().empty()) f.String("Scope.name", sc.name());
    if (!sc.version().empty()) f.String("Scope.version", sc.version());
    AppendPrefixed(f, "Scope.", sc.attributes());
  }
  return s;
}

// Days since 1970-01-01 → civil date (Howard Hinnant's algorithm).
void CivilFromDays(int64_t z, int* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t yy = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = static_cast<int>(yy + (*m <= 2));
}

}  // namespace

void AppendJsonTime(std::string* out, uint64_t ns) {
  const int64_t secs = static_cast<int64_t>(ns / 1000000000ULL);
  uint64_t frac = ns % 1000000000ULL;
  int y;
  unsigned mo, d;
  CivilFromDays(secs / 86400, &y, &mo, &d);
  int64_t sod = secs % 86400;
  char b[33] = "\"0000-00-00T00:00:00.000000000Z\"";
  auto put = [&](int pos, uint64_t v, int width) {
    for (int i = width - 1; i >= 0; --i) {
      b[pos + i] = static_cast<char>('0' + v % 10);
      v /= 10;
    }
  };
  put(1, static_cast<uint64_t>(y), 4);
  put(6, mo, 2);
  put(9, d, 2);
  put(12, static_cast<uint64_t>(sod / 3600), 2);
  put(15, static_cast<uint64_t>(sod / 60 % 60), 2);
  put(18, static_cast<uint64_t>(sod % 60), 2);
  put(21, frac, 9);
  out->append(b, 32);
}

size_t EncodedBatch::DocBytes(const Doc& d) const {
  return (d.end - d.begin) + indices[d.index].size() + d.id.size() + d.action_extra.size() + 48;
}

std::string ContentHashId(std::string_view index, std::string_view source) {
  thread_local std::string in;
  in.assign(index);
  in.push_back('\n');
  in.append(source);
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(in.data()), in.size(), md);
  std::string out;
  absl::WebSafeBase64Escape(absl::string_view(reinterpret_cast<const char*>(md), 16), &out);
  return out;
}

namespace {
std::string DynamicIndex(const std::string& base, std::string_view type, bool otel, const Attrs& res,
                         const cpb::InstrumentationScope& scope, const Attrs& rec, DataStream* ds);

// Closes the document being written at the end of out->buf and adds it (with its content
// id when `content_id`).
void FinishDoc(bool content_id, Doc doc, EncodedBatch* out) {
  out->buf.push_back('}');
  doc.end = static_cast<uint32_t>(out->buf.size());
  if (content_id) doc.id = ContentHashId(out->indices[doc.index], out->Source(doc));
  out->docs.push_back(std::move(doc));
}
}  // namespace

// Index names of one batch: the configured (or dynamic) name, then the logstash date.
struct Encoder::IndexCache {
  IndexCache(const Config& c, EncodedBatch* o) : cfg(c), out(o) {}
  const Config& cfg;
  EncodedBatch* out;
  int64_t last_sec = INT64_MIN;
  std::string last_base;
  uint32_t last_id = 0;
  bool have_last = false;

  uint32_t Id(const std::string& base, uint64_t time_ns, const DataStream& ds = {}) {
    const int64_t sec = static_cast<int64_t>(time_ns / 1000000000ULL);
    if (have_last && base == last_base && (!cfg.logstash_format.enabled || sec == last_sec)) return last_id;
    std::string name = base;
    if (cfg.logstash_format.enabled) {
      time_t t = static_cast<time_t>(sec);
      struct tm tm;
      gmtime_r(&t, &tm);
      char buf[128];
      size_t n = strftime(buf, sizeof buf, cfg.logstash_format.date_format.c_str(), &tm);
      name += cfg.logstash_format.prefix_separator;
      name.append(buf, n);
    }
    uint32_t id = 0;
    bool found = false;
    for (size_t i = 0; i < out->indices.size(); ++i) {
      if (out->indices[i] == name) {
        id = static_cast<uint32_t>(i);
        found = true;
        break;
      }
    }
    if (!found) {
      id = static_cast<uint32_t>(out->indices.size());
      out->indices.push_back(name);
      out->streams.push_back(ds);
    }
    last_sec = sec;
    last_base = base;
    last_id = id;
    have_last = true;
    return id;
  }

  // The index of one record: `base`, or with *_dynamic_index the name its attributes give.
  uint32_t Of(const std::string& base, bool dynamic, std::string_view type, const Attrs& res,
              const cpb::InstrumentationScope& scope, const Attrs& rec, uint64_t time_ns) {
    if (!dynamic) return Id(base, time_ns);
    DataStream ds;
    std::string name = DynamicIndex(base, type, cfg.mapping_mode == "otel", res, scope, rec, &ds);
    return Id(name, time_ns, ds);
  }
};

namespace {

// The index of one record with *_dynamic_index, as upstream routes it: the
// elasticsearch.index attribute (record > scope > resource) as it is; else data_stream.
// dataset/namespace attributes (record > scope > resource) as <type>-<dataset>-<namespace>;
// else elasticsearch.index.prefix/suffix (resource > scope > record) around the configured
// index (upstream before v0.122); else the data stream <type>-<dataset>-default, the
// dataset from a scope name ".../receiver/<name>receiver/..." (as upstream), else
// "generic". Mapping mode otel appends ".otel" to the dataset (the *-*.otel-* templates).
// *ds: the data stream, if one.
std::string DynamicIndex(const std::string& base, std::string_view type, bool otel, const Attrs& res,
                         const cpb::InstrumentationScope& scope_msg, const Attrs& rec, DataStream* ds) {
  const Attrs& scope = scope_msg.attributes();
  auto first = [](std::string_view key, std::initializer_list<const Attrs*> order) -> const cpb::AnyValue* {
    for (const Attrs* a : order) {
      if (const auto* v = Find(*a, key)) return v;
    }
    return nullptr;
  };
  if (const auto* index = first("elasticsearch.index", {&rec, &scope, &res})) {
    std::string name = ValueText(*index);
    if (!name.empty()) return name;
  }
  const auto* dataset = first("data_stream.dataset", {&rec, &scope, &res});
  const auto* ns = first("data_stream.namespace", {&rec, &scope, &res});
  if (dataset == nullptr && ns == nullptr) {
    const auto* prefix = first("elasticsearch.index.prefix", {&res, &scope, &rec});
    const auto* suffix = first("elasticsearch.index.suffix", {&res, &scope, &rec});
    if (prefix != nullptr || suffix != nullptr) {
      return StrCat(prefix ? ValueText(*prefix) : "", base, suffix ? ValueText(*suffix) : "");
    }
  }
  ds->type = std::string(type);
  if (dataset != nullptr) {
    ds->dataset = ValueText(*dataset);
  } else {
    ds->dataset = ReceiverOfScope(scope_msg.name());
    if (ds->dataset.empty()) ds->dataset = "generic";
  }
  if (otel) ds->dataset += ".otel";
  ds->ns = ns ? ValueText(*ns) : "default";
  return StrCat(type, "-", ds->dataset, "-", ds->ns);
}

// Mapping mode otel writes the data stream at the document's root (never among the
// attributes), ecs as data_stream.* fields.
void AppendDataStream(Fields& f, const DataStream& ds, bool otel) {
  if (ds.type.empty()) return;
  if (otel) {
    if (!f.Key("data_stream")) return;
    std::string* o = f.out();
    o->append("{\"type\":");
    AppendJsonString(o, ds.type);
    o->append(",\"dataset\":");
    AppendJsonString(o, ds.dataset);
    o->append(",\"namespace\":");
    AppendJsonString(o, ds.ns);
    o->push_back('}');
  } else {
    f.String("data_stream.type", ds.type);
    f.String("data_stream.dataset", ds.dataset);
    f.String("data_stream.namespace", ds.ns);
  }
}

}  // namespace

Encoder::Encoder(const Config& cfg) : cfg_(cfg) {}

void Encoder::EncodeLogs(const pdata::Logs& d, uint64_t now_ns, EncodedBatch* out) const {
  const std::string& mode = cfg_.mapping_mode;
  IndexCache idx{cfg_, out};
  absl::flat_hash_set<std::string> seen;
  d.ForEachRequest([&](const opentelemetry::proto::collector::logs::v1::ExportLogsServiceRequest& req) {
    for (const auto& rl : req.resource_logs()) {
      const std::string res_frag = ResourceFragment(mode, rl.resource(), rl.schema_url());
      for (const auto& sl : rl.scope_logs()) {
        const std::string scope_frag = ScopeFragment(mode, sl.scope());
        for (const auto& r : sl.log_records()) {
          uint64_t t = r.time_unix_nano() != 0            ? r.time_unix_nano()
                       : r.observed_time_unix_nano() != 0 ? r.observed_time_unix_nano()
                                                          : now_ns;
          Doc doc;
          doc.index = idx.Of(cfg_.logs_index, cfg_.logs_dynamic_index, "logs", rl.resource().attributes(), sl.scope(),
                             r.attributes(), t);
          doc.begin = static_cast<uint32_t>(out->buf.size());
          std::string* o = &out->buf;
          o->push_back('{');
          if (mode == "otel") {
            Fields f(o);
            f.Time("@timestamp", t);
            if (r.observed_time_unix_nano() != 0) f.Time("observed_timestamp", r.observed_time_unix_nano());
            if (!r.severity_text().empty()) f.String("severity_text", r.severity_text());
            if (r.severity_number() != 0) f.Int("severity_number", r.severity_number());
            if (r.has_body()) {
              f.Key("body");
              const auto& b = r.body();
              bool structured =
                  b.value_case() == cpb::AnyValue::kKvlistValue || b.value_case() == cpb::AnyValue::kArrayValue;
              o->append(structured ? "{\"structured\":" : "{\"text\":");
              if (structured) {
                AppendValue(o, b);
              } else {
                AppendJsonString(o, ValueText(b));
              }
              o->push_back('}');
            }
            if (!r.event_name().empty()) f.String("event_name", r.event_name());
            AppendDataStream(f, out->streams[doc.index], true);
            f.Key("attributes");
            AppendObject(o, r.attributes(), [](const std::string& k) { return IsDataStreamKey(k); });
            if (r.dropped_attributes_count() > 0) f.Int("dropped_attributes_count", r.dropped_attributes_count());
            f.Hex("trace_id", r.trace_id());
            f.Hex("span_id", r.span_id());
            if (r.flags() != 0) f.Int("trace_flags", r.flags() & 0xff);
            f.Fragment(res_frag);
            f.Fragment(scope_frag);
          } else if (mode == "ecs") {
            seen.clear();
            Fields f(o, &seen);
            f.Time("@timestamp", t);
            AppendDataStream(f, out->streams[doc.index], false);
            if (r.has_body()) f.String("message", ValueText(r.body()));
            if (!r.severity_text().empty()) f.String("log.level", r.severity_text());
            if (r.severity_number() != 0) f.Int("event.severity", r.severity_number());
            if (!r.event_name().empty()) f.String("event.action", r.event_name());
            f.Hex("trace.id", r.trace_id());
            f.Hex("span.id", r.span_id());
            AppendEcsAttrs(f, r.attributes());
            // Resource fields after the record's (the record's win on a clash).
            AppendEcsAttrs(f, rl.resource().attributes());
            if (!sl.scope().name().empty()) f.String("labels.otel_scope_name", sl.scope().name());
          } else {  // none, raw
            const bool raw = mode == "raw";
            Fields f(o);
            f.Time("@timestamp", t);
            if (r.has_body()) f.Value("Body", r.body());
            if (r.severity_number() != 0) f.Int("SeverityNumber", r.severity_number());
            if (!r.severity_text().empty()) f.String("SeverityText", r.severity_text());
            if (r.flags() != 0) f.Int("TraceFlags", r.flags() & 0xff);
            f.Hex("TraceId", r.trace_id());
            f.Hex("SpanId", r.span_id());
            AppendNoneAttrs(f, r.attributes(), raw);
            f.Fragment(res_frag);
            f.Fragment(scope_frag);
          }
          FinishDoc(cfg_.document_id == "content_hash", std::move(doc), out);
        }
      }
    }
  });
}

// Long (~135 lines) for a reason: one pass over every span writing each document
// straight into the output buffer, the mapping modes sharing the span's locals; split,
// the per-span state would travel through a struct on the hot path. The parts shared with
// logs (resource fragment, attributes, FinishDoc) are already functions.
void Encoder::EncodeTraces(const pdata::Traces& d, uint64_t now_ns, EncodedBatch* out) const {
  const std::string& mode = cfg_.mapping_mode;
  IndexCache idx{cfg_, out};
  absl::flat_hash_set<std::string> seen;
  d.ForEachRequest([&](const opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest& req) {
    for (const auto& rs : req.resource_spans()) {
      const std::string res_frag = ResourceFragment(mode, rs.resource(), rs.schema_url());
      for (const auto& ss : rs.scope_spans()) {
        const std::string scope_frag = ScopeFragment(mode, ss.scope());
        for (const auto& s : ss.spans()) {
          uint64_t t = s.start_time_unix_nano() != 0 ? s.start_time_unix_nano() : now_ns;
          uint64_t dur =
              s.end_time_unix_nano() > s.start_time_unix_nano() ? s.end_time_unix_nano() - s.start_time_unix_nano() : 0;
          Doc doc;
          doc.index = idx.Of(cfg_.traces_index, cfg_.traces_dynamic_index, "traces", rs.resource().attributes(),
                             ss.scope(), s.attributes(), t);
          doc.begin = static_cast<uint32_t>(out->buf.size());
          std::string* o = &out->buf;
          o->push_back('{');
          if (mode == "otel") {
            Fields f(o);
            f.Time("@timestamp", t);
            f.Hex("trace_id", s.trace_id());
            f.Hex("span_id", s.span_id());
            f.Hex("parent_span_id", s.parent_span_id());
            if (!s.trace_state().empty()) f.String("trace_state", s.trace_state());
            f.String("name", s.name());
            f.String("kind", KindName(s.kind()));
            f.Int("duration", static_cast<int64_t>(dur));
            f.Key("status");
            o->append("{\"code\":");
            AppendJsonString(o, StatusName(s.status().code()));
            if (!s.status().message().empty()) {
              o->append(",\"message\":");
              AppendJsonString(o, s.status().message());
            }
            o->push_back('}');
            AppendDataStream(f, out->streams[doc.index], true);
            f.Key("attributes");
            AppendObject(o, s.attributes(), [](const std::string& k) { return IsDataStreamKey(k); });
            if (s.dropped_attributes_count() > 0) f.Int("dropped_attributes_count", s.dropped_attributes_count());
            if (s.events_size() > 0) {
              f.Key("events");
              o->push_back('[');
              for (int i = 0; i < s.events_size(); ++i) {
                const auto& e = s.events(i);
                if (i > 0) o->push_back(',');
                o->push_back('{');
                Fields ef(o);
                ef.Time("@timestamp", e.time_unix_nano());
                ef.String("name", e.name());
                ef.Key("attributes");
                AppendObject(o, e.attributes());
                o->push_back('}');
              }
              o->push_back(']');
            }
            if (s.dropped_events_count() > 0) f.Int("dropped_events_count", s.dropped_events_count());
            if (s.links_size() > 0) {
              f.Key("links");
              o->push_back('[');
              for (int i = 0; i < s.links_size(); ++i) {
                const auto& l = s.links(i);
                if (i > 0) o->push_back(',');
                o->push_back('{');
                Fields lf(o);
                lf.Hex("trace_id", l.trace_id());
                lf.Hex("span_id", l.span_id());
                if (!l.trace_state().empty()) lf.String("trace_state", l.trace_state());
                lf.Key("attributes");
                AppendObject(o, l.attributes());
                o->push_back('}');
              }
              o->push_back(']');
            }
            if (s.dropped_links_count() > 0) f.Int("dropped_links_count", s.dropped_links_count());
            f.Fragment(res_frag);
            f.Fragment(scope_frag);
          } else if (mode == "ecs") {
            seen.clear();
            Fields f(o, &seen);
            f.Time("@timestamp", t);
            AppendDataStream(f, out->streams[doc.index], false);
            f.Hex("trace.id", s.trace_id());
            f.Hex("span.id", s.span_id());
            f.Hex("parent.id", s.parent_span_id());
            f.String("span.name", s.name());
            f.String("span.kind", KindName(s.kind()));
            f.Int("event.duration", static_cast<int64_t>(dur));
            f.String("event.outcome", s.status().code() == 2   ? "failure"
                                      : s.status().code() == 1 ? "success"
                                                               : "unknown");
            AppendEcsAttrs(f, s.attributes());
            AppendEcsAttrs(f, rs.resource().attributes());
            if (!ss.scope().name().empty()) f.String("labels.otel_scope_name", ss.scope().name());
          } else {  // none, raw
            const bool raw = mode == "raw";
            Fields f(o);
            f.Time("@timestamp", t);
            f.Time("EndTimestamp", s.end_time_unix_nano());
            f.Hex("TraceId", s.trace_id());
            f.Hex("SpanId", s.span_id());
            f.Hex("ParentSpanId", s.parent_span_id());
            f.String("Name", s.name());
            f.String("Kind", KindName(s.kind()));
            f.Int("TraceStatus", s.status().code());
            if (!s.status().message().empty()) f.String("TraceStatusDescription", s.status().message());
            f.Int("Duration", static_cast<int64_t>(dur / 1000));  // microseconds, as upstream
            if (s.links_size() > 0) {
              std::string links = "[";
              for (int i = 0; i < s.links_size(); ++i) {
                if (i > 0) links.push_back(',');
                links.append("{\"traceId\":");
                AppendHex(&links, s.links(i).trace_id());
                links.append(",\"spanId\":");
                AppendHex(&links, s.links(i).span_id());
                links.push_back('}');
              }
              links.push_back(']');
              f.String("Link", links);  // a JSON string, as upstream
            }
            AppendNoneAttrs(f, s.attributes(), raw);
            // Events.<name>.time and Events.<name>.<attribute>; a repeated name keeps the first.
            seen.clear();
            for (const auto& e : s.events()) {
              std::string p = StrCat(raw ? "" : "Events.", e.name(), ".");
              if (!seen.insert(p + "time").second) continue;
              f.Key("time", p);
              AppendJsonTime(o, e.time_unix_nano());
              for (const auto& kv : e.attributes()) f.Value(kv.key(), kv.value(), p);
            }
            f.Fragment(res_frag);
            f.Fragment(scope_frag);
          }
          FinishDoc(cfg_.document_id == "content_hash", std::move(doc), out);
        }
      }
    }
  });
}

namespace {

// A double with a radix point (1 is written 1.0), so Elasticsearch's dynamic mapping makes
// it a double, as upstream writes metric values.
void AppendMetricDouble(std::string* out, double v) {
  const size_t at = out->size();
  AppendDouble(out, v);
  std::string_view w(out->data() + at, out->size() - at);
  if (w.find_first_of(".eEn") == std::string_view::npos) out->append(".0");
}

// Lower boundary of bucket `index` of an exponential histogram of `scale`.
double ExpLowerBoundary(int64_t index, int scale) {
  return std::exp(static_cast<double>(index) * std::ldexp(std::log(2.0), -scale));
}

// {"counts":[...],"values":[...]}: the histogram field of Elasticsearch.
void AppendCountsValues(std::string* out, const std::vector<std::pair<uint64_t, double>>& cv) {
  out->append("{\"counts\":[");
  for (size_t i = 0; i < cv.size(); ++i) {
    if (i > 0) out->push_back(',');
    AppendInt(out, static_cast<int64_t>(std::min<uint64_t>(cv[i].first, INT64_MAX)));
  }
  out->append("],\"values\":[");
  for (size_t i = 0; i < cv.size(); ++i) {
    if (i > 0) out->push_back(',');
    AppendMetricDouble(out, cv[i].second);
  }
  out->append("]}");
}

// One data point's value as JSON and the name of its dynamic template (empty: none), or
// the reason it cannot be indexed.
struct PointValue {
  std::string json, tmpl, error;
};

PointValue NumberValue(const mpb::Metric& m, const mpb::NumberDataPoint& p, bool ecs) {
  PointValue v;
  const bool counter = m.data_case() == mpb::Metric::kSum && m.sum().is_monotonic();
  if (p.value_case() == mpb::NumberDataPoint::kAsInt) {
    AppendInt(&v.json, p.as_int());
    if (!ecs) v.tmpl = counter ? "counter_long" : "gauge_long";
  } else if (p.value_case() == mpb::NumberDataPoint::kAsDouble) {
    if (!std::isfinite(p.as_double())) {
      v.error = StrCat("invalid number data point \"", m.name(), "\": NaN or infinite value");
      return v;
    }
    AppendMetricDouble(&v.json, p.as_double());
    if (!ecs) v.tmpl = counter ? "counter_double" : "gauge_double";
  } else {
    v.error = StrCat("invalid number data point \"", m.name(), "\": no value");
  }
  return v;
}

PointValue HistogramValue(const mpb::Metric& m, const mpb::HistogramDataPoint& p, bool ecs) {
  PointValue v;
  const int nb = p.bucket_counts_size(), ne = p.explicit_bounds_size();
  if (nb > 0 && nb != ne + 1) {
    v.error = StrCat("invalid histogram data point \"", m.name(), "\": ", nb, " buckets for ", ne, " bounds");
    return v;
  }
  std::vector<std::pair<uint64_t, double>> cv;
  if (ne == 0) {
    // No bounds: one bucket at the mean (count and sum are required), as upstream.
    if (p.count() > 0) cv.emplace_back(p.count(), p.sum() / static_cast<double>(p.count()));
  } else {
    for (int i = 0; i < nb; ++i) {
      if (p.bucket_counts(i) == 0) continue;
      double mid;  // the bucket's midpoint; the open-ended buckets their finite bound
      if (i == 0) {
        mid = p.explicit_bounds(0) > 0 ? p.explicit_bounds(0) / 2 : p.explicit_bounds(0);
      } else if (i >= ne) {
        mid = p.explicit_bounds(i - 1);
      } else {
        mid = p.explicit_bounds(i - 1) + (p.explicit_bounds(i) - p.explicit_bounds(i - 1)) / 2.0;
      }
      cv.emplace_back(p.bucket_counts(i), mid);
    }
  }
  for (const auto& [c, val] : cv) {
    if (!std::isfinite(val)) {
      v.error = StrCat("invalid histogram data point \"", m.name(), "\": a bound is not finite");
      return v;
    }
  }
  AppendCountsValues(&v.json, cv);
  v.tmpl = ecs ? "histogram_metrics" : "histogram";
  return v;
}

PointValue ExpHistogramValue(const mpb::Metric& m, const mpb::ExponentialHistogramDataPoint& p, bool ecs) {
  PointValue v;
  const int scale = p.scale();
  std::vector<std::pair<uint64_t, double>> cv;
  const auto& neg = p.negative();
  for (int i = neg.bucket_counts_size() - 1; i >= 0; --i) {
    if (neg.bucket_counts(i) == 0) continue;
    const double lb = -ExpLowerBoundary(int64_t{neg.offset()} + i + 1, scale);
    const double ub = -ExpLowerBoundary(int64_t{neg.offset()} + i, scale);
    cv.emplace_back(neg.bucket_counts(i), lb + (ub - lb) / 2);
  }
  if (p.zero_count() != 0) cv.emplace_back(p.zero_count(), 0.0);
  const auto& pos = p.positive();
  for (int i = 0; i < pos.bucket_counts_size(); ++i) {
    if (pos.bucket_counts(i) == 0) continue;
    const double lb = ExpLowerBoundary(int64_t{pos.offset()} + i, scale);
    const double ub = ExpLowerBoundary(int64_t{pos.offset()} + i + 1, scale);
    cv.emplace_back(pos.bucket_counts(i), lb + (ub - lb) / 2);
  }
  for (const auto& [c, val] : cv) {
    if (!std::isfinite(val)) {
      v.error = StrCat("invalid exponential histogram data point \"", m.name(), "\": scale ", scale,
                       " and offset give buckets beyond a double");
      return v;
    }
  }
  AppendCountsValues(&v.json, cv);
  v.tmpl = ecs ? "histogram_metrics" : "histogram";
  return v;
}

PointValue SummaryValue(const mpb::Metric& m, const mpb::SummaryDataPoint& p, bool ecs) {
  PointValue v;
  if (!std::isfinite(p.sum())) {
    v.error = StrCat("invalid summary data point \"", m.name(), "\": the sum is not finite");
    return v;
  }
  v.json = "{\"sum\":";
  AppendMetricDouble(&v.json, p.sum());
  v.json.append(",\"value_count\":");
  AppendInt(&v.json, static_cast<int64_t>(std::min<uint64_t>(p.count(), INT64_MAX)));
  v.json.push_back('}');
  v.tmpl = ecs ? "summary_metrics" : "summary";
  return v;
}

// The identity of a data point's attributes: sorted keys with their JSON values.
std::string AttrsKey(const Attrs& kvs) {
  std::vector<int> order(static_cast<size_t>(kvs.size()));
  for (int i = 0; i < kvs.size(); ++i) order[static_cast<size_t>(i)] = i;
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return kvs[a].key() < kvs[b].key(); });
  std::string k;
  for (int i : order) {
    k.append(kvs[i].key());
    k.push_back('\0');
    AppendValue(&k, kvs[i].value());
    k.push_back('\0');
  }
  return k;
}

// The data points of one document being built.
struct MetricGroup {
  uint32_t index = 0;
  uint64_t time = 0, start = 0;
  std::string_view unit;
  const Attrs* attrs = nullptr;  // the first data point's
  const std::string* scope_frag = nullptr;
  std::string_view scope_name;
  struct Entry {
    const std::string* name;
    PointValue value;
  };
  std::vector<Entry> entries;
};

}  // namespace

// Long (~130 lines) for a reason: one pass that groups the data points of a resource and
// then writes each group's document, the two mapping modes sharing the group's fields.
void Encoder::EncodeMetrics(const pdata::Metrics& d, uint64_t now_ns, EncodedBatch* out) const {
  const bool ecs = cfg_.mapping_mode == "ecs";
  IndexCache idx{cfg_, out};
  absl::flat_hash_set<std::string> seen;
  d.ForEachRequest([&](const opentelemetry::proto::collector::metrics::v1::ExportMetricsServiceRequest& req) {
    for (const auto& rm : req.resource_metrics()) {
      const Attrs& res = rm.resource().attributes();
      const std::string res_frag = ResourceFragment(cfg_.mapping_mode, rm.resource(), rm.schema_url());
      std::vector<std::string> scope_frags;
      scope_frags.reserve(static_cast<size_t>(rm.scope_metrics_size()));
      // Groups in order of first appearance (documents keep the data's order).
      std::vector<MetricGroup> groups;
      absl::flat_hash_map<std::string, size_t> by_key;
      for (int si = 0; si < rm.scope_metrics_size(); ++si) {
        const auto& sm = rm.scope_metrics(si);
        scope_frags.push_back(ScopeFragment(cfg_.mapping_mode, sm.scope()));
        auto add = [&](const mpb::Metric& m, uint64_t time, uint64_t start, const Attrs& attrs, PointValue v) {
          if (time == 0) time = now_ns;
          const uint32_t index =
              idx.Of(cfg_.metrics_index, cfg_.metrics_dynamic_index, "metrics", res, sm.scope(), attrs, time);
          std::string key;
          key.append(reinterpret_cast<const char*>(&index), sizeof index);
          key.append(reinterpret_cast<const char*>(&time), sizeof time);
          if (!ecs) {  // ecs: scope, start time and unit are not part of the document
            key.append(reinterpret_cast<const char*>(&si), sizeof si);
            key.append(reinterpret_cast<const char*>(&start), sizeof start);
            key.append(m.unit());
            key.push_back('\0');
          }
          key.append(AttrsKey(attrs));
          auto [it, inserted] = by_key.try_emplace(std::move(key), groups.size());
          if (inserted) {
            MetricGroup g;
            g.index = index;
            g.time = time;
            g.start = start;
            g.unit = m.unit();
            g.attrs = &attrs;
            g.scope_frag = &scope_frags.back();
            g.scope_name = sm.scope().name();
            groups.push_back(std::move(g));
          }
          MetricGroup& g = groups[it->second];
          for (const auto& e : g.entries) {
            if (*e.name == m.name()) {
              v.error = StrCat("metric \"", m.name(), "\" is already in the document of this time and attributes");
              break;
            }
          }
          if (!v.error.empty()) {
            if (out->invalid++ == 0) out->first_invalid = v.error;
            return;
          }
          g.entries.push_back({&m.name(), std::move(v)});
        };
        for (const auto& m : sm.metrics()) {
          switch (m.data_case()) {
            case mpb::Metric::kGauge:
              for (const auto& p : m.gauge().data_points()) {
                add(m, p.time_unix_nano(), p.start_time_unix_nano(), p.attributes(), NumberValue(m, p, ecs));
              }
              break;
            case mpb::Metric::kSum:
              for (const auto& p : m.sum().data_points()) {
                add(m, p.time_unix_nano(), p.start_time_unix_nano(), p.attributes(), NumberValue(m, p, ecs));
              }
              break;
            case mpb::Metric::kHistogram:
              for (const auto& p : m.histogram().data_points()) {
                add(m, p.time_unix_nano(), p.start_time_unix_nano(), p.attributes(), HistogramValue(m, p, ecs));
              }
              break;
            case mpb::Metric::kExponentialHistogram:
              for (const auto& p : m.exponential_histogram().data_points()) {
                add(m, p.time_unix_nano(), p.start_time_unix_nano(), p.attributes(), ExpHistogramValue(m, p, ecs));
              }
              break;
            case mpb::Metric::kSummary:
              for (const auto& p : m.summary().data_points()) {
                add(m, p.time_unix_nano(), p.start_time_unix_nano(), p.attributes(), SummaryValue(m, p, ecs));
              }
              break;
            default:
              break;  // no data: no points
          }
        }
      }
      for (MetricGroup& g : groups) {
        if (g.entries.empty()) continue;
        Doc doc;
        doc.index = g.index;
        doc.items = static_cast<uint32_t>(g.entries.size());
        doc.begin = static_cast<uint32_t>(out->buf.size());
        std::string* o = &out->buf;
        o->push_back('{');
        const DataStream& ds = out->streams[g.index];
        std::string tmpl;
        auto add_tmpl = [&](std::string_view field, const std::string& t) {
          if (t.empty()) return;
          tmpl.append(tmpl.empty() ? ",\"dynamic_templates\":{" : ",");
          AppendJsonString(&tmpl, field);
          tmpl.push_back(':');
          AppendJsonString(&tmpl, t);
        };
        if (!ecs) {
          Fields f(o);
          f.Time("@timestamp", g.time);
          if (g.start != 0) f.Time("start_timestamp", g.start);
          if (!g.unit.empty()) f.String("unit", g.unit);
          AppendDataStream(f, ds, true);
          if (!g.attrs->empty() && f.Key("attributes")) {
            AppendObject(o, *g.attrs, [](const std::string& k) { return IsDataStreamKey(k); });
          }
          f.Fragment(res_frag);
          f.Fragment(*g.scope_frag);
          // As upstream: a hash of the metric names, so two documents of one time series and
          // time with different metrics (e.g. from two pushes) are both kept by a TSDB index.
          {
            std::vector<std::string_view> names;
            for (const auto& e : g.entries) names.push_back(*e.name);
            std::sort(names.begin(), names.end());
            uint64_t h = 1469598103934665603ULL;  // FNV-1a 64
            for (std::string_view n : names) {
              for (unsigned char ch : n) h = (h ^ ch) * 1099511628211ULL;
              h = (h ^ 0) * 1099511628211ULL;
            }
            char hex[17];
            snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
            f.String("_metric_names_hash", std::string_view(hex, 16));
          }
          f.Key("metrics");
          Fields mf(o);
          o->push_back('{');
          for (const auto& e : g.entries) {
            if (!mf.Key(*e.name)) continue;
            o->append(e.value.json);
            add_tmpl(StrCat("metrics.", *e.name), e.value.tmpl);
          }
          o->push_back('}');
        } else {
          seen.clear();
          Fields f(o, &seen);
          f.Time("@timestamp", g.time);
          AppendDataStream(f, ds, false);
          // The metrics, then the data point's attributes, then the resource's (first wins).
          for (const auto& e : g.entries) {
            if (!f.Key(*e.name)) continue;
            o->append(e.value.json);
            add_tmpl(*e.name, e.value.tmpl);
          }
          AppendEcsAttrs(f, *g.attrs);
          AppendEcsAttrs(f, res);
        }
        if (!tmpl.empty()) tmpl.push_back('}');
        doc.action_extra = std::move(tmpl);
        FinishDoc(cfg_.document_id == "content_hash", std::move(doc), out);
      }
    }
  });
}

void Encoder::AppendAction(const EncodedBatch& b, const Doc& doc, std::string* out) const {
  out->append("{\"create\":{\"_index\":");
  AppendJsonString(out, b.indices[doc.index]);
  out->append(doc.action_extra);
  if (!doc.id.empty()) {
    out->append(",\"_id\":\"");
    out->append(doc.id);  // base64url: nothing to escape
    out->push_back('"');
  }
  if (!cfg_.pipeline.empty()) {
    out->append(",\"pipeline\":");
    AppendJsonString(out, cfg_.pipeline);
  }
  out->append("}}\n");
}

std::string Encoder::BulkBody(const EncodedBatch& b, const std::vector<uint32_t>& which) const {
  size_t size = 0;
  for (uint32_t i : which) size += b.DocBytes(b.docs[i]);
  std::string body;
  body.reserve(size);
  for (uint32_t i : which) {
    const Doc& d = b.docs[i];
    AppendAction(b, d, &body);
    body.append(b.Source(d));
    body.push_back('\n');
  }
  return body;
}

}  // namespace outrigger::exporters::elasticsearch
