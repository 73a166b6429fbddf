#include "collector/pdata/wire_scan.h"

#include <google/protobuf/descriptor.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "absl/base/thread_annotations.h"

#include "collector/common/strings.h"

namespace outrigger::pdata {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;

constexpr int kMaxDepth = 100;  // protobuf's default recursion limit

enum class Record { kNone, kSpan, kPoint, kLog };

// What a length-delimited field is, decided once per message type from its descriptor
// (so the scan asks no FieldDescriptor: its type() goes through a call_once each time).
enum class Kind : uint8_t {
  kUnknown,   // not a field of this message: kept as is
  kOther,     // bytes, or a scalar sent length-delimited: not looked into
  kMessage,   // scanned, with children[number]
  kString,    // UTF-8, checked
  kPacked64,  // packed fixed64/sfixed64/double: a multiple of 8 bytes
  kPacked32,  // packed fixed32/sfixed32/float: a multiple of 4 bytes
  kPackedVarint,
  kTraceId,  // a record's ids (bytes): length and all-zeros noted
  kSpanId,
  kParentSpanId,
};

// What the scanner needs to know of a message type, by field number. OTLP's field
// numbers are small: a field numbered kMaxField or more is scanned as unknown.
constexpr uint32_t kMaxField = 64;
struct Table {
  std::array<Kind, kMaxField> kinds{};                     // index: field number; kUnknown (0) where none
  std::array<const Table*, kMaxField> children{};          // for message fields
  std::array<const FieldDescriptor*, kMaxField> fields{};  // for error messages
  Record record = Record::kNone;
  Kind KindOf(uint32_t n) const { return n < kMaxField ? kinds[n] : Kind::kUnknown; }
};

Kind KindOf(const FieldDescriptor* f, Record record, int trace_id, int span_id, int parent_span_id) {
  switch (f->type()) {
    case FieldDescriptor::TYPE_MESSAGE:
      return Kind::kMessage;
    case FieldDescriptor::TYPE_STRING:
      return Kind::kString;
    case FieldDescriptor::TYPE_BYTES:
      if (record == Record::kNone) return Kind::kOther;
      if (f->number() == trace_id) return Kind::kTraceId;
      if (f->number() == span_id) return Kind::kSpanId;
      if (f->number() == parent_span_id) return Kind::kParentSpanId;
      return Kind::kOther;
    default:
      break;
  }
  if (!f->is_packable()) return Kind::kOther;
  switch (f->type()) {
    case FieldDescriptor::TYPE_DOUBLE:
    case FieldDescriptor::TYPE_FIXED64:
    case FieldDescriptor::TYPE_SFIXED64:
      return Kind::kPacked64;
    case FieldDescriptor::TYPE_FLOAT:
    case FieldDescriptor::TYPE_FIXED32:
    case FieldDescriptor::TYPE_SFIXED32:
      return Kind::kPacked32;
    default:
      return Kind::kPackedVarint;
  }
}

class Tables {
 public:
  const Table* For(const Descriptor* d) {
    std::lock_guard<std::mutex> lock(mu_);
    return Build(d);
  }

 private:
  const Table* Build(const Descriptor* d) {
    auto it = tables_.find(d);
    if (it != tables_.end()) return it->second.get();
    auto& t = tables_[d];
    t = std::make_unique<Table>();
    Table* table = t.get();
    int trace_id = 0, span_id = 0, parent_span_id = 0;  // id field numbers (records only)
    const std::string& name = d->full_name();
    if (name == "opentelemetry.proto.trace.v1.Span") {
      table->record = Record::kSpan;
      trace_id = 1, span_id = 2, parent_span_id = 4;
    } else if (name == "opentelemetry.proto.logs.v1.LogRecord") {
      table->record = Record::kLog;
      trace_id = 9, span_id = 10;
    } else if (name == "opentelemetry.proto.metrics.v1.NumberDataPoint" ||
               name == "opentelemetry.proto.metrics.v1.HistogramDataPoint" ||
               name == "opentelemetry.proto.metrics.v1.ExponentialHistogramDataPoint" ||
               name == "opentelemetry.proto.metrics.v1.SummaryDataPoint") {
      table->record = Record::kPoint;
    }
    for (int i = 0; i < d->field_count(); ++i) {
      const FieldDescriptor* f = d->field(i);
      const auto n = static_cast<size_t>(f->number());
      if (n >= kMaxField) continue;  // none in OTLP
      table->fields[n] = f;
      table->kinds[n] = KindOf(f, table->record, trace_id, span_id, parent_span_id);
    }
    for (int i = 0; i < d->field_count(); ++i) {
      const FieldDescriptor* f = d->field(i);
      if (f->type() == FieldDescriptor::TYPE_MESSAGE && static_cast<uint32_t>(f->number()) < kMaxField) {
        table->children[static_cast<size_t>(f->number())] = Build(f->message_type());
      }
    }
    return table;
  }
  std::mutex mu_;
  std::unordered_map<const Descriptor*, std::unique_ptr<Table>> tables_ ABSL_GUARDED_BY(mu_);
};

Tables& AllTables() {
  static Tables* t = new Tables();
  return *t;
}

// Every byte or'ed together, 8 bytes at a time (the last 8 overlapping what was read), so
// a short string or an id costs a few loads: 0 for all zeros, no high bit for ASCII.
uint64_t OrOfBytes(const uint8_t* p, size_t n) {
  uint64_t acc = 0;
  if (n < 8) {
    for (size_t i = 0; i < n; ++i) acc |= p[i];
    return acc;
  }
  uint64_t v;
  for (size_t i = 0; i + 8 <= n; i += 8) {
    std::memcpy(&v, p + i, 8);
    acc |= v;
  }
  std::memcpy(&v, p + n - 8, 8);
  return acc | v;
}

bool Ascii(const uint8_t* p, const uint8_t* end) {
  return (OrOfBytes(p, static_cast<size_t>(end - p)) & 0x8080808080808080ull) == 0;
}

bool ValidUtf8(const uint8_t* p, const uint8_t* end) {
  if (Ascii(p, end)) return true;  // most strings: keys, names, values
  while (p < end) {
    // ASCII fast path, 8 bytes at a time.
    while (end - p >= 8) {
      uint64_t v;
      std::memcpy(&v, p, 8);
      if (v & 0x8080808080808080ull) break;
      p += 8;
    }
    if (p >= end) break;
    uint8_t c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    int n;
    uint32_t cp;
    if ((c & 0xe0) == 0xc0) {
      n = 1;
      cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      n = 2;
      cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      n = 3;
      cp = c & 0x07;
    } else
      return false;
    if (end - p <= n) return false;
    for (int i = 1; i <= n; ++i) {
      if ((p[i] & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (p[i] & 0x3f);
    }
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
        (cp >= 0xd800 && cp <= 0xdfff)) {
      return false;
    }
    p += n + 1;
  }
  return true;
}

class Scanner {
 public:
  explicit Scanner(ScanResult* r) : r_(r) {}

  bool Message(const uint8_t* p, const uint8_t* end, const Table& t, int depth) {
    if (depth > kMaxDepth) return Fail("nested too deeply");
    size_t trace_len = 0, span_len = 0, parent_len = 0;
    bool trace_zero = true, span_zero = true;
    while (p < end) {
      uint64_t tag;
      if (*p < 0x80) {  // a one-byte tag: fields 1 to 15
        tag = *p++;
      } else if (!Varint(&p, end, &tag)) {
        return Fail("truncated field tag");
      }
      const uint32_t number = static_cast<uint32_t>(tag >> 3);
      if (number == 0 || tag > 0xffffffffull) return Fail("invalid field number 0");
      switch (tag & 7) {
        case 0: {
          uint64_t v;
          if (!Varint(&p, end, &v)) return Fail("truncated varint");
          break;
        }
        case 1:
          if (end - p < 8) return Fail("truncated fixed64");
          p += 8;
          break;
        case 5:
          if (end - p < 4) return Fail("truncated fixed32");
          p += 4;
          break;
        case 2: {
          uint64_t len;
          if (p < end && *p < 0x80) {
            len = *p++;
          } else if (!Varint(&p, end, &len)) {
            return Fail("truncated length");
          }
          if (len > static_cast<uint64_t>(end - p)) return Fail("length beyond the end of the message");
          const uint8_t* v = p;
          p += len;
          switch (t.KindOf(number)) {
            case Kind::kUnknown:
            case Kind::kOther:
              break;
            case Kind::kMessage:
              if (!Message(v, p, *t.children[number], depth + 1)) return false;
              break;
            case Kind::kString:
              if (!ValidUtf8(v, p))
                return Fail(StrCat("invalid UTF-8 in string field ", t.fields[number]->full_name()));
              break;
            case Kind::kPacked64:
              if (len % 8 != 0) return FailPacked(t, number);
              break;
            case Kind::kPacked32:
              if (len % 4 != 0) return FailPacked(t, number);
              break;
            case Kind::kPackedVarint:
              while (v < p) {
                uint64_t x;
                if (!Varint(&v, p, &x)) return FailPacked(t, number);
              }
              break;
            case Kind::kTraceId:
              trace_len = len;
              trace_zero = OrOfBytes(v, len) == 0;
              break;
            case Kind::kSpanId:
              span_len = len;
              span_zero = OrOfBytes(v, len) == 0;
              break;
            case Kind::kParentSpanId:
              parent_len = len;
              break;
          }
          break;
        }
        case 3:
        case 4:
          return Fail("groups are not used by OTLP");
        default:
          return Fail("invalid wire type");
      }
    }
    if (t.record != Record::kNone) {
      ++r_->items;
      bool bad;
      if (t.record == Record::kSpan) {
        bad = trace_len != 16 || span_len != 8 || trace_zero || span_zero || (parent_len != 0 && parent_len != 8);
      } else if (t.record == Record::kLog) {
        bad = (trace_len != 0 && trace_len != 16) || (span_len != 0 && span_len != 8);
      } else {
        bad = false;
      }
      if (bad) ++r_->invalid_ids;
    }
    return true;
  }

 private:
  bool FailPacked(const Table& t, uint32_t number) {
    return Fail(StrCat("malformed packed field ", t.fields[number]->full_name()));
  }
  static bool Varint(const uint8_t** p, const uint8_t* end, uint64_t* out) {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (*p >= end) return false;
      uint8_t b = *(*p)++;
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) {
        *out = v;
        return true;
      }
    }
    return false;
  }
  bool Fail(std::string_view why) {
    r_->ok = false;
    if (r_->error.empty()) r_->error = std::string(why);
    return false;
  }
  ScanResult* r_;
};

}  // namespace

ScanResult ScanRequest(std::string_view bytes, const Descriptor* request_type) {
  ScanResult r;
  const Table* t = AllTables().For(request_type);
  const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
  r.ok = Scanner(&r).Message(p, p + bytes.size(), *t, 0);
  return r;
}

}  // namespace outrigger::pdata
