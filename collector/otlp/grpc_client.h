#pragma once
// The OTLP/gRPC client shared by the otlp exporter and the loadbalancing exporter (one
// client per backend): the options (endpoint, compression, headers, tls, auth), channel
// creation with TLS, and the Export call. Requests are serialized straight from pdata
// (parts concatenate) and sent through a generic stub, so no message is rebuilt.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "collector/exporterhelper/exporterhelper.h"
#include "collector/httpclient/http_client.h"

namespace grpc {
class Channel;
class ByteBuffer;
template <class RequestType, class ResponseType>
class TemplatedGenericStub;
}  // namespace grpc

namespace outrigger::otlp {

inline constexpr char kDefaultGrpcCompression[] = "gzip";

// What an endpoint names, as upstream's configgrpc reads it (ParseGrpcEndpoint).
struct GrpcTarget {
  std::string target;  // for grpc::CreateChannel: "host:port", "dns:///host:port", "unix:/path"
  enum class Tls { kConfig, kOn, kOff } tls = Tls::kConfig;  // https:// on, http:// off; else tls.insecure
};

// Reads an OTLP/gRPC endpoint: `host:port` (a DNS name or IP, IPv6 in brackets),
// `http://host:port` (plaintext) or `https://host:port` (TLS), `dns:///host:port` (a
// resolver target: every address of the name), `unix:///absolute/path` or
// `unix:relative/path`. Whatever gRPC could not dial (no port, a path after the port, an
// unknown scheme, a DNS server in the target) is INVALID_ARGUMENT saying what to write.
absl::StatusOr<GrpcTarget> ParseGrpcEndpoint(std::string_view endpoint);

// keepalive: of a client (configgrpc.KeepaliveClientConfig): pings every `time` without
// activity, the connection is closed after `timeout` without answer; 0: no pings.
struct GrpcClientKeepalive {
  absl::Duration time = absl::ZeroDuration();
  absl::Duration timeout = absl::Seconds(20);
  bool permit_without_stream = false;
};

// The OTLP exporter's client options (upstream's configgrpc.ClientConfig subset we have).
struct GrpcClientConfig {
  // See ParseGrpcEndpoint.
  std::string endpoint;
  // gzip | none
  std::string compression = kDefaultGrpcCompression;
  GrpcClientKeepalive keepalive;  // `keepalive:`; absent: no pings
  // Bytes read from the connection at a time (gRPC's TCP read chunk); 0: gRPC's default.
  uint64_t read_buffer_size = 0;
  // Calls wait for the channel to be ready (within the timeout) instead of failing at
  // once while it is not.
  bool wait_for_ready = false;
  // pick_first | round_robin; empty: gRPC's default (pick_first).
  std::string balancer_name;
  // The :authority of each call (and the name TLS checks, unless server_name_override).
  std::string authority;
  // gRPC metadata added to every request (names are lower-cased).
  std::map<std::string, std::string> headers;
  // tls.insecure: plaintext; otherwise TLS with the CA and client certificate files
  // (read at start), insecure_skip_verify and server_name_override.
  httpclient::TlsConfig tls;
  // auth.authenticator: an extension whose headers go with each request as metadata.
  httpclient::AuthConfig auth;

  // Reads compression, headers, tls, auth, keepalive, ...; and endpoint when
  // `read_endpoint`.
  void DecodeClient(config::Node& node, bool read_endpoint = true);
  // Checks the options, and the endpoint when one is set (the caller says whether one
  // is required).
  absl::Status ValidateClient() const;
};

// One channel to one endpoint.
class GrpcClient {
 public:
  GrpcClient(std::shared_ptr<spdlog::logger> logger, GrpcClientConfig cfg);
  ~GrpcClient();

  // Resolves the authenticator and reads the TLS files. The channel (and with it gRPC's
  // library and threads) is opened by the first Export, so an exporter that never
  // sends costs no thread.
  absl::Status Start(Host& host);

  // One Export call; returns by `deadline`. A gRPC error becomes a pipeline status
  // (retryable codes per the OTLP specification, with the server's RetryInfo delay).
  template <typename D>
  absl::Status Export(Signal signal, const D& d, absl::Time deadline);

  const std::string& endpoint() const { return cfg_.endpoint; }
  // Whether the channel was opened (by a first Export).
  bool channel_open() {
    std::lock_guard<std::mutex> lock(open_mu_);
    return channel_ != nullptr;
  }

 private:
  std::shared_ptr<spdlog::logger> logger_;
  GrpcClientConfig cfg_;
  ClientAuthenticator* auth_ = nullptr;
  // The stub, the channel opened by the first call (null before Start).
  grpc::TemplatedGenericStub<grpc::ByteBuffer, grpc::ByteBuffer>* Stub();
  std::mutex open_mu_;
  std::function<void()> open_channel_;  // set by Start; run once by Stub()
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<grpc::TemplatedGenericStub<grpc::ByteBuffer, grpc::ByteBuffer>> stub_;
};

// The exporterhelper Pusher of an OTLP/gRPC exporter: the queue and retries come from
// exporterhelper, the push is one Export.
class GrpcPusher : public exporterhelper::SignalPusher<GrpcPusher> {
 public:
  GrpcPusher(std::shared_ptr<spdlog::logger> logger, GrpcClientConfig cfg);
  ~GrpcPusher() override;

  absl::Status Start(Host& host) override { return client_.Start(host); }

  template <typename D>
  absl::Status Send(Signal signal, const D& d, absl::Time deadline) {
    return client_.Export(signal, d, deadline);
  }

 private:
  GrpcClient client_;
};

}  // namespace outrigger::otlp
