#include "processors/memory_limiter/config.h"

#include "absl/strings/ascii.h"
#include "collector/common/strings.h"

namespace outrigger::processors::memory_limiter {

void Config::Decode(config::Node& node) {
  node.Read("check_interval", &check_interval);
  node.Read("limit_mib", &limit_mib);
  node.Read("spike_limit_mib", &spike_limit_mib);
  node.Read("limit_percentage", &limit_percentage);
  node.Read("spike_limit_percentage", &spike_limit_percentage);
  for (const char* key : kIgnoredGcOptions) {
    if (!node.Has(key)) continue;
    absl::Duration d;
    node.Read(key, &d);
    ignored.emplace_back(key);
    if (std::string_view(key) == "min_gc_interval_when_soft_limited") min_gc_soft = d;
    if (std::string_view(key) == "min_gc_interval_when_hard_limited") min_gc_hard = d;
  }
  // Upstream's `model` chooses between its GC-statistics limiter (the default, ours) and
  // an experimental admission limiter counting request bytes.
  if (node.Has("model")) {
    std::string model;
    node.Read("model", &model);
    if (!model.empty() && absl::AsciiStrToLower(model) != "gcstats") {
      node.ErrorAt("model", StrCat("model '", model,
                                   "' is not supported: only 'gcstats' (the default: limits on the process's memory) "
                                   "is; remove the option and set limit_mib or limit_percentage"));
    }
  }
  node.Unsupported("admission",
                   "the admission model is not supported: remove it and set limit_mib or limit_percentage "
                   "(receivers bound each request with max_request_body_size)");
  // Upstream removed it with the Go heap ballast it sized; there is nothing to size here.
  node.Unsupported("ballast_size_mib", "remove it: there is no ballast to size (upstream removed the option too)");
}

absl::Status Config::Validate() const {
  // Upstream's rules, in upstream's order and words.
  if (check_interval <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("'check_interval' must be greater than zero");
  }
  if (min_gc_soft < min_gc_hard) {
    return absl::InvalidArgumentError(
        "'min_gc_interval_when_soft_limited' should be larger than 'min_gc_interval_when_hard_limited'");
  }
  if (limit_mib == 0 && limit_percentage == 0) {
    return absl::InvalidArgumentError("'limit_mib' or 'limit_percentage' must be greater than zero");
  }
  if (limit_percentage > 100 || spike_limit_percentage > 100) {
    return absl::InvalidArgumentError(
        "'limit_percentage' and 'spike_limit_percentage' must be greater than zero and less than or equal to hundred");
  }
  if (limit_mib > 0 && limit_mib <= spike_limit_mib) {
    return absl::InvalidArgumentError("'spike_limit_mib' must be smaller than 'limit_mib'");
  }
  if (limit_percentage > 0 && limit_percentage <= spike_limit_percentage) {
    return absl::InvalidArgumentError("'spike_limit_percentage' must be smaller than 'limit_percentage'");
  }
  if (limit_mib > (uint64_t{1} << 32)) {  // upstream's uint32
    return absl::InvalidArgumentError("'limit_mib' is larger than 4294967296 MiB");
  }
  return absl::OkStatus();
}

absl::StatusOr<memory::Limits> Config::Resolve(const std::function<absl::StatusOr<uint64_t>()>& available) const {
  uint64_t total = 0;
  if (limit_mib == 0) {
    auto a = available();
    if (!a.ok()) return a.status();
    total = *a;
  }
  return memory::ComputeLimits(limit_mib, spike_limit_mib, limit_percentage, spike_limit_percentage, total);
}

}  // namespace outrigger::processors::memory_limiter
