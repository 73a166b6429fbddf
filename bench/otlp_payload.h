#pragma once
// Synthetic, realistic OTLP trace payloads shared by the load generator and the pdata
// micro-benchmarks. Every span has a 16-byte trace id, an 8-byte span id (and usually a
// parent), a name, a kind, start/end times, five attributes and a status: about 250 bytes
// on the wire. Each request carries one resource (service.name, service.version,
// service.instance.id, host.name, telemetry.sdk.*) with one instrumentation scope.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace outrigger::bench {

struct PayloadOptions {
  size_t spans_per_request = 100;
  uint64_t seed = 1;
};

// One encoded ExportTraceServiceRequest; `index` makes ids, service instance and
// attribute values distinct between requests.
std::string MakeTraceRequest(const PayloadOptions& opt, uint64_t index);

// `count` distinct encoded requests.
std::vector<std::string> MakeTraceRequests(const PayloadOptions& opt, size_t count);

// Spans in an encoded ExportTraceServiceRequest, found by walking the protobuf wire
// format (resource_spans -> scope_spans -> spans) without decoding the spans; returns
// -1 when the bytes are not a well-formed request. Cheap enough for a sink. With
// `invalid_ids`, also walks every span's fields and counts the spans whose trace_id is
// not 16 bytes, span_id not 8, or parent_span_id neither empty nor 8 (what the receiver's
// DropInvalidIds checks): a stand-in for a collector that validates and forwards the
// received bytes without decoding them.
int64_t CountSpansWire(const char* data, size_t size, uint64_t* invalid_ids = nullptr);

}  // namespace outrigger::bench
