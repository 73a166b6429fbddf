#pragma once

#include <map>
#include <string>

#include "collector/exporterhelper/exporterhelper.h"
#include "collector/httpclient/http_client.h"

namespace outrigger::exporters::otlp {

inline constexpr char kDefaultCompression[] = "gzip";

struct Config : ComponentConfig {
  // Required: host:port of the server; an http:// prefix means plaintext, https:// TLS.
  std::string endpoint;
  // gzip | none
  std::string compression = kDefaultCompression;
  // gRPC metadata added to every request (names are lower-cased).
  std::map<std::string, std::string> headers;
  // tls.insecure: plaintext; otherwise TLS with the CA and client certificate files
  // (read at start), insecure_skip_verify and server_name_override.
  httpclient::TlsConfig tls;
  // auth.authenticator: an extension whose headers go with each request as metadata.
  httpclient::AuthConfig auth;
  // sending_queue, retry_on_failure, timeout.
  exporterhelper::HelperConfig helper;

  void Decode(config::Node& node) override;
  absl::Status Validate() const override;
};

}  // namespace outrigger::exporters::otlp
