#include "collector/pdata/wire_scan.h"

#include <google/protobuf/descriptor.h>

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

// What the scanner needs to know of a message type, by field number.
struct Table {
  std::vector<const FieldDescriptor*> fields;  // index: field number
  std::vector<const Table*> children;          // for message fields
  Record record = Record::kNone;
  int trace_id = 0, span_id = 0, parent_span_id = 0;  // id field numbers (records only)
  const FieldDescriptor* Field(uint32_t n) const { return n < fields.size() ? fields[n] : nullptr; }
};

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
    int max = 0;
    for (int i = 0; i < d->field_count(); ++i) max = std::max(max, d->field(i)->number());
    table->fields.assign(static_cast<size_t>(max) + 1, nullptr);
    table->children.assign(static_cast<size_t>(max) + 1, nullptr);
    const std::string& name = d->full_name();
    if (name == "opentelemetry.proto.trace.v1.Span") {
      table->record = Record::kSpan;
      table->trace_id = 1, table->span_id = 2, table->parent_span_id = 4;
    } else if (name == "opentelemetry.proto.logs.v1.LogRecord") {
      table->record = Record::kLog;
      table->trace_id = 9, table->span_id = 10;
    } else if (name == "opentelemetry.proto.metrics.v1.NumberDataPoint" ||
               name == "opentelemetry.proto.metrics.v1.HistogramDataPoint" ||
               name == "opentelemetry.proto.metrics.v1.ExponentialHistogramDataPoint" ||
               name == "opentelemetry.proto.metrics.v1.SummaryDataPoint") {
      table->record = Record::kPoint;
    }
    for (int i = 0; i < d->field_count(); ++i) {
      const FieldDescriptor* f = d->field(i);
      table->fields[static_cast<size_t>(f->number())] = f;
    }
    for (int i = 0; i < d->field_count(); ++i) {
      const FieldDescriptor* f = d->field(i);
      if (f->type() == FieldDescriptor::TYPE_MESSAGE) {
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

bool ValidUtf8(const uint8_t* p, const uint8_t* end) {
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
      if (!Varint(&p, end, &tag)) return Fail("truncated field tag");
      const uint32_t number = static_cast<uint32_t>(tag >> 3);
      const int wire = static_cast<int>(tag & 7);
      if (number == 0 || tag > 0xffffffffull) return Fail("invalid field number 0");
      const FieldDescriptor* f = t.Field(number);
      switch (wire) {
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
          if (!Varint(&p, end, &len)) return Fail("truncated length");
          if (len > static_cast<uint64_t>(end - p)) return Fail("length beyond the end of the message");
          const uint8_t* v = p;
          p += len;
          if (f == nullptr) break;  // unknown field: kept as is
          if (f->type() == FieldDescriptor::TYPE_MESSAGE) {
            if (!Message(v, p, *t.children[number], depth + 1)) return false;
          } else if (f->type() == FieldDescriptor::TYPE_STRING) {
            if (!ValidUtf8(v, p)) return Fail(StrCat("invalid UTF-8 in string field ", f->full_name()));
          } else if (f->is_packable()) {
            if (!Packed(f, v, p)) return Fail(StrCat("malformed packed field ", f->full_name()));
          } else if (t.record != Record::kNone && f->type() == FieldDescriptor::TYPE_BYTES) {
            const int n = static_cast<int>(number);
            bool zero = true;
            for (const uint8_t* q = v; q < p; ++q) zero &= (*q == 0);
            if (n == t.trace_id) {
              trace_len = len;
              trace_zero = zero;
            } else if (n == t.span_id) {
              span_len = len;
              span_zero = zero;
            } else if (n == t.parent_span_id) {
              parent_len = len;
            }
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
  static bool Packed(const FieldDescriptor* f, const uint8_t* p, const uint8_t* end) {
    const size_t len = static_cast<size_t>(end - p);
    switch (f->type()) {
      case FieldDescriptor::TYPE_DOUBLE:
      case FieldDescriptor::TYPE_FIXED64:
      case FieldDescriptor::TYPE_SFIXED64:
        return len % 8 == 0;
      case FieldDescriptor::TYPE_FLOAT:
      case FieldDescriptor::TYPE_FIXED32:
      case FieldDescriptor::TYPE_SFIXED32:
        return len % 4 == 0;
      default:
        while (p < end) {
          uint64_t v;
          if (!Varint(&p, end, &v)) return false;
        }
        return true;
    }
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
