#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/time.h"

#include "collector/component/factory.h"
#include "collector/http/config.h"
#include "collector/tls/config.h"

namespace outrigger::receivers::otlp {

inline constexpr char kDefaultGrpcEndpoint[] = "127.0.0.1:4317";
inline constexpr char kDefaultHttpEndpoint[] = "127.0.0.1:4318";
inline constexpr int kDefaultMaxRecvMsgSizeMiB = 4;
inline constexpr int kDefaultMaxConcurrentStreams = 0;               // 0: gRPC's default
inline constexpr uint64_t kDefaultMaxRequestBodySize = 20ull << 20;  // after decompression too
inline constexpr char kDefaultTracesUrlPath[] = "/v1/traces";
inline constexpr char kDefaultMetricsUrlPath[] = "/v1/metrics";
inline constexpr char kDefaultLogsUrlPath[] = "/v1/logs";
inline constexpr int kDefaultRetryAfterSeconds = 1;

// protocols.grpc.keepalive, as upstream's configgrpc (gRPC's defaults except
// max_connection_idle and the handshake bound: connections that went quiet are closed).
inline constexpr absl::Duration kDefaultMaxConnectionIdle = absl::Minutes(10);
inline constexpr absl::Duration kDefaultKeepaliveTime = absl::Hours(2);
inline constexpr absl::Duration kDefaultKeepaliveTimeout = absl::Seconds(20);
inline constexpr absl::Duration kDefaultKeepaliveMinTime = absl::Minutes(5);
// A connection must finish its TLS and HTTP/2 handshakes within this (gRPC's own default
// is 120 s: a slowloris holds a descriptor that long).
inline constexpr absl::Duration kGrpcHandshakeTimeout = absl::Seconds(10);

struct GrpcKeepalive {
  // server_parameters: a connection with no call for max_connection_idle is closed
  // (GOAWAY); one older than max_connection_age is closed after max_connection_age_grace
  // (0: never); the server pings every `time` and closes after `timeout` without answer.
  absl::Duration max_connection_idle = kDefaultMaxConnectionIdle;
  absl::Duration max_connection_age = absl::ZeroDuration();
  absl::Duration max_connection_age_grace = absl::ZeroDuration();
  absl::Duration time = kDefaultKeepaliveTime;
  absl::Duration timeout = kDefaultKeepaliveTimeout;
  // enforcement_policy: clients pinging more often than min_time are disconnected;
  // permit_without_stream allows their pings with no call open.
  absl::Duration min_time = kDefaultKeepaliveMinTime;
  bool permit_without_stream = false;
  void Decode(config::Node& node);
};

// protocols.grpc: OTLP/gRPC, on when the key is present (even with no value).
struct GrpcConfig {
  bool enabled = false;
  // host:port; an empty host is 127.0.0.1, port 0 picks a free port.
  std::string endpoint = kDefaultGrpcEndpoint;
  // Largest request, in MiB: 1 to 2047.
  int max_recv_msg_size_mib = kDefaultMaxRecvMsgSizeMiB;
  // Per HTTP/2 connection; 0 or less keeps gRPC's default.
  int max_concurrent_streams = kDefaultMaxConcurrentStreams;
  // Bytes read from a connection at a time (gRPC's TCP read chunk); 0: gRPC's default.
  uint64_t read_buffer_size = 0;
  GrpcKeepalive keepalive;
  tls::ServerConfig tls;  // `tls:`; off unless cert_file is set
  tls::ServerAuth auth;   // `auth: {authenticator: ...}`
  // Keep each call's metadata with its data (for processors' `from_context:
  // metadata.<key>`); the client's address is kept always.
  bool include_metadata = false;
};

// protocols.http: OTLP/HTTP, on when the key is present (even with no value).
struct HttpConfig {
  bool enabled = false;
  // As GrpcConfig::endpoint.
  std::string endpoint = kDefaultHttpEndpoint;
  // Largest body, as received and after decompression (413 beyond).
  uint64_t max_request_body_size = kDefaultMaxRequestBodySize;
  // Paths of the three exports; one without a leading '/' gets one (as upstream), and
  // only the path of a URL counts ("http://h/x?y" is "/x").
  std::string traces_url_path = kDefaultTracesUrlPath;
  std::string metrics_url_path = kDefaultMetricsUrlPath;
  std::string logs_url_path = kDefaultLogsUrlPath;
  // read_timeout, read_header_timeout, write_timeout, idle_timeout, max_connections,
  // cors, response_headers, keep_alives_enabled.
  http::ServerLimits limits;
  // Content-Encodings a request may have ("" for none); empty: every one we decode
  // (none, gzip, zlib, deflate). Another encoding is answered 400.
  std::vector<std::string> compression_algorithms;
  bool EncodingAllowed(std::string_view content_encoding) const;
  tls::ServerConfig tls;
  tls::ServerAuth auth;
  // Keep each request's headers with its data, as GrpcConfig::include_metadata.
  bool include_metadata = false;
};

// The path upstream's SanitizedURLPath makes of a *_url_path value: the path of the
// URL, with a leading '/' added when missing.
std::string SanitizeUrlPath(std::string_view value);

// Content-Encodings the receiver decodes, under confighttp's names ("" is none).
inline constexpr std::string_view kDecodedEncodings[] = {"", "gzip", "zlib", "deflate"};

struct Config : ComponentConfig {
  GrpcConfig grpc;
  HttpConfig http;
  // Told to clients pushed back: HTTP Retry-After, gRPC RetryInfo (when > 0).
  int retry_after_seconds = kDefaultRetryAfterSeconds;
  // Whether `protocols` has a value (decoding only; at least one protocol is required).
  bool protocols_given = false;

  void Decode(config::Node& node) override;
  absl::Status Validate() const override;
};

}  // namespace outrigger::receivers::otlp
