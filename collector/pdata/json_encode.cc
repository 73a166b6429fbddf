#include "collector/pdata/json_encode.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <vector>

#include "absl/strings/escaping.h"
#include "collector/common/json.h"
#include "collector/common/strings.h"
#include "opentelemetry/proto/collector/logs/v1/logs_service.pb.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"

namespace outrigger::pdata {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Reflection;

bool IsIdField(const FieldDescriptor& f) {
  return f.type() == FieldDescriptor::TYPE_BYTES &&
         (f.name() == "trace_id" || f.name() == "span_id" || f.name() == "parent_span_id");
}

// Shortest decimal that reads back as the same double (protobuf's SimpleDtoa).
void AppendDouble(std::string* out, double v) {
  if (std::isnan(v)) {
    out->append("\"NaN\"");
  } else if (std::isinf(v)) {
    out->append(v > 0 ? "\"Infinity\"" : "\"-Infinity\"");
  } else {
    char buf[32];
    int n = std::snprintf(buf, sizeof(buf), "%.15g", v);
    if (std::strtod(buf, nullptr) != v) n = std::snprintf(buf, sizeof(buf), "%.17g", v);
    out->append(buf, static_cast<size_t>(n));
  }
}

void AppendFloat(std::string* out, float v) {
  if (std::isnan(v) || std::isinf(v)) return AppendDouble(out, v);
  char buf[32];
  int n = std::snprintf(buf, sizeof(buf), "%.6g", static_cast<double>(v));
  if (std::strtof(buf, nullptr) != v) n = std::snprintf(buf, sizeof(buf), "%.9g", static_cast<double>(v));
  out->append(buf, static_cast<size_t>(n));
}

class Encoder {
 public:
  Encoder(size_t max_bytes, const JsonOut& out) : max_(max_bytes), out_(out) { buf_.reserve(kJsonChunk + 4096); }

  absl::Status status() const { return status_; }
  bool ok() const { return status_.ok(); }

  // Hands the buffer over when a chunk is full (or `final`).
  void Drain(bool final) {
    if (!ok() || (buf_.size() < kJsonChunk && !final)) return;
    total_ += buf_.size();
    if (max_ > 0 && total_ > max_) {
      status_ = absl::ResourceExhaustedError(
          StrCat("the request encodes to more than ", max_, " bytes of OTLP/JSON (the limit)"));
      return;
    }
    if (!buf_.empty()) status_ = out_(buf_);
    buf_.clear();
  }

  void Msg(const google::protobuf::Message& m) {
    const Reflection* r = m.GetReflection();
    fields_.clear();
    r->ListFields(m, &fields_);
    // ListFields' vector is reused by the recursion: this level's fields are copied.
    std::vector<const FieldDescriptor*> fields(fields_);
    buf_.push_back('{');
    bool first = true;
    for (const FieldDescriptor* f : fields) {
      if (!ok()) return;
      if (!first) buf_.push_back(',');
      first = false;
      AppendJsonString(&buf_, f->json_name());
      buf_.push_back(':');
      if (f->is_repeated()) {
        buf_.push_back('[');
        const int n = r->FieldSize(m, f);
        for (int i = 0; i < n && ok(); ++i) {
          if (i > 0) buf_.push_back(',');
          Value(m, *f, i);
          Drain(false);
        }
        buf_.push_back(']');
      } else {
        Value(m, *f, -1);
      }
      Drain(false);
    }
    buf_.push_back('}');
  }

  std::string& buf() { return buf_; }

  // The message encoded in `bytes`, of type `d`, read straight from the wire: nothing is
  // decoded into messages (decoding costs ~16-28 times the encoded size: 145 bytes per
  // 6-byte attribute). The output is the same as Msg's on the decoded message: fields
  // in field-number order, a repeated field's elements together, defaults left out
  // for fields without presence, the last occurrence of a singular field. Bytes that
  // do not parse end the message (a received request was checked by ScanRequest).
  void Wire(std::string_view bytes, const google::protobuf::Descriptor& d) {
    buf_.push_back('{');
    bool first = true;
    auto [it, added] = sorted_fields_.try_emplace(&d);
    std::vector<const FieldDescriptor*>& fields = it->second;
    if (added) {
      for (int i = 0; i < d.field_count(); ++i) fields.push_back(d.field(i));
      std::sort(fields.begin(), fields.end(),
                [](const FieldDescriptor* a, const FieldDescriptor* b) { return a->number() < b->number(); });
    }
    for (const FieldDescriptor* f : fields) {
      if (!ok()) return;
      WireField(bytes, *f, &first);
      Drain(false);
    }
    buf_.push_back('}');
  }

 private:
  struct WireValue {
    int wire_type = 0;
    uint64_t u = 0;         // varint, fixed32, fixed64
    std::string_view data;  // length-delimited
  };

  static bool ReadVarint(std::string_view* in, uint64_t* v) {
    *v = 0;
    for (int shift = 0; shift < 64 && !in->empty(); shift += 7) {
      const uint8_t b = static_cast<uint8_t>(in->front());
      in->remove_prefix(1);
      *v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return true;
    }
    return false;
  }
  static bool ReadFixed(std::string_view* in, int n, uint64_t* v) {
    if (in->size() < static_cast<size_t>(n)) return false;
    *v = 0;
    for (int i = 0; i < n; ++i) *v |= static_cast<uint64_t>(static_cast<uint8_t>((*in)[i])) << (8 * i);
    in->remove_prefix(static_cast<size_t>(n));
    return true;
  }
  // Calls fn(value) for each occurrence of field `number` in the message, in order.
  template <typename Fn>
  static void ForEachOccurrence(std::string_view in, int number, Fn fn) {
    ForEachField(in, [&](int n, const WireValue& v) {
      if (n == number) fn(v);
    });
  }
  // Every field of the message, in wire order: fn(number, value).
  template <typename Fn>
  static void ForEachField(std::string_view in, Fn fn) {
    while (!in.empty()) {
      uint64_t tag;
      if (!ReadVarint(&in, &tag)) return;
      WireValue v;
      v.wire_type = static_cast<int>(tag & 7);
      const int n = static_cast<int>(tag >> 3);
      switch (v.wire_type) {
        case 0:
          if (!ReadVarint(&in, &v.u)) return;
          break;
        case 1:
          if (!ReadFixed(&in, 8, &v.u)) return;
          break;
        case 5:
          if (!ReadFixed(&in, 4, &v.u)) return;
          break;
        case 2: {
          uint64_t len;
          if (!ReadVarint(&in, &len) || len > in.size()) return;
          v.data = in.substr(0, static_cast<size_t>(len));
          in.remove_prefix(static_cast<size_t>(len));
          break;
        }
        default:
          return;  // groups: not in OTLP
      }
      fn(n, v);
    }
  }
  // The real oneof field `number` of `d` belongs to, or null.
  static const google::protobuf::OneofDescriptor* OneofOf(const google::protobuf::Descriptor& d, int number) {
    const FieldDescriptor* f = d.FindFieldByNumber(number);
    return f != nullptr ? f->real_containing_oneof() : nullptr;
  }
  // The number of the member of oneof `o` that occurs last (protobuf keeps that one), or 0.
  static int LastOneofMember(std::string_view in, const google::protobuf::OneofDescriptor& o) {
    int last = 0;
    ForEachField(in, [&](int n, const WireValue&) {
      for (int i = 0; i < o.field_count(); ++i) {
        if (o.field(i)->number() == n) last = n;
      }
    });
    return last;
  }
  // The scalar occurrences of a field, packed ones unpacked.
  template <typename Fn>
  static void ForEachScalar(std::string_view in, const FieldDescriptor& f, Fn fn) {
    const int want = f.cpp_type() == FieldDescriptor::CPPTYPE_DOUBLE || f.type() == FieldDescriptor::TYPE_FIXED64 ||
                             f.type() == FieldDescriptor::TYPE_SFIXED64
                         ? 1
                     : f.cpp_type() == FieldDescriptor::CPPTYPE_FLOAT || f.type() == FieldDescriptor::TYPE_FIXED32 ||
                             f.type() == FieldDescriptor::TYPE_SFIXED32
                         ? 5
                         : 0;
    ForEachOccurrence(in, f.number(), [&](const WireValue& v) {
      if (v.wire_type == want) {
        fn(v.u);
        return;
      }
      if (v.wire_type != 2) return;
      std::string_view packed = v.data;
      uint64_t u;
      while (!packed.empty()) {
        if (!(want == 0 ? ReadVarint(&packed, &u) : ReadFixed(&packed, want == 1 ? 8 : 4, &u))) return;
        fn(u);
      }
    });
  }
  void Scalar(const FieldDescriptor& f, uint64_t u) {
    switch (f.type()) {
      case FieldDescriptor::TYPE_INT32:
      case FieldDescriptor::TYPE_SFIXED32:
      case FieldDescriptor::TYPE_ENUM:
        buf_.append(std::to_string(static_cast<int32_t>(static_cast<uint32_t>(u))));
        return;
      case FieldDescriptor::TYPE_SINT32: {
        const uint32_t z = static_cast<uint32_t>(u);
        buf_.append(std::to_string(static_cast<int32_t>((z >> 1) ^ (~(z & 1) + 1))));
        return;
      }
      case FieldDescriptor::TYPE_UINT32:
      case FieldDescriptor::TYPE_FIXED32:
        buf_.append(std::to_string(static_cast<uint32_t>(u)));
        return;
      case FieldDescriptor::TYPE_INT64:
      case FieldDescriptor::TYPE_SFIXED64:
        buf_.append(StrCat("\"", static_cast<int64_t>(u), "\""));
        return;
      case FieldDescriptor::TYPE_SINT64:
        buf_.append(StrCat("\"", static_cast<int64_t>((u >> 1) ^ (~(u & 1) + 1)), "\""));
        return;
      case FieldDescriptor::TYPE_UINT64:
      case FieldDescriptor::TYPE_FIXED64:
        buf_.append(StrCat("\"", u, "\""));
        return;
      case FieldDescriptor::TYPE_BOOL:
        buf_.append(u != 0 ? "true" : "false");
        return;
      case FieldDescriptor::TYPE_DOUBLE: {
        double v;
        std::memcpy(&v, &u, sizeof(v));
        AppendDouble(&buf_, v);
        return;
      }
      case FieldDescriptor::TYPE_FLOAT: {
        float v;
        const uint32_t w = static_cast<uint32_t>(u);
        std::memcpy(&v, &w, sizeof(v));
        AppendFloat(&buf_, v);
        return;
      }
      default:
        buf_.append("null");
    }
  }
  void Delimited(const FieldDescriptor& f, std::string_view data) {
    if (f.type() == FieldDescriptor::TYPE_MESSAGE) {
      Wire(data, *f.message_type());
    } else if (f.type() == FieldDescriptor::TYPE_STRING) {
      AppendJsonString(&buf_, data);
    } else {
      buf_.push_back('"');
      buf_.append(IsIdField(f) ? absl::BytesToHexString(ToAbsl(data)) : absl::Base64Escape(ToAbsl(data)));
      buf_.push_back('"');
    }
  }
  void Key(const FieldDescriptor& f, bool* first) {
    if (!*first) buf_.push_back(',');
    *first = false;
    AppendJsonString(&buf_, f.json_name());
    buf_.push_back(':');
  }
  void WireField(std::string_view bytes, const FieldDescriptor& f, bool* first) {
    const bool delimited = f.type() == FieldDescriptor::TYPE_MESSAGE || f.type() == FieldDescriptor::TYPE_STRING ||
                           f.type() == FieldDescriptor::TYPE_BYTES;
    if (f.is_repeated()) {
      bool any = false;
      auto open = [&] {
        if (any) {
          buf_.push_back(',');
          return;
        }
        Key(f, first);
        buf_.push_back('[');
        any = true;
      };
      if (delimited) {
        ForEachOccurrence(bytes, f.number(), [&](const WireValue& v) {
          if (v.wire_type != 2 || !ok()) return;
          open();
          Delimited(f, v.data);
          Drain(false);
        });
      } else {
        ForEachScalar(bytes, f, [&](uint64_t u) {
          open();
          Scalar(f, u);
        });
      }
      if (any) buf_.push_back(']');
      return;
    }
    // Singular: the last occurrence, left out at its default unless the field has presence.
    // Of a oneof, only the member that occurs last (as protobuf's parser keeps).
    const auto* oneof = f.real_containing_oneof();
    if (oneof != nullptr && LastOneofMember(bytes, *oneof) != f.number()) return;
    bool found = false;
    WireValue last;
    std::string merged;  // a message given more than once: protobuf merges the occurrences
    if (f.type() == FieldDescriptor::TYPE_MESSAGE) {
      int count = 0;
      ForEachField(bytes, [&](int n, const WireValue& v) {
        if (n == f.number() && v.wire_type == 2) {
          if (++count == 2) merged.assign(last.data);
          if (count >= 2) merged.append(v.data);
          last = v;
          found = true;
        } else if (oneof != nullptr && n != f.number() && oneof == OneofOf(*f.containing_type(), n)) {
          count = 0;  // another member came between: what came before is cleared
          merged.clear();
        }
      });
      if (count >= 2) last.data = merged;
    } else if (delimited) {
      ForEachOccurrence(bytes, f.number(), [&](const WireValue& v) {
        if (v.wire_type == 2) {
          last = v;
          found = true;
        }
      });
    } else {
      ForEachScalar(bytes, f, [&](uint64_t u) {
        last.u = u;
        found = true;
      });
    }
    if (!found) return;
    if (!f.has_presence() && (delimited ? last.data.empty() : IsZero(f, last.u))) return;
    Key(f, first);
    if (delimited) {
      Delimited(f, last.data);
    } else {
      Scalar(f, last.u);
    }
  }
  // A scalar at its default (0, 0.0 but not -0.0, false).
  static bool IsZero(const FieldDescriptor& f, uint64_t u) {
    if (f.type() == FieldDescriptor::TYPE_FLOAT || f.type() == FieldDescriptor::TYPE_FIXED32 ||
        f.type() == FieldDescriptor::TYPE_SFIXED32) {
      return static_cast<uint32_t>(u) == 0;
    }
    if (f.type() == FieldDescriptor::TYPE_INT32 || f.type() == FieldDescriptor::TYPE_ENUM ||
        f.type() == FieldDescriptor::TYPE_UINT32 || f.type() == FieldDescriptor::TYPE_SINT32 ||
        f.type() == FieldDescriptor::TYPE_BOOL) {
      return static_cast<uint32_t>(u) == 0;
    }
    return u == 0;
  }

 public:
  // Field `f` of `m` (element `i` if repeated).
  void Value(const google::protobuf::Message& m, const FieldDescriptor& f, int i) {
    const Reflection* r = m.GetReflection();
    const bool rep = i >= 0;
    switch (f.cpp_type()) {
      case FieldDescriptor::CPPTYPE_INT32:
        buf_.append(std::to_string(rep ? r->GetRepeatedInt32(m, &f, i) : r->GetInt32(m, &f)));
        return;
      case FieldDescriptor::CPPTYPE_UINT32:
        buf_.append(std::to_string(rep ? r->GetRepeatedUInt32(m, &f, i) : r->GetUInt32(m, &f)));
        return;
      case FieldDescriptor::CPPTYPE_INT64:
        buf_.push_back('"');
        buf_.append(std::to_string(rep ? r->GetRepeatedInt64(m, &f, i) : r->GetInt64(m, &f)));
        buf_.push_back('"');
        return;
      case FieldDescriptor::CPPTYPE_UINT64:
        buf_.push_back('"');
        buf_.append(std::to_string(rep ? r->GetRepeatedUInt64(m, &f, i) : r->GetUInt64(m, &f)));
        buf_.push_back('"');
        return;
      case FieldDescriptor::CPPTYPE_DOUBLE:
        AppendDouble(&buf_, rep ? r->GetRepeatedDouble(m, &f, i) : r->GetDouble(m, &f));
        return;
      case FieldDescriptor::CPPTYPE_FLOAT:
        AppendFloat(&buf_, rep ? r->GetRepeatedFloat(m, &f, i) : r->GetFloat(m, &f));
        return;
      case FieldDescriptor::CPPTYPE_BOOL:
        buf_.append((rep ? r->GetRepeatedBool(m, &f, i) : r->GetBool(m, &f)) ? "true" : "false");
        return;
      case FieldDescriptor::CPPTYPE_ENUM:
        buf_.append(std::to_string(rep ? r->GetRepeatedEnumValue(m, &f, i) : r->GetEnumValue(m, &f)));
        return;
      case FieldDescriptor::CPPTYPE_STRING: {
        std::string scratch;
        const std::string& s =
            rep ? r->GetRepeatedStringReference(m, &f, i, &scratch) : r->GetStringReference(m, &f, &scratch);
        if (f.type() != FieldDescriptor::TYPE_BYTES) {
          AppendJsonString(&buf_, s);
        } else {
          buf_.push_back('"');
          buf_.append(IsIdField(f) ? absl::BytesToHexString(s) : absl::Base64Escape(s));
          buf_.push_back('"');
        }
        return;
      }
      case FieldDescriptor::CPPTYPE_MESSAGE:
        Msg(rep ? r->GetRepeatedMessage(m, &f, i) : r->GetMessage(m, &f));
        return;
    }
  }

 private:
  const size_t max_;
  const JsonOut& out_;
  std::string buf_;
  size_t total_ = 0;
  absl::Status status_;
  std::vector<const FieldDescriptor*> fields_;
  // Each message type's fields by number (the map's nodes do not move).
  std::map<const google::protobuf::Descriptor*, std::vector<const FieldDescriptor*>> sorted_fields_;
};

}  // namespace

template <typename Request>
const google::protobuf::Descriptor* RequestDescriptor(const Data<Request>&) {
  return Request::descriptor();
}

template <typename D>
absl::Status EncodeJsonFromWire(const D& d, size_t max_bytes, const JsonOut& out) {
  Encoder e(max_bytes, out);
  // One copy of the encoding (a received part's bytes as they came), no decoding.
  const std::string wire = d.ToProto();
  e.Wire(wire, *RequestDescriptor(d));
  e.Drain(true);
  return e.status();
}

template <typename D>
absl::Status EncodeJson(const D& d, size_t max_bytes, const JsonOut& out) {
  return EncodeJsonFromWire(d, max_bytes, out);
}

template <typename D>
absl::Status EncodeJsonFromMessages(const D& d, size_t max_bytes, const JsonOut& out) {
  Encoder e(max_bytes, out);
  // The request's one field (resource_spans, resource_metrics or resource_logs), with
  // the elements of every part.
  bool any = false;
  std::string& buf = e.buf();
  buf.push_back('{');
  d.ForEachRequest([&](const auto& req) {
    const google::protobuf::FieldDescriptor* f = req.GetDescriptor()->field(0);
    const google::protobuf::Reflection* r = req.GetReflection();
    const int n = r->FieldSize(req, f);
    for (int i = 0; i < n && e.ok(); ++i) {
      if (!any) {
        AppendJsonString(&buf, f->json_name());
        buf.append(":[");
        any = true;
      } else {
        buf.push_back(',');
      }
      e.Msg(r->GetRepeatedMessage(req, f, i));
      e.Drain(false);
    }
  });
  if (any) buf.push_back(']');
  buf.push_back('}');
  e.Drain(true);
  return e.status();
}

template absl::Status EncodeJson(const Traces&, size_t, const JsonOut&);
template absl::Status EncodeJson(const Metrics&, size_t, const JsonOut&);
template absl::Status EncodeJson(const Logs&, size_t, const JsonOut&);
template absl::Status EncodeJsonFromMessages(const Traces&, size_t, const JsonOut&);
template absl::Status EncodeJsonFromMessages(const Metrics&, size_t, const JsonOut&);
template absl::Status EncodeJsonFromMessages(const Logs&, size_t, const JsonOut&);

}  // namespace outrigger::pdata
