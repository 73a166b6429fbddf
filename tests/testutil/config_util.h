#pragma once
// Decoding one component's section of a YAML file the way the service does, for the
// config_test.cc of each component: "the default config has the documented values" and
// "testdata/config.yaml decodes to what it says". The one home of config helpers for tests.

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "collector/component/factory.h"
#include "collector/config/node.h"

namespace outrigger::testutil {

// `relative` (e.g. "exporters/file/testdata/config.yaml") under the source tree; an
// absolute path is returned as it is.
std::string SourcePath(std::string_view relative);

// Loads `path` (relative to the source tree, or absolute) with the core loader
// (config::LoadAndMerge, so ${env:...} is expanded) and decodes the section
// `<kind>.<id>` (kind: "receivers", "processors", "exporters", "extensions" or
// "connectors"; id: "file" or "file/2") into *cfg with cfg->Decode(), then reports the
// keys nobody read, as the service does. Validate() is not called.
// Returns NotFound when the file cannot be read or has no such section, InvalidArgument
// when loading or decoding reported errors; every error is also in *errors.
absl::Status DecodeComponentConfig(const std::string& path, std::string_view kind, std::string_view id,
                                   ComponentConfig* cfg, config::Errors* errors);

// Decodes `yaml`, one component's mapping (e.g. "verbosity: detailed\n"), into *cfg the
// same way: ${env:...} expanded, unknown keys reported, Validate() not called.
// Returns InvalidArgument when loading or decoding reported errors; every error is also
// in *errors.
absl::Status DecodeYaml(std::string_view yaml, ComponentConfig* cfg, config::Errors* errors);

}  // namespace outrigger::testutil
