#pragma once
// The options every HTTP server shares, under upstream confighttp.ServerConfig's names:
// read_timeout, read_header_timeout, write_timeout, idle_timeout, cors,
// response_headers, keep_alives_enabled, max_request_body_size, plus our max_connections. `tls:` and `auth:` are
// decoded by tls::ServerConfig and tls::ServerAuth beside them; MakeServerOptions joins the three at Start.

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "collector/component/auth.h"
#include "collector/component/component.h"
#include "collector/config/node.h"
#include "collector/http/cors.h"
#include "collector/http/server.h"
#include "collector/tls/config.h"

namespace outrigger::http {

struct ServerLimits {
  absl::Duration read_timeout = kDefaultReadTimeout;
  absl::Duration read_header_timeout = kDefaultReadHeaderTimeout;
  absl::Duration write_timeout = kDefaultWriteTimeout;
  absl::Duration idle_timeout = kDefaultIdleTimeout;
  int max_connections = kDefaultMaxConnections;
  CorsConfig cors;  // `cors:`; off unless allowed_origins lists one
  // Added to every answer (also refusals and CORS preflights).
  std::map<std::string, std::string> response_headers;
  // false is refused (connections are always kept alive; idle_timeout bounds them).
  bool keep_alives_enabled = true;
  // `max_request_body_size`: 413 for a larger body. 0 keeps the server's own bound (the
  // OTLP receiver 20 MiB; servers answering GETs a few KiB).
  uint64_t max_request_body_size = 0;

  // Reads the keys above from a server's node, and refuses upstream confighttp options
  // we do not have (middlewares) with what to do instead. `include_metadata` is read
  // into *include_metadata when the server passes request headers down the pipeline
  // (the OTLP receiver), and `compression_algorithms` into *compression_algorithms when
  // it takes compressed bodies; each is refused otherwise.
  void Decode(config::Node& node, bool* include_metadata = nullptr,
              std::vector<std::string>* compression_algorithms = nullptr);
  // `where` prefixes messages ("protocols.http"; empty: none).
  absl::Status Validate(const std::string& where) const;
};

// The extension `auth.authenticator` names, started and able to check a server's
// requests; FAILED_PRECONDITION saying what to configure otherwise.
absl::StatusOr<ServerAuthenticator*> FindServerAuthenticator(Host* host, const tls::ServerAuth& auth);

// The options of a server at Start: `limits`, a TLS context if `tls` is on (its files are
// read now: an error names the file), and the authenticator if `auth` names one. The
// authenticator must be a started extension (listed in service.extensions) implementing
// ServerAuthenticator. `name` labels the server's metrics ("receiver/otlp").
absl::StatusOr<ServerOptions> MakeServerOptions(Host* host, const ServerLimits& limits, const tls::ServerConfig& tls,
                                                const tls::ServerAuth& auth, Telemetry* telemetry,
                                                const std::string& name, std::shared_ptr<spdlog::logger> logger);

}  // namespace outrigger::http
