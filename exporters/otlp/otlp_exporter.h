#pragma once
// OTLP/gRPC exporter. Requests are serialized straight from pdata (parts concatenate)
// and sent through a generic stub, so no message is rebuilt. Queueing, retries and
// timeouts come from exporterhelper; this is the push.

#include <memory>

#include "collector/exporterhelper/exporterhelper.h"
#include "exporters/otlp/config.h"

namespace grpc {
class Channel;
class ByteBuffer;
template <class RequestType, class ResponseType>
class TemplatedGenericStub;
}  // namespace grpc

namespace outrigger::exporters::otlp {

class GrpcPusher : public exporterhelper::SignalPusher<GrpcPusher> {
 public:
  GrpcPusher(const CreateSettings& settings, const Config& cfg);
  ~GrpcPusher() override;

  // Reads the TLS files and opens the channel.
  absl::Status Start(Host& host) override;

  template <typename D>
  absl::Status Send(Signal signal, const D& d, absl::Time deadline);

 private:
  CreateSettings settings_;
  Config cfg_;
  ClientAuthenticator* auth_ = nullptr;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<grpc::TemplatedGenericStub<grpc::ByteBuffer, grpc::ByteBuffer>> stub_;
};

}  // namespace outrigger::exporters::otlp
