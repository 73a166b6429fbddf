#pragma once
// pdata: the telemetry the pipeline carries. Traces, Metrics and Logs are move-only
// handles shaped like OTLP (Resource -> Scope -> records), backed by OTLP protobuf
// messages, each on its own google::protobuf::Arena. Components use this API, never
// protobuf types; only the OTLP wire code (collector/otlp) reaches the messages, through
// pdata_internal.h.
//
// A handle holds one or more "parts" (one per decoded request). Appending moves parts,
// not records, and the protobuf wire format lets several parts serialize as one request
// by concatenation, so batching never copies records. Parts are shared and immutable
// once shared: Clone() is O(parts) and a mutation (Mutable*) copies a part only if some
// other handle still shares it (copy on write), so fan-out to read-only exporters costs
// nothing.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "collector/common/strings.h"

namespace opentelemetry::proto::collector::trace::v1 {
class ExportTraceServiceRequest;
}
namespace opentelemetry::proto::collector::metrics::v1 {
class ExportMetricsServiceRequest;
}
namespace opentelemetry::proto::collector::logs::v1 {
class ExportLogsServiceRequest;
}
namespace opentelemetry::proto::metrics::v1 {
class Metric;
}

namespace outrigger {

enum class Signal { kTraces = 0, kMetrics = 1, kLogs = 2 };
inline constexpr Signal kAllSignals[] = {Signal::kTraces, Signal::kMetrics, Signal::kLogs};
std::string_view SignalName(Signal s);  // "traces", "metrics", "logs"
std::string_view ItemNoun(Signal s);    // "spans", "metric_points", "log_records"

namespace pdata {

// Who sent a request: upstream's client.Info (which Go carries in the context; we carry
// it with the data). Receivers set it per decoded request (SetClientInfo); it stays with
// that request's records through Append, SplitFront, Clone and copy on write, so a batch
// of several clients' requests keeps each one's own (upstream keeps it only for
// metadata_keys). Processors read it with ForEach(Mutable)RequestWithClient.
struct ClientInfo {
  std::string address;  // the peer's IP ("127.0.0.1", "::1"), without the port; empty if unknown
  uint16_t port = 0;    // the peer's port, 0 if unknown
  // Request headers (HTTP) or metadata (gRPC), keys in lower case, values in arrival
  // order; filled only when the receiver is asked to (include_metadata).
  std::map<std::string, std::vector<std::string>, std::less<>> metadata;
  // Attributes the server authenticator attached (auth.<name>).
  std::map<std::string, std::string, std::less<>> auth;

  // The values of metadata `key` (matched in lower case), or null.
  const std::vector<std::string>* Metadata(std::string_view key) const;
};

template <typename Request>
class Data {
 public:
  Data();  // empty
  ~Data();
  Data(Data&&) noexcept;
  Data& operator=(Data&&) noexcept;
  Data(const Data&) = delete;
  Data& operator=(const Data&) = delete;

  // Decodes an OTLP protobuf request (the body of an OTLP/HTTP or gRPC export).
  // The bytes are checked (ScanRequest) and kept as they are; records are decoded only
  // when something reads or changes them, and re-encoding unchanged data is a copy.
  static absl::StatusOr<Data> FromProto(std::string_view bytes);
  static absl::StatusOr<Data> FromProto(std::string&& bytes);
  // Bytes this process encoded itself with an encoder whose output is tested to decode
  // (e.g. the filelog receiver's WireLogsBuilder): kept as they are without the check,
  // with the caller's count of items and of records with invalid ids. Never for bytes
  // that came from outside.
  static Data FromTrustedProto(std::string&& bytes, size_t items, size_t invalid_ids = 0);
  // Decodes an OTLP/JSON request (hex ids, lowerCamelCase or snake_case keys, 64-bit
  // integers as strings or numbers, enums as integers or names).
  static absl::StatusOr<Data> FromJson(std::string_view json);

  // The whole content as one OTLP protobuf request.
  std::string ToProto() const;
  void AppendProtoTo(std::string* out) const;
  // The same into memory of the caller's: ByteSize() bytes at `dst` (call ByteSize()
  // first: the encoding reuses the sizes it computes).
  void WriteProtoTo(uint8_t* dst) const;
  // OTLP/JSON (hex ids, lowerCamelCase, enums as integers), one line.
  std::string ToJson() const;

  // Spans, metric data points or log records.
  size_t ItemCount() const;
  size_t ResourceCount() const;
  size_t ByteSize() const;  // encoded protobuf size
  bool empty() const { return ItemCount() == 0; }

  // Removes records whose ids have the wrong length (trace id 16 bytes, span id 8;
  // optional ones may be empty) and returns how many; the first problem goes to
  // *first_error. Metrics have no such records.
  size_t DropInvalidIds(std::string* first_error);

  // A handle on the same content; shares parts (copy on write).
  Data Clone() const;
  // Moves every part of `other` to the end of this one.
  void Append(Data&& other);
  // Removes the first `max_items` items (whole resources/scopes where possible) and
  // returns them; the rest stays in this handle.
  Data SplitFront(size_t max_items);

  // Read-only and mutable views on the underlying requests, for the OTLP wire code and
  // mutating processors. Mutable access copies shared parts first.
  void ForEachRequest(const std::function<void(const Request&)>& fn) const;
  void ForEachMutableRequest(const std::function<void(Request&)>& fn);
  // The same, with each request's client (null when no receiver set one).
  void ForEachRequestWithClient(const std::function<void(const Request&, const ClientInfo*)>& fn) const;
  void ForEachMutableRequestWithClient(const std::function<void(Request&, const ClientInfo*)>& fn);
  // Sets the client of every request this handle holds (receivers, right after decoding).
  void SetClientInfo(std::shared_ptr<const ClientInfo> client);
  // A new handle owning a fresh empty request on its own arena.
  static Data New(Request** out);
  // The same, with the arena sized for about `encoded_size_hint` bytes of records.
  static Data NewSized(Request** out, size_t encoded_size_hint);

 private:
  struct Part;
  std::vector<std::shared_ptr<Part>> parts_;
};

using Traces = Data<opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest>;
using Metrics = Data<opentelemetry::proto::collector::metrics::v1::ExportMetricsServiceRequest>;
using Logs = Data<opentelemetry::proto::collector::logs::v1::ExportLogsServiceRequest>;

// The data points of one metric, whatever its type (what Metrics::ItemCount() adds up).
size_t MetricPoints(const opentelemetry::proto::metrics::v1::Metric& m);

template <Signal S>
struct SignalData;
template <>
struct SignalData<Signal::kTraces> {
  using type = Traces;
};
template <>
struct SignalData<Signal::kMetrics> {
  using type = Metrics;
};
template <>
struct SignalData<Signal::kLogs> {
  using type = Logs;
};

}  // namespace pdata
}  // namespace outrigger
