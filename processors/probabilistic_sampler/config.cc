#include "processors/probabilistic_sampler/config.h"

#include <cmath>

#include "collector/common/strings.h"
#include "collector/sampling/otep235.h"

namespace outrigger::processors::probabilistic_sampler {

std::string_view ModeName(Mode m) {
  switch (m) {
    case Mode::kUnset:
      return "";
    case Mode::kHashSeed:
      return "hash_seed";
    case Mode::kProportional:
      return "proportional";
    case Mode::kEqualizing:
      return "equalizing";
  }
  return "";
}

void Config::Decode(config::Node& node) {
  double pct = sampling_percentage;
  node.Read("sampling_percentage", &pct);
  // Beyond float's range the value is an error anyway (Validate); keep it finite here.
  sampling_percentage = std::fabs(pct) > 1e30 ? static_cast<float>(pct > 0 ? 1e30 : -1e30) : static_cast<float>(pct);
  int64_t seed = hash_seed;
  node.Read("hash_seed", &seed);
  if (seed < 0 || seed > int64_t{UINT32_MAX}) {
    node.ErrorAt("hash_seed", StrCat("must be an unsigned 32-bit integer (0 to 4294967295), got ", seed));
  } else {
    hash_seed = static_cast<uint32_t>(seed);
  }
  std::string m(ModeName(mode));
  node.ReadEnum("mode", &m, {"", "hash_seed", "proportional", "equalizing"});
  mode = m == "hash_seed"      ? Mode::kHashSeed
         : m == "proportional" ? Mode::kProportional
         : m == "equalizing"   ? Mode::kEqualizing
                               : Mode::kUnset;
  node.Read("fail_closed", &fail_closed);
  node.Read("sampling_precision", &sampling_precision);
  node.ReadEnum("attribute_source", &attribute_source, {kTraceIdSource, kRecordSource});
  node.Read("from_attribute", &from_attribute);
  node.Read("sampling_priority", &sampling_priority);
}

absl::Status Config::Validate() const {
  double ratio = static_cast<double>(sampling_percentage) / 100.0;
  if (ratio < 0) {
    return absl::InvalidArgumentError(StrCat("sampling_percentage: must not be negative, got ", sampling_percentage));
  }
  if (ratio != 0 && ratio < sampling::kMinSamplingProbability) {
    return absl::InvalidArgumentError(
        StrCat("sampling_percentage: too small (", sampling_percentage, "%); the smallest is 100*2^-56 %, or 0"));
  }
  if (sampling_precision < 1 || sampling_precision > sampling::kNumHexDigits) {
    return absl::InvalidArgumentError(
        StrCat("sampling_precision: must be between 1 and 14 hex digits, got ", sampling_precision));
  }
  if (attribute_source == kRecordSource && from_attribute.empty()) {
    return absl::InvalidArgumentError(
        "from_attribute: required with attribute_source: record (the log record attribute whose value is hashed)");
  }
  return absl::OkStatus();
}

}  // namespace outrigger::processors::probabilistic_sampler
