#pragma once

#include <map>
#include <string>

#include "collector/exporterhelper/exporterhelper.h"
#include "collector/httpclient/http_client.h"

namespace outrigger::exporters::otlp {

using TlsConfig = httpclient::TlsConfig;

// Shared by otlp (gRPC) and otlphttp.
struct Config : ComponentConfig {
  std::string endpoint;  // required: host:port for gRPC; a base URL for HTTP
  std::string compression = "gzip";  // gzip | none
  std::map<std::string, std::string> headers;
  TlsConfig tls;
  exporterhelper::HelperConfig helper;
  // otlphttp only
  std::string traces_endpoint, metrics_endpoint, logs_endpoint;
  std::string encoding = "proto";  // proto | json
  bool http = false;

  void Decode(config::Node& node) override;
  absl::Status Validate() const override;
};

}  // namespace outrigger::exporters::otlp
