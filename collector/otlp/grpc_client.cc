#include "collector/otlp/grpc_client.h"

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_certificate_verifier.h>
#include <grpcpp/security/tls_credentials_options.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <tuple>

#include "absl/strings/ascii.h"
#include "collector/otlp/wire.h"
#include "collector/tls/config.h"
#include "spdlog/spdlog.h"

namespace outrigger::otlp {
namespace {

absl::StatusOr<std::string> ReadFile(const std::string& what, const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return absl::FailedPreconditionError(
        StrCat("tls.", what, " \"", path, "\" cannot be read: ", std::strerror(errno)));
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

void GrpcClientConfig::DecodeClient(config::Node& node, bool read_endpoint) {
  if (read_endpoint) node.Read("endpoint", &endpoint);
  node.ReadEnum("compression", &compression, {"gzip", "none"});
  node.Read("headers", &headers);
  tls.Decode(node.Child("tls"));
  auth.Decode(node.Child("auth"));
}

absl::Status GrpcClientConfig::ValidateClient() const {
  if (auto st = tls.Validate(); !st.ok()) return st;
  return tls::GrpcFixedVersions("tls", tls.min_version, tls.max_version);
}

GrpcClient::GrpcClient(std::shared_ptr<spdlog::logger> logger, GrpcClientConfig cfg)
    : logger_(std::move(logger)), cfg_(std::move(cfg)) {}
GrpcClient::~GrpcClient() = default;

absl::Status GrpcClient::Start(Host& host) {
  auto auth = cfg_.auth.Resolve(host);
  if (!auth.ok()) return auth.status();
  auth_ = *auth;
  std::string target = cfg_.endpoint;
  bool insecure = cfg_.tls.insecure;
  for (const char* scheme : {"http://", "https://"}) {
    if (target.rfind(scheme, 0) == 0) {
      insecure = std::string_view(scheme) == "http://";
      target = target.substr(std::strlen(scheme));
    }
  }
  std::shared_ptr<grpc::ChannelCredentials> creds;
  if (insecure) {
    creds = grpc::InsecureChannelCredentials();
  } else if (cfg_.tls.insecure_skip_verify) {
    // TLS, but any server certificate is taken (testing only).
    grpc::experimental::TlsChannelCredentialsOptions o;
    o.set_verify_server_certs(false);
    o.set_check_call_host(false);
    o.set_certificate_verifier(std::make_shared<grpc::experimental::NoOpCertificateVerifier>());
    if (!cfg_.tls.cert_file.empty()) {
      auto cert = ReadFile("cert_file", cfg_.tls.cert_file);
      if (!cert.ok()) return cert.status();
      auto key = ReadFile("key_file", cfg_.tls.key_file);
      if (!key.ok()) return key.status();
      o.set_certificate_provider(std::make_shared<grpc::experimental::StaticDataCertificateProvider>(
          std::vector<grpc::experimental::IdentityKeyCertPair>{{std::move(*key), std::move(*cert)}}));
      o.watch_identity_key_cert_pairs();
    }
    creds = grpc::experimental::TlsCredentials(o);
  } else {
    grpc::SslCredentialsOptions o;
    for (auto [what, path, out] : {std::make_tuple("ca_file", &cfg_.tls.ca_file, &o.pem_root_certs),
                                   std::make_tuple("cert_file", &cfg_.tls.cert_file, &o.pem_cert_chain),
                                   std::make_tuple("key_file", &cfg_.tls.key_file, &o.pem_private_key)}) {
      if (path->empty()) continue;
      auto content = ReadFile(what, *path);
      if (!content.ok()) return content.status();
      *out = std::move(*content);
    }
    creds = grpc::SslCredentials(o);
  }
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 << 20);
  if (cfg_.compression == "gzip") args.SetCompressionAlgorithm(GRPC_COMPRESS_GZIP);
  if (!insecure && !cfg_.tls.server_name_override.empty()) args.SetSslTargetNameOverride(cfg_.tls.server_name_override);
  channel_ = grpc::CreateCustomChannel(target, creds, args);
  stub_ = std::make_unique<grpc::GenericStub>(channel_);
  return absl::OkStatus();
}

template <typename D>
absl::Status GrpcClient::Export(Signal signal, const D& d, absl::Time deadline) {
  if (stub_ == nullptr) return absl::FailedPreconditionError("the OTLP/gRPC client was not started");
  // The encoded batch is handed to gRPC without a copy; the slice frees it.
  auto* body = new std::string(d.ToProto());
  grpc::Slice slice(
      body->data(), body->size(), [](void* p) { delete static_cast<std::string*>(p); }, body);
  grpc::ByteBuffer request(&slice, 1);
  grpc::ByteBuffer response;
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(deadline));
  for (const auto& [k, v] : cfg_.headers) ctx.AddMetadata(absl::AsciiStrToLower(k), v);
  if (auth_ != nullptr) {
    auto h = auth_->Headers();
    if (!h.ok()) return absl::UnavailableError(StrCat("auth: ", h.status().message()));
    for (const auto& [k, v] : *h) ctx.AddMetadata(absl::AsciiStrToLower(k), v);
  }
  // The calling thread drives the call on a completion queue of its own (as gRPC's
  // synchronous stubs do): no hand-off to gRPC's callback threads and back (a futex
  // wake and a poller kick each way per export).
  grpc::CompletionQueue cq;
  grpc::Status st;
  auto call = stub_->PrepareUnaryCall(&ctx, std::string(ExportMethod(signal)), request, &cq);
  call->StartCall();
  call->Finish(&response, &st, &cq);
  void* tag = nullptr;
  bool ok = false;
  if (!cq.Next(&tag, &ok)) st = grpc::Status(grpc::StatusCode::INTERNAL, "the completion queue shut down");
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
  if (!st.ok()) return FromGrpc(st);
  grpc::Slice out;
  if (response.DumpToSingleSlice(&out).ok()) {
    int64_t rejected = 0;
    std::string message;
    std::string_view bytes(reinterpret_cast<const char*>(out.begin()), out.size());
    if (DecodeExportResponse(signal, bytes, &rejected, &message) && rejected > 0) {
      logger_->warn("the server rejected {} of {} {}: {}", rejected, d.ItemCount(), ItemNoun(signal), message);
    }
  }
  return absl::OkStatus();
}

template absl::Status GrpcClient::Export(Signal, const pdata::Traces&, absl::Time);
template absl::Status GrpcClient::Export(Signal, const pdata::Metrics&, absl::Time);
template absl::Status GrpcClient::Export(Signal, const pdata::Logs&, absl::Time);

GrpcPusher::GrpcPusher(std::shared_ptr<spdlog::logger> logger, GrpcClientConfig cfg)
    : client_(std::move(logger), std::move(cfg)) {}
GrpcPusher::~GrpcPusher() = default;

}  // namespace outrigger::otlp
