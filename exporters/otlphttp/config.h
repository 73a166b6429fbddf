#pragma once

#include <map>
#include <string>

#include "collector/exporterhelper/exporterhelper.h"
#include "collector/httpclient/http_client.h"

namespace outrigger::exporters::otlphttp {

inline constexpr char kDefaultCompression[] = "gzip";
inline constexpr char kDefaultEncoding[] = "proto";

struct Config : ComponentConfig {
  // Base URL (/v1/traces, /v1/metrics, /v1/logs are appended). Required unless the
  // three per-signal URLs are set.
  std::string endpoint;
  // gzip | none
  std::string compression = kDefaultCompression;
  // compression_params.level: gzip's level, 1 (fastest) to 9 (smallest); -1: the
  // default (6).
  int compression_level = -1;
  // HTTP headers added to every request.
  std::map<std::string, std::string> headers;
  // The URL's scheme decides TLS; tls.* sets CAs, client certificate, versions,
  // insecure_skip_verify and server_name_override.
  httpclient::TlsConfig tls;
  // auth.authenticator: an extension whose headers go with each request.
  httpclient::AuthConfig auth;
  // sending_queue, retry_on_failure, timeout.
  exporterhelper::HelperConfig helper;
  // Full URLs per signal, instead of endpoint + /v1/<signal>.
  std::string traces_endpoint, metrics_endpoint, logs_endpoint;
  // proto | json
  std::string encoding = kDefaultEncoding;

  void Decode(config::Node& node) override;
  absl::Status Validate() const override;
};

}  // namespace outrigger::exporters::otlphttp
