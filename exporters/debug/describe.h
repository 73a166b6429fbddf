#pragma once
// What the debug exporter logs: human-readable summaries of pdata.

#include <string>
#include <vector>

#include "collector/pdata/pdata.h"

namespace outrigger::exporters::debug {

enum class Verbosity { kBasic, kNormal, kDetailed };

// One summary line ("Traces: 1 resources, 3 spans"); with kNormal one more line per
// span, metric or log record; with kDetailed the whole request as indented OTLP/JSON.
std::vector<std::string> Describe(const pdata::Traces& d, Verbosity v);
std::vector<std::string> Describe(const pdata::Metrics& d, Verbosity v);
std::vector<std::string> Describe(const pdata::Logs& d, Verbosity v);

}  // namespace outrigger::exporters::debug
