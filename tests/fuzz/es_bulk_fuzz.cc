// An Elasticsearch _bulk answer (from the server the exporter talks to). The first byte
// is the number of items the request had.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "exporters/elasticsearch/bulk.h"

using namespace outrigger::exporters::elasticsearch;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t expected = data[0];
  std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  auto items = ParseBulkResponse(body, expected);
  if (items.ok() && items->size() != expected) std::abort();
  (void)ErrorSummary(body);
  return 0;
}
