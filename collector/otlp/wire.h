#pragma once
// Shared by the OTLP receiver and exporters: compression, and the mapping between
// pipeline statuses and the HTTP / gRPC answers of the OTLP specification.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "collector/common/strings.h"

namespace grpc {
class Status;
}

namespace outrigger::otlp {

// Decompresses a gzip (or zlib) body; refuses output beyond `max_bytes` (gzip bombs)
// with RESOURCE_EXHAUSTED, and corrupt input with INVALID_ARGUMENT.
absl::StatusOr<std::string> Gunzip(std::string_view in, uint64_t max_bytes);
// Compresses whole to gzip with libdeflate at `level` 1 (fastest) to 12 (smallest; its
// 1-9 compress about as zlib's do). A thread keeps its compressor for the next call. (A
// 25 KB OTLP request: 30 µs at level 1, 71 µs at 6; zlib set up per call, as this was
// and as gRPC does: 311 and 373 µs.)
std::string Gzip(std::string_view in, int level = 6);
// The same into memory of the caller's (none of it written before): at most
// GzipBound(in.size(), level) bytes; returns how many were written.
size_t GzipBound(size_t in_size, int level);
size_t GzipTo(std::string_view in, int level, char* out, size_t capacity);

// The OTLP/HTTP status code for a pipeline status: 200, 400 (permanent), 429 or 503
// (retryable; the caller adds Retry-After).
int HttpStatusFor(const absl::Status& st);
// Throttling answers from a server: 429, 502, 503, 504 are retryable.
bool HttpRetryable(int code);
// "120" (seconds) or an HTTP date.
std::optional<absl::Duration> ParseRetryAfter(std::string_view value);

grpc::Status ToGrpc(const absl::Status& st, absl::Duration retry_after = absl::ZeroDuration());
// A gRPC client-side status as a pipeline status (retryable codes per the OTLP spec),
// with the server's RetryInfo delay attached when present.
absl::Status FromGrpc(const grpc::Status& st);

}  // namespace outrigger::otlp

#include "collector/pdata/pdata.h"

namespace outrigger::otlp {

// Export<Signal>ServiceResponse, with partial_success when `rejected` > 0.
std::string EncodeExportResponse(Signal signal, int64_t rejected, std::string_view error_message, bool json);
// google.rpc.Status, the body of an OTLP/HTTP error answer.
std::string EncodeRpcStatus(absl::StatusCode code, std::string_view message, bool json);

// gRPC method names of the OTLP services.
inline constexpr char kTraceExportMethod[] = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";
inline constexpr char kMetricsExportMethod[] = "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export";
inline constexpr char kLogsExportMethod[] = "/opentelemetry.proto.collector.logs.v1.LogsService/Export";
std::string_view ExportMethod(Signal s);

// Decodes an Export*ServiceResponse; returns rejected items and message.
bool DecodeExportResponse(Signal signal, std::string_view bytes, int64_t* rejected, std::string* message);

}  // namespace outrigger::otlp
