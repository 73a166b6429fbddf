#pragma once
// Checks an encoded OTLP request without decoding it: every field's wire format,
// lengths and nesting down to the leaves, UTF-8 in string fields (as protobuf's parser
// does for proto3), the recursion limit. On the way it counts the records (spans, metric
// data points, log records) and the records whose trace/span ids have the wrong length
// or are all zeros. A request that passes decodes with protobuf without error, so the
// collector can keep and forward the bytes it received and decode only when something
// needs the fields.

#include <cstddef>
#include <string>
#include <string_view>

namespace google::protobuf {
class Descriptor;
}

namespace outrigger::pdata {

struct ScanResult {
  bool ok = false;
  std::string error;       // when !ok
  size_t items = 0;        // spans, metric data points or log records
  size_t invalid_ids = 0;  // records with ids of the wrong length or all zeros
};

ScanResult ScanRequest(std::string_view bytes, const google::protobuf::Descriptor* request_type);

}  // namespace outrigger::pdata
