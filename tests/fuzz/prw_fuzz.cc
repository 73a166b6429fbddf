// OTLP metrics (a protobuf request, as the OTLP receiver takes it) through the remote
// write exporter's translation, split and encoding. The first byte sets the options.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "collector/pdata/pdata.h"
#include "exporters/prometheusremotewrite/translator.h"

using namespace outrigger;
using namespace outrigger::exporters::prometheusremotewrite;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t flags = data[0];
  auto metrics = pdata::Metrics::FromProto(std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1));
  if (!metrics.ok()) return 0;
  Config cfg;
  if (flags & 1) cfg.metric_namespace = "ns";
  if (flags & 2) cfg.external_labels = {{"cluster", "c1"}, {"job", "j"}};
  cfg.resource_to_telemetry_conversion = (flags & 4) != 0;
  cfg.add_metric_suffixes = (flags & 8) == 0;
  cfg.send_metadata = (flags & 16) != 0;
  const int64_t max_samples = (flags & 32) ? 3 : 1000;
  const uint64_t max_bytes = (flags & 64) ? 200 : 1 << 20;
  Translation t = Translate(*metrics, cfg, /*now_ms=*/1700000000000);
  size_t samples = 0;
  for (const auto& s : t.series) samples += static_cast<size_t>(s.samples_size());
  size_t split_samples = 0;
  for (const auto& req : Split(std::move(t), max_samples, max_bytes)) {
    for (const auto& s : req.timeseries()) split_samples += static_cast<size_t>(s.samples_size());
    std::string encoded = req.SerializeAsString();
    ::prometheus::WriteRequest back;
    if (!back.ParseFromString(encoded)) std::abort();  // our encoding must decode
  }
  if (split_samples != samples) std::abort();  // the split loses or duplicates nothing
  return 0;
}
