#include "receivers/filelog/wire_logs.h"

#include <cstring>
#include <utility>

#include "collector/common/protowire.h"
#include "receivers/filelog/decoder.h"
#include "simdjson.h"

namespace outrigger::receivers::filelog {

using pdata::Value;
using pdata::ValueList;
using pdata::ValueMap;

namespace {

// Wire types.
constexpr int kVarint = 0, kFixed64 = 1, kLen = 2, kFixed32 = 5;

using protowire::VarintSize;

void PutVarint(std::string* o, uint64_t v) {
  char b[10];
  o->append(b, static_cast<size_t>(protowire::WriteVarint(b, v) - b));
}

void PutTag(std::string* o, int field, int wire) { o->push_back(static_cast<char>((field << 3) | wire)); }

void PutFixed64(std::string* o, uint64_t v) {
  char b[8];
  std::memcpy(b, &v, 8);  // little-endian hosts (x86-64, aarch64)
  o->append(b, 8);
}

void PutLen(std::string* o, int field, size_t len) {
  PutTag(o, field, kLen);
  PutVarint(o, len);
}

size_t LenFieldSize(size_t len) { return 1 + VarintSize(len) + len; }

// Whether `s` is valid UTF-8: ASCII eight bytes at a time (most log text), simdjson's
// validator from the first non-ASCII byte on.
bool ValidUtf8(std::string_view s) {
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    if (w & 0x8080808080808080ULL) break;
  }
  while (i < s.size() && static_cast<unsigned char>(s[i]) < 0x80) ++i;
  return i == s.size() || simdjson::validate_utf8(s.data() + i, s.size() - i);
}

// A string field's text: valid UTF-8 as proto3 requires (the receiver's bodies already
// are; operators' values from configs may not be), so the batch passes ScanRequest.
void PutString(std::string* o, int field, std::string_view s) {
  if (ValidUtf8(s)) {
    PutLen(o, field, s.size());
    o->append(s);
    return;
  }
  std::string fixed;
  AppendValidUtf8(s, &fixed);
  PutLen(o, field, fixed.size());
  o->append(fixed);
}

// A length-delimited field whose content is written after it: the length is backpatched
// by EndLen. One byte is reserved (most values are shorter than 128 bytes); a longer
// content is moved to make room for a longer varint.
size_t BeginLen(std::string* o, int field) {
  PutTag(o, field, kLen);
  o->push_back(0);
  return o->size();
}
void EndLen(std::string* o, size_t start) {
  const size_t len = o->size() - start;
  if (len < 0x80) {
    (*o)[start - 1] = static_cast<char>(len);
    return;
  }
  char v[10];
  const size_t n = static_cast<size_t>(protowire::WriteVarint(v, len) - v);
  o->insert(start, n - 1, '\0');
  std::memcpy(o->data() + start - 1, v, n);
}

void PutAnyValue(std::string* o, const Value& v, int depth = 1);

void PutKeyValue(std::string* o, int field, const std::string& k, const Value& v, int depth = 1) {
  size_t kv = BeginLen(o, field);
  if (!k.empty()) PutString(o, 1, k);
  size_t av = BeginLen(o, 2);
  PutAnyValue(o, v, depth);
  EndLen(o, av);
  EndLen(o, kv);
}

// AnyValue: string_value 1, bool_value 2, int_value 3, double_value 4, array_value 5
// (ArrayValue.values 1), kvlist_value 6 (KeyValueList.values 1), bytes_value 7.
// Values nested deeper than this (maps and lists in maps and lists) are replaced by a
// string saying so: a record must stay within protobuf's 100 nested messages (a map
// level is three; a record starts five deep), or no parser downstream could decode its
// batch. The parsers never build deeper values (json_parser stops at 30 levels).
constexpr int kMaxValueDepth = 30;
constexpr char kTooDeep[] = "[value nested too deeply]";

void PutAnyValue(std::string* o, const Value& v, int depth) {
  if (depth > kMaxValueDepth && (v.map() != nullptr || std::holds_alternative<ValueList>(v.v))) {
    PutString(o, 1, kTooDeep);
    return;
  }
  struct Visitor {
    std::string* o;
    int depth;
    void operator()(const std::monostate&) const {}
    void operator()(const std::string& s) const { PutString(o, 1, s); }
    void operator()(bool b) const {
      PutTag(o, 2, kVarint);
      o->push_back(b ? 1 : 0);
    }
    void operator()(int64_t i) const {
      PutTag(o, 3, kVarint);
      PutVarint(o, static_cast<uint64_t>(i));
    }
    void operator()(double d) const {
      uint64_t bits;
      std::memcpy(&bits, &d, 8);
      PutTag(o, 4, kFixed64);
      PutFixed64(o, bits);
    }
    void operator()(const pdata::Bytes& b) const {
      PutLen(o, 7, b.data.size());
      o->append(b.data);
    }
    void operator()(const ValueList& l) const {
      size_t arr = BeginLen(o, 5);
      for (const auto& e : l) {
        size_t ev = BeginLen(o, 1);
        PutAnyValue(o, e, depth + 1);
        EndLen(o, ev);
      }
      EndLen(o, arr);
    }
    void operator()(const ValueMap& m) const {
      size_t kvl = BeginLen(o, 6);
      for (const auto& [k, e] : m) PutKeyValue(o, 1, k, e, depth + 1);
      EndLen(o, kvl);
    }
  };
  std::visit(Visitor{o, depth}, v.v);
}

// LogRecord fields.
constexpr int kTime = 1, kSeverityNumber = 2, kSeverityText = 3, kBody = 5, kAttributes = 6, kFlags = 8, kTraceId = 9,
              kSpanId = 10, kObservedTime = 11;
// ScopeLogs.log_records, ResourceLogs.scope_logs, ExportLogsServiceRequest.resource_logs.
constexpr int kLogRecords = 2, kScopeLogs = 2, kResourceLogs = 1;

}  // namespace

void WireLogsBuilder::EncodeAttributes(const ValueMap& m, std::string* out) {
  for (const auto& [k, v] : m) PutKeyValue(out, kAttributes, k, v);
}

WireLogsBuilder::WireLogsBuilder(const ValueMap& resource, std::string_view scope_name) {
  std::string attrs;
  for (const auto& [k, v] : resource) PutKeyValue(&attrs, 1, k, v);  // Resource.attributes
  PutLen(&resource_, 1, attrs.size());                               // ResourceLogs.resource
  resource_.append(attrs);
  std::string scope;
  PutString(&scope, 1, scope_name);  // InstrumentationScope.name
  PutLen(&head_, 1, scope.size());   // ScopeLogs.scope
  head_.append(scope);
  head_room_ = PrefixSize(0);
  records_buf_.resize(head_room_);
}

void WireLogsBuilder::FinishLine() {
  line_pending_ = false;
  const size_t body = LenFieldSize(line_.size());
  const size_t len = (line_time_ != 0 ? 9 : 0) + LenFieldSize(body) + line_attrs_.size();
  PutLen(&records_buf_, kLogRecords, len);
  PutLen(&records_buf_, kBody, body);
  PutLen(&records_buf_, line_bytes_ ? 7 : 1, line_.size());
  records_buf_.append(line_);
  records_buf_.append(line_attrs_);
  if (line_time_ != 0) {
    PutTag(&records_buf_, kObservedTime, kFixed64);
    PutFixed64(&records_buf_, line_time_);
  }
}

std::string* WireLogsBuilder::AddLine(uint64_t observed_time_ns, std::string_view attrs_wire, bool bytes) {
  if (line_pending_) FinishLine();
  line_pending_ = true;
  line_bytes_ = bytes;
  line_time_ = observed_time_ns;
  line_attrs_.assign(attrs_wire);
  line_.clear();
  ++records_;
  return &line_;
}

void WireLogsBuilder::AddEncoded(uint64_t observed_time_ns, std::string_view attrs_wire,
                                 const operators::DirectRecord& r) {
  if (line_pending_) FinishLine();
  const size_t sev = r.severity_number != 0 ? 1 + VarintSize(static_cast<uint64_t>(int64_t{r.severity_number})) : 0;
  const size_t len =
      (r.time_ns != 0 ? 9 : 0) + sev + (r.severity_text.empty() ? 0 : LenFieldSize(r.severity_text.size())) +
      (r.body.empty() ? 0 : LenFieldSize(r.body.size())) + attrs_wire.size() + (observed_time_ns != 0 ? 9 : 0);
  std::string* o = &records_buf_;
  PutLen(o, kLogRecords, len);
  if (r.time_ns != 0) {
    PutTag(o, kTime, kFixed64);
    PutFixed64(o, r.time_ns);
  }
  if (sev != 0) {
    PutTag(o, kSeverityNumber, kVarint);
    PutVarint(o, static_cast<uint64_t>(int64_t{r.severity_number}));
  }
  if (!r.severity_text.empty()) {
    PutLen(o, kSeverityText, r.severity_text.size());  // from a JSON string or a value's text: valid UTF-8
    o->append(r.severity_text);
  }
  if (!r.body.empty()) {
    PutLen(o, kBody, r.body.size());
    o->append(r.body);
  }
  o->append(attrs_wire);
  if (observed_time_ns != 0) {
    PutTag(o, kObservedTime, kFixed64);
    PutFixed64(o, observed_time_ns);
  }
  ++records_;
}

void WireLogsBuilder::Add(pdata::LogRecord&& r) {
  if (line_pending_) FinishLine();
  std::string* o = &records_buf_;
  // A record is rarely shorter than 128 bytes: two bytes for its length up front.
  PutTag(o, kLogRecords, kLen);
  o->append(2, '\x80');
  const size_t start = o->size();
  if (r.time_ns != 0) {
    PutTag(o, kTime, kFixed64);
    PutFixed64(o, r.time_ns);
  }
  if (r.severity_number != 0) {
    PutTag(o, kSeverityNumber, kVarint);
    PutVarint(o, static_cast<uint64_t>(static_cast<int64_t>(r.severity_number)));
  }
  if (!r.severity_text.empty()) PutString(o, kSeverityText, r.severity_text);
  if (!r.body.empty()) {
    size_t body = BeginLen(o, kBody);
    PutAnyValue(o, r.body);
    EndLen(o, body);
  }
  for (const auto& [k, v] : r.attributes) PutKeyValue(o, kAttributes, k, v);
  if (r.flags != 0) {
    PutTag(o, kFlags, kFixed32);
    char b[4];
    std::memcpy(b, &r.flags, 4);
    o->append(b, 4);
  }
  if ((!r.trace_id.empty() && r.trace_id.size() != 16) || (!r.span_id.empty() && r.span_id.size() != 8)) {
    ++invalid_ids_;  // as ScanRequest counts them for logs
  }
  if (!r.trace_id.empty()) {
    PutLen(o, kTraceId, r.trace_id.size());
    o->append(r.trace_id);
  }
  if (!r.span_id.empty()) {
    PutLen(o, kSpanId, r.span_id.size());
    o->append(r.span_id);
  }
  if (r.observed_time_ns != 0) {
    PutTag(o, kObservedTime, kFixed64);
    PutFixed64(o, r.observed_time_ns);
  }
  const size_t len = o->size() - start;
  const size_t n = VarintSize(len);
  if (n == 2) {
    (*o)[start - 2] = static_cast<char>(len | 0x80);
    (*o)[start - 1] = static_cast<char>(len >> 7);
  } else {
    std::string v;
    PutVarint(&v, len);
    o->replace(start - 2, 2, v);
  }
  ++records_;
}

size_t WireLogsBuilder::PrefixSize(size_t records_bytes) const {
  const size_t scope_logs = head_.size() + records_bytes;
  return LenFieldSize(resource_.size() + LenFieldSize(scope_logs)) - records_bytes;
}

absl::StatusOr<pdata::Logs> WireLogsBuilder::Build() {
  if (line_pending_) FinishLine();
  const size_t records_bytes = records_buf_.size() - head_room_;
  const size_t scope_logs = head_.size() + records_bytes;
  const size_t resource_logs = resource_.size() + LenFieldSize(scope_logs);
  std::string out;
  if (PrefixSize(records_bytes) == head_room_) {
    // The room left in front of the records fits the request's head: no copy.
    std::string prefix;
    PutLen(&prefix, kResourceLogs, resource_logs);
    prefix.append(resource_);
    PutLen(&prefix, kScopeLogs, scope_logs);
    prefix.append(head_);
    std::memcpy(records_buf_.data(), prefix.data(), prefix.size());
    out = std::move(records_buf_);
    records_buf_ = std::string();
  } else {
    out.reserve(LenFieldSize(resource_logs));
    PutLen(&out, kResourceLogs, resource_logs);
    out.append(resource_);
    PutLen(&out, kScopeLogs, scope_logs);
    out.append(head_);
    out.append(records_buf_, head_room_);
  }
  // The next batch is probably as large: as much reserved, and room for the head of a
  // request of that size.
  last_bytes_ = records_bytes;
  head_room_ = PrefixSize(last_bytes_);
  records_buf_.clear();
  records_buf_.reserve(head_room_ + last_bytes_ + last_bytes_ / 8);
  records_buf_.resize(head_room_);
  const size_t records = records_, invalid = invalid_ids_;
  records_ = 0;
  invalid_ids_ = 0;
  return pdata::Logs::FromTrustedProto(std::move(out), records, invalid);
}

}  // namespace outrigger::receivers::filelog
