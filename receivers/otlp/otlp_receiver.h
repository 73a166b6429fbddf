#pragma once
// OTLP receiver: gRPC (one asynchronous generic service for the three Export methods,
// driven by one completion-queue thread; requests are decoded once, straight onto a
// pdata arena) and HTTP (/v1/traces,
// /v1/metrics, /v1/logs; protobuf or JSON; gzip).

#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "collector/component/admission.h"
#include "collector/component/auth.h"
#include "collector/component/component.h"
#include "collector/http/server.h"
#include "collector/telemetry/telemetry.h"
#include "receivers/otlp/config.h"
#include "receivers/otlp/http_workers.h"

namespace grpc {
class Server;
class AsyncGenericService;
class ServerCompletionQueue;
namespace experimental {
class ExternalConnectionAcceptor;
}
}  // namespace grpc

namespace outrigger::net {
class Acceptor;
}

namespace outrigger::receivers::otlp {

// The client of a gRPC call from its peer string ("ipv4:127.0.0.1:5000",
// "ipv6:[::1]:5000", also URI-escaped); exposed for tests.
void ParseGrpcPeer(std::string_view peer, pdata::ClientInfo* out);

class OtlpReceiver : public Receiver, public AdmissionClient {
 public:
  OtlpReceiver(const CreateSettings& settings, const Config& cfg);
  ~OtlpReceiver() override;

  absl::Status Start(Host& host) override;
  absl::Status Shutdown(absl::Time deadline) override;

  uint16_t grpc_port() const { return grpc_port_; }
  // Whether the gRPC server was built (with the first connection; until then neither it
  // nor gRPC's threads exist). Asked on the event loop, or after a call was answered.
  bool grpc_serving() const { return grpc_server_ != nullptr; }
  uint16_t http_port() const { return http_server_ ? http_server_->port() : 0; }

  // Decodes and delivers one export request; `rejected`/`message` describe a partial
  // success. Public for the gRPC reactor.
  struct Outcome {
    absl::Status status;
    int64_t rejected = 0;
    std::string message;
  };
  // `client`: who sent it (kept with the data for processors; may be null).
  Outcome Export(Signal signal, std::string&& body, ReceiverMeter& meter, bool json = false,
                 std::shared_ptr<const pdata::ClientInfo> client = nullptr);
  bool grpc_include_metadata() const { return cfg_.grpc.include_metadata; }
  ReceiverMeter& grpc_meter() { return grpc_meter_; }
  // The extension that checks each gRPC call (protocols.grpc.auth), or null.
  ServerAuthenticator* grpc_authenticator() const { return grpc_auth_; }
  int retry_after_seconds() const { return cfg_.retry_after_seconds; }
  // Asked by size before a request is decoded (the memory_limiter's; see admission.h).
  const Admission& admission() const { return admission_; }

 private:
  // On the event loop: answers what needs no decoding, hands the rest to a worker.
  void HandleHttp(http::Request&& req, http::Respond respond);
  // The answer to a request refused without reading it (path, method, content type), if any.
  std::optional<http::Response> CheckHttp(const http::Request& req, Signal* signal, bool* json);
  // On a worker: decompress, decode, Consume, answer.
  http::Response ProcessHttp(http::Request& req, Signal signal, bool json);
  http::Response BusyResponse(bool json);
  static http::Response ErrorResponse(const http::Request& req, int status, std::string_view message);

  CreateSettings settings_;
  Config cfg_;
  ReceiverMeter grpc_meter_;
  ReceiverMeter http_meter_;
  friend class GrpcExportCall;
  void PollGrpc();  // the gRPC completion queue's thread: drives every call (GrpcExportCall)
  // Builds the gRPC server and starts PollGrpc; on the event loop, at the first connection.
  absl::Status StartGrpcServer();
  void StopGrpc(absl::Time deadline);
  std::unique_ptr<grpc::AsyncGenericService> grpc_service_;
  std::unique_ptr<grpc::ServerCompletionQueue> grpc_cq_;
  std::thread grpc_thread_;
  std::unique_ptr<grpc::Server> grpc_server_;  // null until the first connection
  std::shared_ptr<grpc::experimental::ExternalConnectionAcceptor> grpc_handoff_;
  std::shared_ptr<net::Acceptor> grpc_acceptor_;
  int grpc_listener_fd_ = -1;
  uint16_t grpc_port_ = 0;
  ServerAuthenticator* grpc_auth_ = nullptr;
  prometheus::Counter* http_busy_;
  std::unique_ptr<HttpWorkers> http_workers_;
  std::unique_ptr<http::Server> http_server_;
};

}  // namespace outrigger::receivers::otlp
