#pragma once
// The command line: run, validate, components, --version, --help.

#include <string>
#include <vector>

namespace outrigger {

extern const char kDefaultConfigYaml[];
extern const char kVersion[];

// Runs the collector as `outrigger ARGS...`; returns the process exit code.
int RunMain(const std::vector<std::string>& args);

}  // namespace outrigger
