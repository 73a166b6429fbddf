#pragma once
// Splits an encoded OTLP export request by routing key into one encoded request per
// backend, without decoding it: the splitter walks the wire format down to the level the
// key needs (a span's trace_id, a resource's service.name, ...), and each backend's request
// is written from byte ranges of the input (resources, scopes and records copied as
// they came; only the enclosing lengths are new). Spans of one trace that follow each
// other are copied as one range.
//
// The request must be well formed (what a receiver's ScanRequest accepted, or what
// protobuf serialized): a malformed one gives INVALID_ARGUMENT, never a crash.

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "collector/pdata/pdata.h"
#include "exporters/loadbalancing/ring.h"

namespace outrigger::exporters::loadbalancing {

enum class RoutingKey { kTraceId, kService, kResource, kMetric, kStreamId };
// "traceID", "service", "resource", "metric", "streamID"
RoutingKey ParseRoutingKey(std::string_view s);

// What a routing key means for a signal:
// - traces: traceID (each span by its trace_id), service (each resource by its
//   service.name), resource (each resource by its attributes); metric and streamID are
//   refused (INVALID_ARGUMENT).
// - logs: traceID (each record by its trace_id; records without one by their resource),
//   service, resource; metric and streamID are refused.
// - metrics: service, resource, metric (each metric by resource, scope and name),
//   streamID (each data point by its metric and attributes); traceID means service
//   (upstream's default for metrics).
struct SplitPart {
  std::string bytes;  // an encoded request; empty when nothing goes to this backend
  size_t items = 0;   // spans or log records (metrics: not counted here)
};

absl::Status SplitRequest(Signal signal, std::string_view request, RoutingKey key, const HashRing& ring,
                          std::vector<SplitPart>* out);

// The same on pdata: one handle per backend (empty where nothing goes).
template <typename D>
absl::Status Split(Signal signal, const D& data, RoutingKey key, const HashRing& ring, std::vector<D>* out);

}  // namespace outrigger::exporters::loadbalancing
