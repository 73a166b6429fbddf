#include "collector/otlp/wire.h"

#include <grpcpp/grpcpp.h>
#include <libdeflate.h>
#include <zlib.h>

#include <algorithm>
#include <ctime>
#include <new>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "collector/exporterhelper/exporterhelper.h"
#include "google/protobuf/io/coded_stream.h"

namespace outrigger::otlp {

absl::StatusOr<std::string> Gunzip(std::string_view in, uint64_t max_bytes) {
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 32) != Z_OK) {  // +32: gzip or zlib header, detected
    return absl::InternalError("zlib init failed");
  }
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  std::string out;
  char buf[64 * 1024];
  int ret;
  do {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof(buf);
    ret = inflate(&zs, Z_NO_FLUSH);
    if (ret != Z_OK && ret != Z_STREAM_END) {
      inflateEnd(&zs);
      return absl::InvalidArgumentError(StrCat("malformed gzip body: ", zs.msg ? zs.msg : "corrupt or truncated data"));
    }
    out.append(buf, sizeof(buf) - zs.avail_out);
    if (out.size() > max_bytes) {
      inflateEnd(&zs);
      return absl::ResourceExhaustedError(StrCat("decompressed body larger than the limit of ", max_bytes, " bytes"));
    }
    if (ret == Z_OK && zs.avail_in == 0 && zs.avail_out != 0) {
      inflateEnd(&zs);
      return absl::InvalidArgumentError("malformed gzip body: truncated");
    }
  } while (ret != Z_STREAM_END);
  inflateEnd(&zs);
  return out;
}

namespace {
// One compressor per thread, kept for the next body (allocating one costs more than
// compressing a small body: its match finder's tables are up to a few hundred KB).
libdeflate_compressor* KeptCompressor(int level) {
  struct Compressor {
    int level = 0;
    libdeflate_compressor* c = nullptr;
    ~Compressor() { libdeflate_free_compressor(c); }
  };
  thread_local Compressor kept;
  level = std::clamp(level, 1, 12);
  if (kept.c == nullptr || kept.level != level) {
    libdeflate_free_compressor(kept.c);
    kept.c = libdeflate_alloc_compressor(level);
    kept.level = level;
    if (kept.c == nullptr) throw std::bad_alloc();
  }
  return kept.c;
}
}  // namespace

size_t GzipBound(size_t in_size, int level) { return libdeflate_gzip_compress_bound(KeptCompressor(level), in_size); }

size_t GzipTo(std::string_view in, int level, char* out, size_t capacity) {
  return libdeflate_gzip_compress(KeptCompressor(level), in.data(), in.size(), out, capacity);
}

std::string Gzip(std::string_view in, int level) {
  std::string out;
  out.resize(GzipBound(in.size(), level));
  out.resize(GzipTo(in, level, out.data(), out.size()));
  return out;
}

int HttpStatusFor(const absl::Status& st) {
  switch (st.code()) {
    case absl::StatusCode::kOk:
      return 200;
    case absl::StatusCode::kResourceExhausted:
      return 429;
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kAborted:
      return 503;
    case absl::StatusCode::kInvalidArgument:
      return 400;
    case absl::StatusCode::kUnimplemented:
      return 404;
    default:
      return 500;
  }
}

bool HttpRetryable(int code) { return code == 429 || code == 502 || code == 503 || code == 504; }

std::optional<absl::Duration> ParseRetryAfter(std::string_view value) {
  int64_t secs;
  if (absl::SimpleAtoi(ToAbsl(value), &secs) && secs >= 0) return absl::Seconds(secs);
  std::tm tm{};
  std::string v(value);
  if (strptime(v.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm) != nullptr) {
    absl::Time t = absl::FromTimeT(timegm(&tm));
    absl::Duration d = t - absl::Now();
    return d > absl::ZeroDuration() ? d : absl::ZeroDuration();
  }
  return std::nullopt;
}

namespace {

grpc::StatusCode GrpcCode(absl::StatusCode c) { return static_cast<grpc::StatusCode>(static_cast<int>(c)); }

// google.rpc.Status{code=1, message=2, details=3: Any{type_url=1, value=2}} carrying
// google.rpc.RetryInfo{retry_delay=1: Duration{seconds=1, nanos=2}}: encoded by hand,
// it is four small messages.
void PutTag(std::string* out, int field, int wire) { out->push_back(static_cast<char>((field << 3) | wire)); }
void PutVarint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}
void PutBytes(std::string* out, int field, std::string_view b) {
  PutTag(out, field, 2);
  PutVarint(out, b.size());
  out->append(b);
}
constexpr char kRetryInfoType[] = "type.googleapis.com/google.rpc.RetryInfo";

std::string EncodeStatusWithRetry(int code, std::string_view message, absl::Duration delay) {
  std::string dur;
  int64_t secs = absl::ToInt64Seconds(delay);
  int64_t nanos = absl::ToInt64Nanoseconds(delay - absl::Seconds(secs));
  if (secs) {
    PutTag(&dur, 1, 0);
    PutVarint(&dur, static_cast<uint64_t>(secs));
  }
  if (nanos) {
    PutTag(&dur, 2, 0);
    PutVarint(&dur, static_cast<uint64_t>(nanos));
  }
  std::string retry;
  PutBytes(&retry, 1, dur);
  std::string any;
  PutBytes(&any, 1, kRetryInfoType);
  PutBytes(&any, 2, retry);
  std::string st;
  PutTag(&st, 1, 0);
  PutVarint(&st, static_cast<uint64_t>(code));
  PutBytes(&st, 2, message);
  PutBytes(&st, 3, any);
  return st;
}

// Walks a message, calling fn(field, wire type, reader) for each field; fn reads
// length-delimited values it wants and returns false to skip them.
using google::protobuf::io::CodedInputStream;
bool ReadLenDelimited(CodedInputStream& in, std::string* out) {
  uint32_t len;
  return in.ReadVarint32(&len) && in.ReadString(out, static_cast<int>(len));
}
bool SkipField(CodedInputStream& in, uint32_t tag) {
  switch (tag & 7) {
    case 0: {
      uint64_t v;
      return in.ReadVarint64(&v);
    }
    case 1: {
      uint64_t v;
      return in.ReadLittleEndian64(&v);
    }
    case 2: {
      std::string s;
      return ReadLenDelimited(in, &s);
    }
    case 5: {
      uint32_t v;
      return in.ReadLittleEndian32(&v);
    }
    default:
      return false;
  }
}

std::optional<absl::Duration> RetryDelayFromDetails(const std::string& details) {
  CodedInputStream st(reinterpret_cast<const uint8_t*>(details.data()), static_cast<int>(details.size()));
  uint32_t tag;
  while ((tag = st.ReadTag()) != 0) {
    if (tag != ((3 << 3) | 2)) {
      if (!SkipField(st, tag)) return std::nullopt;
      continue;
    }
    std::string any;
    if (!ReadLenDelimited(st, &any)) return std::nullopt;
    CodedInputStream a(reinterpret_cast<const uint8_t*>(any.data()), static_cast<int>(any.size()));
    std::string type, value;
    uint32_t t;
    while ((t = a.ReadTag()) != 0) {
      if (t == ((1 << 3) | 2)) {
        if (!ReadLenDelimited(a, &type)) return std::nullopt;
      } else if (t == ((2 << 3) | 2)) {
        if (!ReadLenDelimited(a, &value)) return std::nullopt;
      } else if (!SkipField(a, t))
        return std::nullopt;
    }
    if (type != kRetryInfoType) continue;
    CodedInputStream r(reinterpret_cast<const uint8_t*>(value.data()), static_cast<int>(value.size()));
    std::string dur;
    while ((t = r.ReadTag()) != 0) {
      if (t == ((1 << 3) | 2)) {
        if (!ReadLenDelimited(r, &dur)) return std::nullopt;
      } else if (!SkipField(r, t))
        return std::nullopt;
    }
    CodedInputStream d(reinterpret_cast<const uint8_t*>(dur.data()), static_cast<int>(dur.size()));
    uint64_t secs = 0, nanos = 0;
    while ((t = d.ReadTag()) != 0) {
      if (t == ((1 << 3) | 0)) {
        if (!d.ReadVarint64(&secs)) return std::nullopt;
      } else if (t == ((2 << 3) | 0)) {
        if (!d.ReadVarint64(&nanos)) return std::nullopt;
      } else if (!SkipField(d, t))
        return std::nullopt;
    }
    return absl::Seconds(static_cast<int64_t>(secs)) + absl::Nanoseconds(static_cast<int64_t>(nanos));
  }
  return std::nullopt;
}

}  // namespace

grpc::Status ToGrpc(const absl::Status& st, absl::Duration retry_after) {
  if (st.ok()) return grpc::Status::OK;
  std::string msg(st.message());
  if (exporterhelper::IsRetryable(st) && retry_after > absl::ZeroDuration()) {
    return grpc::Status(GrpcCode(st.code()), msg, EncodeStatusWithRetry(static_cast<int>(st.code()), msg, retry_after));
  }
  return grpc::Status(GrpcCode(st.code()), msg);
}

absl::Status FromGrpc(const grpc::Status& st) {
  if (st.ok()) return absl::OkStatus();
  std::string msg = StrCat("gRPC ", static_cast<int>(st.error_code()), ": ", st.error_message());
  absl::StatusCode code;
  // OTLP/gRPC: these codes are retryable; everything else is permanent.
  switch (st.error_code()) {
    case grpc::StatusCode::CANCELLED:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
    case grpc::StatusCode::ABORTED:
    case grpc::StatusCode::OUT_OF_RANGE:
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DATA_LOSS:
      code = absl::StatusCode::kUnavailable;
      break;
    case grpc::StatusCode::RESOURCE_EXHAUSTED: {
      // The spec retries this only with RetryInfo; we also retry without it, on our own
      // backoff, because a server that is out of capacity for now is not refusing the
      // data for good (and dropping it would lose it).
      auto delay = RetryDelayFromDetails(st.error_details());
      if (!delay) return absl::ResourceExhaustedError(msg);
      return exporterhelper::WithRetryDelay(absl::ResourceExhaustedError(msg), *delay);
    }
    default:
      code = absl::StatusCode::kInvalidArgument;
      msg = StrCat("permanent error, ", msg);
  }
  absl::Status out(code, msg);
  if (auto delay = RetryDelayFromDetails(st.error_details())) {
    out = exporterhelper::WithRetryDelay(out, *delay);
  }
  return out;
}

}  // namespace outrigger::otlp

#include <google/protobuf/util/json_util.h>

#include "nlohmann/json.hpp"
#include "opentelemetry/proto/collector/logs/v1/logs_service.pb.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"

namespace outrigger::otlp {

namespace {
template <typename Resp, typename SetFn>
std::string EncodeResp(int64_t rejected, std::string_view msg, bool json, SetFn set) {
  Resp resp;
  if (rejected > 0) {
    auto* ps = resp.mutable_partial_success();
    set(ps, rejected);
    ps->set_error_message(std::string(msg));
  }
  std::string out;
  if (json) {
    (void)google::protobuf::util::MessageToJsonString(resp, &out);
  } else {
    resp.SerializeToString(&out);
  }
  return out;
}

template <typename Resp, typename GetFn>
bool DecodeResp(std::string_view bytes, int64_t* rejected, std::string* message, GetFn get) {
  Resp resp;
  if (!resp.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) return false;
  *rejected = get(resp.partial_success());
  *message = resp.partial_success().error_message();
  return true;
}
}  // namespace

std::string EncodeExportResponse(Signal signal, int64_t rejected, std::string_view msg, bool json) {
  namespace t = opentelemetry::proto::collector::trace::v1;
  namespace m = opentelemetry::proto::collector::metrics::v1;
  namespace l = opentelemetry::proto::collector::logs::v1;
  switch (signal) {
    case Signal::kTraces:
      return EncodeResp<t::ExportTraceServiceResponse>(rejected, msg, json,
                                                       [](auto* ps, int64_t n) { ps->set_rejected_spans(n); });
    case Signal::kMetrics:
      return EncodeResp<m::ExportMetricsServiceResponse>(rejected, msg, json,
                                                         [](auto* ps, int64_t n) { ps->set_rejected_data_points(n); });
    case Signal::kLogs:
      return EncodeResp<l::ExportLogsServiceResponse>(rejected, msg, json,
                                                      [](auto* ps, int64_t n) { ps->set_rejected_log_records(n); });
  }
  return "";
}

bool DecodeExportResponse(Signal signal, std::string_view bytes, int64_t* rejected, std::string* message) {
  namespace t = opentelemetry::proto::collector::trace::v1;
  namespace m = opentelemetry::proto::collector::metrics::v1;
  namespace l = opentelemetry::proto::collector::logs::v1;
  switch (signal) {
    case Signal::kTraces:
      return DecodeResp<t::ExportTraceServiceResponse>(bytes, rejected, message,
                                                       [](const auto& ps) { return ps.rejected_spans(); });
    case Signal::kMetrics:
      return DecodeResp<m::ExportMetricsServiceResponse>(bytes, rejected, message,
                                                         [](const auto& ps) { return ps.rejected_data_points(); });
    case Signal::kLogs:
      return DecodeResp<l::ExportLogsServiceResponse>(bytes, rejected, message,
                                                      [](const auto& ps) { return ps.rejected_log_records(); });
  }
  return false;
}

std::string EncodeRpcStatus(absl::StatusCode code, std::string_view message, bool json) {
  if (json) {
    nlohmann::json j{{"code", static_cast<int>(code)}, {"message", std::string(message)}};
    return j.dump();
  }
  std::string st;
  PutTag(&st, 1, 0);
  PutVarint(&st, static_cast<uint64_t>(code));
  PutBytes(&st, 2, message);
  return st;
}

std::string_view ExportMethod(Signal s) {
  switch (s) {
    case Signal::kTraces:
      return kTraceExportMethod;
    case Signal::kMetrics:
      return kMetricsExportMethod;
    case Signal::kLogs:
      return kLogsExportMethod;
  }
  return "";
}

}  // namespace outrigger::otlp
