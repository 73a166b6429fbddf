#include "collector/pdata/json_encode.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include <cmath>
#include <cstdio>
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
};

}  // namespace

template <typename D>
absl::Status EncodeJson(const D& d, size_t max_bytes, const JsonOut& out) {
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

}  // namespace outrigger::pdata
