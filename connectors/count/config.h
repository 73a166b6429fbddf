#pragma once
// The count connector's config: upstream's countconnector options (contrib
// connector/countconnector), their names and defaults. README.md lists each one.

#include <optional>
#include <string>
#include <vector>

#include "collector/component/factory.h"
#include "collector/ottl/ottl.h"

namespace outrigger::connectors::count {

// One attribute a count is split by: looked up on the record, then its scope, then its
// resource; `default_value` when none has it (without one, the record is not counted).
struct AttributeConfig {
  std::string key;
  std::optional<std::string> default_value;
};

// One count metric: its name, description, OTTL conditions (OR-ed; none: every record)
// and the attributes it is split by.
struct MetricInfo {
  std::string name;
  std::string description;
  std::vector<ottl::Condition> conditions;
  std::vector<AttributeConfig> attributes;
};

struct Config : ComponentConfig {
  // Each map's metrics in the order written; upstream's default metric when the map is
  // absent or empty.
  std::vector<MetricInfo> spans, spanevents, metrics, datapoints, logs;

  Config();
  void Decode(config::Node& node) override;
  absl::Status Validate() const override;
};

}  // namespace outrigger::connectors::count
