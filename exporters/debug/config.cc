#include "exporters/debug/config.h"

namespace outrigger::exporters::debug {

exporterhelper::HelperConfig Config::DefaultHelper() {
  exporterhelper::HelperConfig h;
  h.sending_queue.enabled = false;
  h.retry_on_failure.enabled = false;
  return h;
}

void Config::Decode(config::Node& node) {
  node.ReadEnum("verbosity", &verbosity, {"basic", "normal", "detailed"});
  node.Read("sampling_initial", &sampling_initial);
  node.Read("sampling_thereafter", &sampling_thereafter);
  node.Read("use_internal_logger", &use_internal_logger);
  node.Read("output_paths", &output_paths);
  node.Unsupported("output",
                   "the record, scope and resource switches and attribute include/exclude lists of the detailed text "
                   "are not implemented (detailed output is the request's OTLP/JSON); drop records with a filter "
                   "processor or attributes with an attributes processor in a pipeline of their own");
  helper.Decode(node);
}

absl::Status Config::Validate() const {
  if (sampling_initial < 0) return absl::InvalidArgumentError("sampling_initial must not be negative");
  if (sampling_thereafter < 0) return absl::InvalidArgumentError("sampling_thereafter must not be negative");
  if (!use_internal_logger && output_paths.empty()) {
    return absl::InvalidArgumentError("output_paths must be specified and non-empty when use_internal_logger is false");
  }
  for (const auto& p : output_paths) {
    if (p.empty() || p == "file://") return absl::InvalidArgumentError("output_paths: an empty path");
  }
  return helper.Validate();
}

}  // namespace outrigger::exporters::debug
