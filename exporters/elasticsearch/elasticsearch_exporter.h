#pragma once
// The elasticsearch exporter's push: logs and spans as documents, sent with the _bulk
// API (see elasticsearch_exporter.cc and README.md). The shared exporter helper
// (collector/exporterhelper) queues, retries and times out around it; factory.cc
// puts the two together.

#include <memory>

#include "collector/exporterhelper/exporterhelper.h"
#include "exporters/elasticsearch/config.h"

namespace outrigger::exporters::elasticsearch {

std::unique_ptr<exporterhelper::Pusher> NewBulkPusher(const CreateSettings& settings, const Config& cfg);

}  // namespace outrigger::exporters::elasticsearch
