// A StatsD / DogStatsD datagram: every line through the parser.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "receivers/statsd/parser.h"

using namespace outrigger::receivers::statsd;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view datagram(reinterpret_cast<const char*>(data), size);
  ForEachLine(datagram, [&](std::string_view line) {
    MetricLine m;
    EventLine e;
    ServiceCheckLine c;
    std::string error;
    switch (ParseLine(line, &m, &e, &c, &error)) {
      case LineKind::kMetric:
        if (m.name.empty()) std::abort();
        for (double v : m.values) {
          if (!std::isfinite(v)) std::abort();
        }
        break;
      case LineKind::kInvalid:
        if (error.empty()) std::abort();  // a refusal always says why
        break;
      default:
        break;
    }
  });
  return 0;
}
