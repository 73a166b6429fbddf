// An OpenMetrics text exposition (a scrape's body with an openmetrics Content-Type).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "receivers/prometheus/parser.h"

using namespace outrigger::receivers::prometheus;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto families = ParseOpenMetrics(text);
  if (families.ok()) {
    for (const auto& f : *families) (void)OtelUnit(f.unit);
  }
  return 0;
}
