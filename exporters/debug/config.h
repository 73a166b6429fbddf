#pragma once

#include <string>
#include <vector>

#include "collector/exporterhelper/exporterhelper.h"

namespace outrigger::exporters::debug {

inline constexpr char kDefaultVerbosity[] = "basic";
// Upstream's defaults (zap's sampler: the first 2 requests of each signal in a second,
// then every 1st, i.e. all).
inline constexpr int64_t kDefaultSamplingInitial = 2;
inline constexpr int64_t kDefaultSamplingThereafter = 1;

struct Config : ComponentConfig {
  // basic: one line per request; normal: and one per item; detailed: and the OTLP/JSON.
  std::string verbosity = kDefaultVerbosity;
  // With use_internal_logger: of each signal's requests in a second, the first
  // sampling_initial are logged, then every sampling_thereafter-th (0: none).
  int64_t sampling_initial = kDefaultSamplingInitial;
  int64_t sampling_thereafter = kDefaultSamplingThereafter;
  // true: through Outrigger's own log (logger exporter/<id>, level info). false: written
  // directly to output_paths, whatever service.telemetry.logs says; no sampling.
  bool use_internal_logger = true;
  // Only with use_internal_logger: false. "stdout", "stderr" or file paths (appended to,
  // created if missing; `file://` URLs too).
  std::vector<std::string> output_paths{"stdout"};
  // Synchronous by default (no queue, no retries): the output is written before the call
  // returns.
  exporterhelper::HelperConfig helper = DefaultHelper();

  void Decode(config::Node& node) override;
  absl::Status Validate() const override;

  static exporterhelper::HelperConfig DefaultHelper();
};

}  // namespace outrigger::exporters::debug
