#include "receivers/otlp/otlp_receiver.h"

#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_credentials_options.h>
#include <grpcpp/server_builder.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "collector/common/thread_name.h"
#include "collector/component/auth.h"
#include "collector/http/config.h"
#include "collector/net/acceptor.h"
#include "collector/otlp/wire.h"
#include "spdlog/spdlog.h"

namespace outrigger::receivers::otlp {
namespace {

template <typename D>
OtlpReceiver::Outcome Deliver(absl::StatusOr<D> decoded, Signal signal, Consumer* consumer, ReceiverMeter& meter,
                              const std::shared_ptr<spdlog::logger>& logger,
                              std::shared_ptr<const pdata::ClientInfo> client) {
  OtlpReceiver::Outcome out;
  if (!decoded.ok()) {
    meter.Malformed();
    logger->warn("refused a {} export: {}", SignalName(signal), decoded.status().message());
    out.status = decoded.status();
    return out;
  }
  D data = std::move(*decoded);
  std::string why;
  size_t invalid = data.DropInvalidIds(&why);
  if (invalid > 0) {
    meter.Refused(signal, invalid);
    out.rejected = static_cast<int64_t>(invalid);
    out.message = StrCat(invalid, " ", ItemNoun(signal), " rejected: ", why);
  }
  const size_t n = data.ItemCount();
  if (n == 0) return out;
  if (client) data.SetClientInfo(std::move(client));
  out.status = consumer->Consume(std::move(data));
  if (out.status.ok()) {
    meter.Accepted(signal, n);
  } else {
    meter.Refused(signal, n);
  }
  return out;
}

std::optional<Signal> SignalForMethod(std::string_view method) {
  for (Signal s : kAllSignals) {
    if (outrigger::otlp::ExportMethod(s) == method) return s;
  }
  return std::nullopt;
}

}  // namespace

// One unary Export call on the asynchronous generic service, driven by the receiver's
// completion-queue thread (PollGrpc): the thread that polls gRPC's sockets also reads,
// delivers and answers, so a call costs no hand-off between threads (gRPC's callback
// API ran it on two "nexting" threads that woke each other: ~17 syscalls per call,
// mostly futex and wakeup-fd kicks). Each completion of the call's current step comes
// back as this object's tag (Proceed).
class GrpcExportCall {
 public:
  // Asks gRPC for the next call.
  static void Request(OtlpReceiver* receiver) {
    auto* c = new GrpcExportCall(receiver);
    receiver->grpc_service_->RequestCall(&c->ctx_, &c->stream_, receiver->grpc_cq_.get(), receiver->grpc_cq_.get(), c);
  }

  // `ok`: whether the step succeeded (false: the call is gone or the server stops).
  void Proceed(bool ok) {
    switch (step_) {
      case Step::kRequested:
        if (!ok) {  // shutting down: no more calls
          delete this;
          return;
        }
        Request(receiver_);  // the next one
        Start();
        return;
      case Step::kReading:
        OnRead(ok);
        return;
      case Step::kFinishing:
        delete this;
        return;
    }
  }

 private:
  enum class Step { kRequested, kReading, kFinishing };
  explicit GrpcExportCall(OtlpReceiver* receiver) : receiver_(receiver) {}

  void Start() {
    if (ServerAuthenticator* auth = receiver_->grpc_authenticator()) {
      // Metadata names arrive lower-cased; binary (-bin) values are not text headers.
      std::map<std::string, std::string> headers;
      for (const auto& [k, v] : ctx_.client_metadata()) {
        std::string name(k.data(), k.size());
        if (name.size() > 4 && name.compare(name.size() - 4, 4, "-bin") == 0) continue;
        headers.emplace(std::move(name), std::string(v.data(), v.size()));
      }
      if (absl::Status st = auth->Authenticate(headers); !st.ok()) {
        Finish(grpc::Status(grpc::StatusCode::UNAUTHENTICATED, std::string(st.message())));
        return;
      }
    }
    client_ = std::make_shared<pdata::ClientInfo>();
    ParseGrpcPeer(ctx_.peer(), client_.get());
    if (receiver_->grpc_include_metadata()) {
      for (const auto& [k, v] : ctx_.client_metadata()) {
        std::string name(k.data(), k.size());  // gRPC metadata names are lower case
        if (name.size() > 4 && name.compare(name.size() - 4, 4, "-bin") == 0) continue;
        client_->metadata[name].emplace_back(v.data(), v.size());
      }
    }
    auto sig = SignalForMethod(ctx_.method());
    if (!sig) {
      Finish(grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                          StrCat("unknown method ", ctx_.method(), "; this is an OTLP receiver")));
      return;
    }
    signal_ = *sig;
    // Above the memory limit, refused before the message is even read.
    if (auto t = receiver_->admission().Admit(0); !t.ok()) {
      Finish(outrigger::otlp::ToGrpc(t.status(), absl::Seconds(receiver_->retry_after_seconds())));
      return;
    }
    step_ = Step::kReading;
    stream_.Read(&request_, this);
  }

  void OnRead(bool ok) {
    if (!ok) {
      Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "no request message"));
      return;
    }
    // Admitted by size before it is copied and decoded (gRPC has read it: it cannot be
    // refused earlier).
    auto ticket = receiver_->admission().Admit(request_.Length());
    if (!ticket.ok()) {
      request_.Clear();
      Finish(outrigger::otlp::ToGrpc(ticket.status(), absl::Seconds(receiver_->retry_after_seconds())));
      return;
    }
    // One copy, from gRPC's slices into the string pdata keeps.
    std::vector<grpc::Slice> slices;
    if (!request_.Dump(&slices).ok()) {
      Finish(grpc::Status(grpc::StatusCode::INTERNAL, "cannot read the request"));
      return;
    }
    std::string body;
    body.reserve(request_.Length());
    for (const auto& s : slices) body.append(reinterpret_cast<const char*>(s.begin()), s.size());
    request_.Clear();
    auto outcome = receiver_->Export(signal_, std::move(body), receiver_->grpc_meter(), false, std::move(client_));
    if (!outcome.status.ok()) {
      Finish(outrigger::otlp::ToGrpc(outcome.status, absl::Seconds(receiver_->retry_after_seconds())));
      return;
    }
    std::string resp = outrigger::otlp::EncodeExportResponse(signal_, outcome.rejected, outcome.message, false);
    grpc::Slice out(resp);
    response_ = grpc::ByteBuffer(&out, 1);
    step_ = Step::kFinishing;
    stream_.WriteAndFinish(response_, grpc::WriteOptions(), grpc::Status::OK, this);
  }

  void Finish(const grpc::Status& status) {
    step_ = Step::kFinishing;
    stream_.Finish(status, this);
  }

  OtlpReceiver* receiver_;
  Step step_ = Step::kRequested;
  grpc::GenericServerContext ctx_;
  grpc::GenericServerAsyncReaderWriter stream_{&ctx_};
  Signal signal_ = Signal::kTraces;
  grpc::ByteBuffer request_;
  grpc::ByteBuffer response_;
  std::shared_ptr<pdata::ClientInfo> client_;
};

void OtlpReceiver::PollGrpc() {
  void* tag = nullptr;
  bool ok = false;
  while (grpc_cq_->Next(&tag, &ok)) static_cast<GrpcExportCall*>(tag)->Proceed(ok);
}

namespace {

// Checks that the PEM file of option `key` can be read and holds a `block`
// ("CERTIFICATE", "PRIVATE KEY"), so a wrong path fails Start with a message naming it.
absl::Status CheckPemFile(const std::string& key, const std::string& path, std::string_view block) {
  std::ifstream in(path);
  if (!in) {
    return absl::FailedPreconditionError(
        StrCat("protocols.grpc.tls.", key, " \"", path, "\" cannot be read: ", std::strerror(errno)));
  }
  std::stringstream ss;
  ss << in.rdbuf();
  if (ss.str().find("-----BEGIN ") == std::string::npos || ss.str().find(block) == std::string::npos) {
    return absl::FailedPreconditionError(StrCat("protocols.grpc.tls.", key, " \"", path, "\" holds no PEM ", block));
  }
  return absl::OkStatus();
}

// The TLS files of the gRPC server, checked at Start (the server itself is built with
// the first connection).
absl::Status CheckGrpcServerTls(const tls::ServerConfig& t) {
  if (!t.enabled()) return absl::OkStatus();
  const std::string& roots = t.client_ca_file.empty() ? t.ca_file : t.client_ca_file;
  const char* roots_key = t.client_ca_file.empty() ? "ca_file" : "client_ca_file";
  if (auto st = CheckPemFile("cert_file", t.cert_file, "CERTIFICATE"); !st.ok()) return st;
  if (auto st = CheckPemFile("key_file", t.key_file, "PRIVATE KEY"); !st.ok()) return st;
  if (!roots.empty()) {
    if (auto st = CheckPemFile(roots_key, roots, "CERTIFICATE"); !st.ok()) return st;
  }
  return absl::OkStatus();
}

// TLS (and mTLS) for the gRPC server: the files are watched by gRPC, so rotated
// certificates are used for new connections without a restart.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> GrpcServerCredentials(const tls::ServerConfig& t) {
  if (!t.enabled()) return grpc::InsecureServerCredentials();
  if (auto st = CheckGrpcServerTls(t); !st.ok()) return st;
  const std::string& roots = t.client_ca_file.empty() ? t.ca_file : t.client_ca_file;
  // reload_interval 0: gRPC checks the files every second (it compares their contents).
  const int64_t secs = absl::ToInt64Seconds(absl::Ceil(t.reload_interval, absl::Seconds(1)));
  const unsigned interval = static_cast<unsigned>(std::clamp<int64_t>(secs, 1, 86400));
  std::shared_ptr<grpc::experimental::CertificateProviderInterface> provider =
      roots.empty()
          ? std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(t.key_file, t.cert_file, interval)
          : std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(t.key_file, t.cert_file, roots,
                                                                                 interval);
  grpc::experimental::TlsServerCredentialsOptions opts(provider);
  opts.watch_identity_key_cert_pairs();
  if (!roots.empty()) opts.watch_root_certs();
  opts.set_cert_request_type(t.mutual()      ? GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY
                             : roots.empty() ? GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE
                                             : GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY);
  auto creds = grpc::experimental::TlsServerCredentials(opts);
  if (!creds) return absl::InvalidArgumentError("protocols.grpc.tls: gRPC refused the TLS settings");
  return creds;
}

}  // namespace

OtlpReceiver::OtlpReceiver(const CreateSettings& settings, const Config& cfg)
    : settings_(settings),
      cfg_(cfg),
      grpc_meter_(settings.telemetry->ForReceiver(settings.id, "grpc")),
      http_meter_(settings.telemetry->ForReceiver(settings.id, "http")),
      http_busy_(&settings.telemetry->AddCounter(
          "outrigger_receiver_otlp_http_busy_total",
          "OTLP/HTTP requests answered 503 because no worker was free in time (the pipeline is slow)",
          {{"receiver", settings.id.String()}})) {}

OtlpReceiver::~OtlpReceiver() { (void)Shutdown(absl::Now()); }

void ParseGrpcPeer(std::string_view peer, pdata::ClientInfo* out) {
  std::string p(peer);
  for (auto [from, to] : {std::pair{"%5B", "["}, std::pair{"%5D", "]"}, std::pair{"%5b", "["}, std::pair{"%5d", "]"}}) {
    for (size_t at; (at = p.find(from)) != std::string::npos;) p.replace(at, 3, to);
  }
  std::string_view v = p;
  if (v.rfind("ipv4:", 0) == 0 || v.rfind("ipv6:", 0) == 0) {
    v.remove_prefix(5);
  } else {
    return;  // unix sockets and others: no address
  }
  std::string_view host = v, port;
  if (!v.empty() && v[0] == '[') {
    size_t close = v.find(']');
    if (close == std::string_view::npos) return;
    host = v.substr(1, close - 1);
    if (close + 1 < v.size() && v[close + 1] == ':') port = v.substr(close + 2);
  } else if (size_t colon = v.rfind(':'); colon != std::string_view::npos) {
    host = v.substr(0, colon);
    port = v.substr(colon + 1);
  }
  if (host.rfind("::ffff:", 0) == 0 && host.find('.') != std::string_view::npos) host.remove_prefix(7);
  out->address = std::string(host);
  uint32_t n = 0;
  for (char c : port) {
    if (c < '0' || c > '9' || (n = n * 10 + static_cast<uint32_t>(c - '0')) > 65535) return;
  }
  out->port = static_cast<uint16_t>(n);
}

OtlpReceiver::Outcome OtlpReceiver::Export(Signal signal, std::string&& body, ReceiverMeter& meter, bool json,
                                           std::shared_ptr<const pdata::ClientInfo> client) {
  Consumer* consumer = consumers_.For(signal);
  if (consumer == nullptr) {
    Outcome out;
    out.status = absl::UnimplementedError(StrCat("this receiver is in no ", SignalName(signal), " pipeline"));
    return out;
  }
  switch (signal) {
    case Signal::kTraces:
      return Deliver(json ? pdata::Traces::FromJson(body) : pdata::Traces::FromProto(std::move(body)), signal, consumer,
                     meter, settings_.logger, std::move(client));
    case Signal::kMetrics:
      return Deliver(json ? pdata::Metrics::FromJson(body) : pdata::Metrics::FromProto(std::move(body)), signal,
                     consumer, meter, settings_.logger, std::move(client));
    case Signal::kLogs:
      return Deliver(json ? pdata::Logs::FromJson(body) : pdata::Logs::FromProto(std::move(body)), signal, consumer,
                     meter, settings_.logger, std::move(client));
  }
  return {};
}

namespace {
bool WantsJson(const http::Request& req) {
  std::string ct = absl::AsciiStrToLower(req.Header("content-type"));
  return ct.rfind("application/json", 0) == 0;
}
}  // namespace

http::Response OtlpReceiver::ErrorResponse(const http::Request& req, int status, std::string_view message) {
  // OTLP/HTTP: an error body is a google.rpc.Status in the request's encoding.
  http::Response resp;
  const bool json = WantsJson(req);
  resp.status = status;
  resp.content_type = json ? "application/json" : "application/x-protobuf";
  absl::StatusCode code = status == 413   ? absl::StatusCode::kResourceExhausted
                          : status == 429 ? absl::StatusCode::kResourceExhausted
                          : status == 503 ? absl::StatusCode::kUnavailable
                          : status == 401 ? absl::StatusCode::kUnauthenticated
                                          : absl::StatusCode::kInvalidArgument;
  resp.body = outrigger::otlp::EncodeRpcStatus(code, message, json);
  return resp;
}

std::optional<http::Response> OtlpReceiver::CheckHttp(const http::Request& req, Signal* signal, bool* json) {
  http::Response resp;
  if (req.path == cfg_.http.traces_url_path) {
    *signal = Signal::kTraces;
  } else if (req.path == cfg_.http.metrics_url_path) {
    *signal = Signal::kMetrics;
  } else if (req.path == cfg_.http.logs_url_path) {
    *signal = Signal::kLogs;
  } else {
    resp.status = 404;
    resp.body = StrCat("no OTLP endpoint at ", req.path, "; use ", cfg_.http.traces_url_path, ", ",
                       cfg_.http.metrics_url_path, " or ", cfg_.http.logs_url_path, "\n");
    return resp;
  }
  if (req.method != "POST") {
    resp.status = 405;
    resp.headers.emplace_back("Allow", "POST");
    resp.body = "only POST is allowed\n";
    return resp;
  }
  std::string ct = absl::AsciiStrToLower(req.Header("content-type"));
  ct = ct.substr(0, ct.find(';'));
  ct = std::string(absl::StripAsciiWhitespace(ct));
  if (ct == "application/x-protobuf" || ct == "application/protobuf") {
    *json = false;
  } else if (ct == "application/json") {
    *json = true;
  } else {
    resp.status = 415;
    resp.body = StrCat("unsupported content type \"", req.Header("content-type"),
                       "\": use application/x-protobuf or application/json\n");
    http_meter_.Malformed();
    return resp;
  }
  return std::nullopt;
}

http::Response OtlpReceiver::BusyResponse(bool json) {
  http_busy_->Increment();
  http::Response resp;
  resp.status = 503;
  resp.content_type = json ? "application/json" : "application/x-protobuf";
  resp.headers.emplace_back("Retry-After", StrCat(cfg_.retry_after_seconds));
  resp.body = outrigger::otlp::EncodeRpcStatus(
      absl::StatusCode::kUnavailable,
      StrCat("the OTLP/HTTP receiver is busy: its workers all wait on the pipeline (retry after ",
             cfg_.retry_after_seconds, " s)"),
      json);
  return resp;
}

void OtlpReceiver::HandleHttp(http::Request&& req, http::Respond respond) {
  Signal signal = Signal::kTraces;
  bool json = false;
  if (auto early = CheckHttp(req, &signal, &json)) {
    respond(std::move(*early));
    return;
  }
  // Decoding and Consume run on a worker: the event loop never waits on the pipeline.
  const uint64_t bytes = req.body.size();
  auto shared = std::make_shared<http::Request>(std::move(req));
  auto refuse = [this, respond, json] { respond(BusyResponse(json)); };
  if (!http_workers_->Submit(
          bytes, [this, shared, respond, signal, json] { respond(ProcessHttp(*shared, signal, json)); }, refuse)) {
    refuse();
  }
}

http::Response OtlpReceiver::ProcessHttp(http::Request& req, Signal signal, bool json) {
  http::Response resp;
  resp.content_type = json ? "application/json" : "application/x-protobuf";
  auto fail = [&](int code, absl::StatusCode sc, Text msg) {
    resp.status = code;
    resp.body = outrigger::otlp::EncodeRpcStatus(sc, msg.v, json);
    return resp;
  };
  std::string encoding = absl::AsciiStrToLower(req.Header("content-encoding"));
  if (!cfg_.http.EncodingAllowed(encoding)) {
    http_meter_.Malformed();
    return fail(400, absl::StatusCode::kInvalidArgument,
                StrCat("unsupported Content-Encoding \"", encoding, "\" (protocols.http.compression_algorithms)"));
  }
  std::string body = std::move(req.body);
  Admission::Ticket extra_ticket;
  if (encoding == "gzip" || encoding == "deflate" || encoding == "zlib") {
    auto out = outrigger::otlp::Gunzip(body, cfg_.http.max_request_body_size);
    if (!out.ok()) {
      http_meter_.Malformed();
      settings_.logger->warn("refused an OTLP/HTTP request: {}", out.status().message());
      bool too_big = out.status().code() == absl::StatusCode::kResourceExhausted;
      return fail(too_big ? 413 : 400, out.status().code(), out.status().message());
    }
    // What decompression added is admitted too, before decoding.
    if (out->size() > body.size()) {
      auto more = admission_.Admit(out->size() - body.size());
      if (!more.ok()) {
        resp.headers.emplace_back("Retry-After", StrCat(cfg_.retry_after_seconds));
        return fail(429, more.status().code(), more.status().message());
      }
      extra_ticket = std::move(*more);
    }
    body = std::move(*out);
  } else if (!encoding.empty() && encoding != "identity") {
    http_meter_.Malformed();
    return fail(415, absl::StatusCode::kInvalidArgument,
                StrCat("unsupported Content-Encoding \"", encoding, "\": use gzip or none"));
  }
  auto client = std::make_shared<pdata::ClientInfo>();
  client->address = req.remote_address;
  client->port = req.remote_port;
  if (cfg_.http.include_metadata) {
    for (const auto& [k, v] : req.headers) client->metadata[k].push_back(v);
  }
  auto outcome = Export(signal, std::move(body), http_meter_, json, std::move(client));
  if (!outcome.status.ok()) {
    int code = outrigger::otlp::HttpStatusFor(outcome.status);
    if (code == 429 || code == 503) {
      resp.headers.emplace_back("Retry-After", StrCat(cfg_.retry_after_seconds));
    }
    return fail(code, outcome.status.code(), outcome.status.message());
  }
  resp.body = outrigger::otlp::EncodeExportResponse(signal, outcome.rejected, outcome.message, json);
  return resp;
}

absl::Status OtlpReceiver::StartGrpcServer() {
  auto creds = GrpcServerCredentials(cfg_.grpc.tls);
  if (!creds.ok()) return creds.status();
  grpc_service_ = std::make_unique<grpc::AsyncGenericService>();
  grpc::ServerBuilder builder;
  // We accept the connections (net::Acceptor: it survives the descriptor limit, where
  // gRPC 1.51's own acceptor stops for good) and hand each one to gRPC.
  grpc_handoff_ = builder.experimental().AddExternalConnectionAcceptor(
      grpc::ServerBuilder::experimental_type::ExternalConnectionType::FROM_FD, *creds);
  builder.SetMaxReceiveMessageSize(cfg_.grpc.max_recv_msg_size_mib << 20);
  if (cfg_.grpc.max_concurrent_streams > 0) {
    builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS, cfg_.grpc.max_concurrent_streams);
  }
  const GrpcKeepalive& ka = cfg_.grpc.keepalive;
  auto ms = [](absl::Duration d) {
    return static_cast<int>(std::min<int64_t>(absl::ToInt64Milliseconds(d), std::numeric_limits<int>::max()));
  };
  if (ka.max_connection_idle > absl::ZeroDuration()) {
    builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_IDLE_MS, ms(ka.max_connection_idle));
  }
  if (ka.max_connection_age > absl::ZeroDuration()) {
    builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_MS, ms(ka.max_connection_age));
  }
  if (ka.max_connection_age_grace > absl::ZeroDuration()) {
    builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_GRACE_MS, ms(ka.max_connection_age_grace));
  }
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, ms(ka.time));
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, ms(ka.timeout));
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, ms(ka.min_time));
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, ka.permit_without_stream ? 1 : 0);
  builder.AddChannelArgument(GRPC_ARG_SERVER_HANDSHAKE_TIMEOUT_MS, ms(kGrpcHandshakeTimeout));
  if (cfg_.grpc.read_buffer_size > 0) {
    builder.AddChannelArgument(GRPC_ARG_TCP_READ_CHUNK_SIZE, static_cast<int>(cfg_.grpc.read_buffer_size));
  }
  builder.RegisterAsyncGenericService(grpc_service_.get());
  grpc_cq_ = builder.AddCompletionQueue();
  grpc_server_ = builder.BuildAndStart();
  if (!grpc_server_) {
    grpc_handoff_.reset();
    grpc_cq_.reset();
    grpc_service_.reset();
    return absl::UnavailableError(StrCat("OTLP/gRPC cannot start on ", cfg_.grpc.endpoint));
  }
  GrpcExportCall::Request(this);
  grpc_thread_ = NamedThread("otlp-grpc", [this] { PollGrpc(); });
  return absl::OkStatus();
}

absl::Status OtlpReceiver::Start(Host& host) {
  if (cfg_.grpc.enabled) {
    auto hp = http::ParseEndpoint(cfg_.grpc.endpoint);
    if (!hp.ok()) return hp.status();
    if (!cfg_.grpc.auth.authenticator.empty()) {
      auto a = http::FindServerAuthenticator(&host, cfg_.grpc.auth);
      if (!a.ok()) return absl::Status(a.status().code(), StrCat("protocols.grpc.", a.status().message()));
      grpc_auth_ = *a;
    }
    if (auto st = CheckGrpcServerTls(cfg_.grpc.tls); !st.ok()) return st;
    // The gRPC server (and gRPC itself: grpc_init, its threads) is built with the first
    // connection, on the event loop: a receiver no gRPC client uses costs no thread.
    auto acceptor = net::Acceptor::Listen(
        host.IoContext(), hp->host, hp->port,
        [this](boost::asio::ip::tcp::socket socket) {
          if (!grpc_server_) {
            if (auto st = StartGrpcServer(); !st.ok()) {
              settings_.logger->error("OTLP/gRPC: {}; connection closed", st.message());
              return;
            }
          }
          boost::system::error_code ec;
          socket.set_option(boost::asio::ip::tcp::no_delay(true), ec);
          socket.native_non_blocking(true, ec);  // gRPC's reads expect a non-blocking descriptor
          grpc::experimental::ExternalConnectionAcceptor::NewConnectionParameters p;
          p.listener_fd = grpc_listener_fd_;
          p.fd = socket.release(ec);
          if (!ec) grpc_handoff_->HandleNewConnection(&p);
        },
        net::Refusals(StrCat("receiver/", settings_.id.String(), "/grpc"), {}, settings_.telemetry, settings_.logger));
    if (!acceptor.ok()) {
      StopGrpc(absl::Now());
      return absl::Status(acceptor.status().code(), StrCat("OTLP/gRPC: ", acceptor.status().message()));
    }
    grpc_acceptor_ = std::move(*acceptor);
    grpc_listener_fd_ = grpc_acceptor_->native_handle();
    grpc_acceptor_->Start();
    grpc_port_ = grpc_acceptor_->port();
    settings_.logger->info("OTLP/gRPC listening on {}:{}{}{}", hp->host, grpc_port_,
                           !cfg_.grpc.tls.enabled() ? ""
                           : cfg_.grpc.tls.mutual() ? " (TLS, client certificates required)"
                                                    : " (TLS)",
                           grpc_auth_ != nullptr ? StrCat(", authenticated by ", cfg_.grpc.auth.authenticator) : "");
  }
  if (cfg_.http.enabled) {
    auto opts = http::MakeServerOptions(&host, cfg_.http.limits, cfg_.http.tls, cfg_.http.auth, settings_.telemetry,
                                        StrCat("receiver/", settings_.id.String()), settings_.logger);
    if (!opts.ok()) return absl::Status(opts.status().code(), StrCat("OTLP/HTTP: ", opts.status().message()));
    opts->max_body_bytes = cfg_.http.max_request_body_size;
    if (!admission_.empty()) {
      opts->admit = [this](const http::Request&, uint64_t bytes) { return admission_.Admit(bytes); };
      opts->retry_after = absl::Seconds(cfg_.retry_after_seconds);
    }
    http_workers_ = std::make_unique<HttpWorkers>(host.IoContext(), HttpWorkers::Limits{});
    auto srv = http::Server::ListenAsync(
        host.IoContext(), cfg_.http.endpoint, std::move(*opts),
        [this](http::Request&& r, http::Respond respond) { HandleHttp(std::move(r), std::move(respond)); },
        [this](int status, const std::string& reason, const http::Request& r) {
          if (status != 401 && status != 429) http_meter_.Malformed();  // refusals are counted by the server too
          return ErrorResponse(r, status, reason);
        });
    if (!srv.ok()) return absl::Status(srv.status().code(), StrCat("OTLP/HTTP: ", srv.status().message()));
    http_server_ = std::move(*srv);
    settings_.logger->info("OTLP/HTTP{} listening on {} (port {})",
                           cfg_.http.tls.enabled() ? (cfg_.http.tls.mutual() ? " (mTLS)" : " (TLS)") : "",
                           cfg_.http.endpoint, http_server_->port());
  }
  return absl::OkStatus();
}

absl::Status OtlpReceiver::Shutdown(absl::Time deadline) {
  if (http_server_) {
    http_server_->Stop();
    http_server_.reset();
  }
  if (http_workers_) {
    // What waits is refused (its connection is closed already); what runs ends, bounded
    // by the pipeline's own timeouts, before the processors and exporters stop.
    http_workers_->Stop();
    http_workers_.reset();
  }
  if (grpc_acceptor_) {
    grpc_acceptor_->Stop();
    grpc_acceptor_.reset();
  }
  StopGrpc(deadline);
  return absl::OkStatus();
}

void OtlpReceiver::StopGrpc(absl::Time deadline) {
  if (!grpc_server_) return;
  // In-flight calls finish (they are delivered or refused); new ones are refused. Then
  // the queue is shut down and drained by its thread, which ends.
  grpc_server_->Shutdown(absl::ToChronoTime(deadline));
  grpc_cq_->Shutdown();
  if (grpc_thread_.joinable()) grpc_thread_.join();
  grpc_server_->Wait();
  grpc_server_.reset();
  grpc_cq_.reset();
  grpc_service_.reset();
  grpc_handoff_.reset();
}

}  // namespace outrigger::receivers::otlp
