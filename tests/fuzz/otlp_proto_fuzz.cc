// OTLP protobuf requests (an OTLP/HTTP or gRPC body): the wire scan, then what the
// pipeline does with an accepted request. The first byte picks the signal. Checks the
// scan's contract: an accepted request decodes, with the number of records it counted.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "collector/pdata/pdata.h"
#include "opentelemetry/proto/collector/logs/v1/logs_service.pb.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"

namespace {

template <typename D>
void Run(std::string_view bytes) {
  auto d = D::FromProto(bytes);
  if (!d.ok()) return;
  const size_t items = d->ItemCount();  // the scan's count
  size_t decoded = 0;
  D copy = d->Clone();
  std::string err;
  copy.DropInvalidIds(&err);  // decodes
  copy = d->Clone();
  while (!copy.empty()) decoded += copy.SplitFront(7).ItemCount();
  if (decoded != items) std::abort();  // scan and decoder disagree
  // Our JSON must decode again, except when it nests deeper than the JSON decoder's limit
  // (100 levels of arrays and objects; values nested near protobuf's limit of 100
  // messages take about 133: left as it is, as protobuf's own JSON parser does).
  auto back = D::FromJson(d->ToJson());
  if (back.ok() ? back->ItemCount() != items : back.status().message().find("nested more than") == std::string::npos) {
    std::abort();
  }
  if (d->ToProto().size() != d->ByteSize()) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 3) {
    case 0:
      Run<outrigger::pdata::Traces>(bytes);
      break;
    case 1:
      Run<outrigger::pdata::Metrics>(bytes);
      break;
    default:
      Run<outrigger::pdata::Logs>(bytes);
  }
  return 0;
}
