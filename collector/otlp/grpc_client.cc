#include "collector/otlp/grpc_client.h"

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_certificate_verifier.h>
#include <grpcpp/security/tls_credentials_options.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <future>
#include <limits>
#include <optional>
#include <sstream>
#include <tuple>
#include <utility>

#include "absl/strings/ascii.h"
#include "collector/otlp/wire.h"
#include "collector/tls/config.h"
#include "spdlog/spdlog.h"

// gRPC C++ names this class a friend of grpc::ByteBuffer (for its own tests) and defines
// it nowhere: it is how a ByteBuffer gets a core byte buffer made with the C API.
namespace grpc::internal {
class GrpcByteBufferPeer {
 public:
  static void Set(ByteBuffer* b, grpc_byte_buffer* raw) { b->set_buffer(raw); }
};
}  // namespace grpc::internal

namespace outrigger::otlp {
namespace {

// The level our gzip compresses gRPC requests at (gRPC's own would be zlib's default, 6).
constexpr int kGrpcGzipLevel = 1;

// The request message of an Export call, encoded (and compressed) straight into the
// memory of gRPC slices: nothing zero-filled, nothing copied. With gzip, compressed here
// (libdeflate, kGrpcGzipLevel) and marked as compressed: gRPC then sends it as it is,
// with the message's compressed flag and the channel's `grpc-encoding: gzip`, instead of
// compressing it again with zlib at level 6.
template <typename D>
grpc::ByteBuffer RequestMessage(const D& d, bool gzip) {
  const size_t size = d.ByteSize();
  auto writable = [](const grpc::Slice& s) { return const_cast<uint8_t*>(s.begin()); };  // a slice of our own
  if (!gzip) {
    grpc::Slice body(size);
    d.WriteProtoTo(writable(body));
    return grpc::ByteBuffer(&body, 1);
  }
  std::unique_ptr<uint8_t[]> body(new uint8_t[size]);
  d.WriteProtoTo(body.get());
  grpc::Slice room(GzipBound(size, kGrpcGzipLevel));
  const size_t n = GzipTo(std::string_view(reinterpret_cast<const char*>(body.get()), size), kGrpcGzipLevel,
                          reinterpret_cast<char*>(writable(room)), room.size());
  grpc::Slice compressed = room.sub(0, n);
  grpc::ByteBuffer message;
  grpc::internal::GrpcByteBufferPeer::Set(
      &message,
      grpc_raw_compressed_byte_buffer_create(reinterpret_cast<grpc_slice*>(&compressed), 1, GRPC_COMPRESS_GZIP));
  return message;
}

// The calling thread's completion queue, kept for its next calls (one call at a time:
// its only event is that call's end); shut down and drained when the thread ends.
grpc::CompletionQueue& ThreadCompletionQueue() {
  struct Kept {
    grpc::CompletionQueue cq;
    ~Kept() {
      cq.Shutdown();
      void* tag = nullptr;
      bool ok = false;
      while (cq.Next(&tag, &ok)) {
      }
    }
  };
  thread_local Kept kept;
  return kept.cq;
}

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

// "host:port" with a numeric port; an IPv6 host in brackets.
absl::Status CheckHostPort(std::string_view endpoint, std::string_view hostport) {
  auto bad = [&](Text why) { return absl::InvalidArgumentError(StrCat("endpoint \"", endpoint, "\": ", why.v)); };
  if (hostport.empty()) return bad("no host:port (e.g. collector.example.com:4317)");
  if (auto slash = hostport.find('/'); slash != std::string_view::npos) {
    return bad(StrCat("a gRPC endpoint has no path (\"", hostport.substr(slash),
                      "\"): give host:port only (gRPC chooses the path by signal; a URL with a path is the "
                      "otlp_http exporter's)"));
  }
  std::string_view port;
  if (hostport.front() == '[') {
    auto close = hostport.find(']');
    if (close == std::string_view::npos) return bad("an IPv6 address misses its ']'");
    if (close + 1 == hostport.size()) return bad("no port: give [address]:port (e.g. [::1]:4317)");
    if (hostport[close + 1] != ':') return bad("expected ':' and the port after ']'");
    port = hostport.substr(close + 2);
  } else {
    auto colon = hostport.rfind(':');
    if (colon == std::string_view::npos) {
      return bad(StrCat("no port: give host:port (e.g. ", hostport, ":4317)"));
    }
    if (hostport.substr(0, colon).find(':') != std::string_view::npos) {
      return bad("an IPv6 address must be in brackets: [address]:port");
    }
    port = hostport.substr(colon + 1);
  }
  int n = 0;
  if (port.empty() || port.size() > 5 || !std::all_of(port.begin(), port.end(), absl::ascii_isdigit) ||
      (n = std::stoi(std::string(port))) < 1 || n > 65535) {
    return bad(StrCat("invalid port \"", port, "\" (1 to 65535)"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<GrpcTarget> ParseGrpcEndpoint(std::string_view endpoint) {
  GrpcTarget t;
  if (endpoint.empty()) return absl::InvalidArgumentError("endpoint is empty: give host:port");
  for (auto [scheme, mode] :
       {std::pair{"http://", GrpcTarget::Tls::kOff}, std::pair{"https://", GrpcTarget::Tls::kOn}}) {
    if (endpoint.starts_with(scheme)) {
      std::string_view rest = endpoint.substr(std::strlen(scheme));
      if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);  // "http://host:4317/"
      if (auto st = CheckHostPort(endpoint, rest); !st.ok()) return st;
      t.target = std::string(rest);
      t.tls = mode;
      return t;
    }
  }
  if (endpoint.starts_with("unix:")) {
    std::string_view path = endpoint.substr(5);
    if (path.starts_with("//")) {
      path.remove_prefix(2);
      if (path.empty() || path.front() != '/') {
        return absl::InvalidArgumentError(StrCat("endpoint \"", endpoint,
                                                 "\": unix:// takes an absolute path (unix:///run/otel.sock); "
                                                 "a relative one is written unix:relative/path"));
      }
    }
    if (path.empty()) return absl::InvalidArgumentError(StrCat("endpoint \"", endpoint, "\": no socket path"));
    t.target = StrCat("unix:", path);
    return t;
  }
  if (endpoint.starts_with("dns:")) {
    std::string_view rest = endpoint.substr(4);
    if (rest.starts_with("//")) {
      rest.remove_prefix(2);
      auto slash = rest.find('/');
      if (slash != 0) {
        return absl::InvalidArgumentError(
            StrCat("endpoint \"", endpoint,
                   "\": a DNS server in the target (dns://server/host:port) is not supported: write dns:///host:port "
                   "(the system's resolver is used)"));
      }
      rest.remove_prefix(1);
    }
    if (auto st = CheckHostPort(endpoint, rest); !st.ok()) return st;
    t.target = StrCat("dns:///", rest);
    return t;
  }
  if (auto scheme = endpoint.find("://"); scheme != std::string_view::npos) {
    return absl::InvalidArgumentError(
        StrCat("endpoint \"", endpoint, "\": the scheme \"", endpoint.substr(0, scheme),
               "\" is not supported: write host:port, http://host:port (plaintext), https://host:port (TLS), "
               "dns:///host:port or unix:///path"));
  }
  if (auto st = CheckHostPort(endpoint, endpoint); !st.ok()) return st;
  t.target = std::string(endpoint);
  return t;
}

void GrpcClientConfig::DecodeClient(config::Node& node, bool read_endpoint) {
  if (read_endpoint) node.Read("endpoint", &endpoint);
  node.Read("compression", &compression);
  node.Read("headers", &headers);
  tls.Decode(node.Child("tls"));
  auth.Decode(node.Child("auth"));
  if (node.Has("keepalive")) {
    config::Node& k = node.Child("keepalive");
    k.Read("time", &keepalive.time);
    k.Read("timeout", &keepalive.timeout);
    k.Read("permit_without_stream", &keepalive.permit_without_stream);
  }
  node.ReadBytes("read_buffer_size", &read_buffer_size);
  node.Unsupported("write_buffer_size", "gRPC C++ sizes its write buffers itself; remove it");
  node.Read("wait_for_ready", &wait_for_ready);
  node.Read("balancer_name", &balancer_name);
  node.Read("authority", &authority);
  node.Unsupported("middlewares", "no gRPC middleware extensions exist here; remove the key");
}

absl::Status GrpcClientConfig::ValidateClient() const {
  if (!endpoint.empty()) {
    if (auto t = ParseGrpcEndpoint(endpoint); !t.ok()) return t.status();
  }
  if (compression != "gzip" && compression != "none") {
    const bool upstream = compression == "zstd" || compression == "snappy" || compression.empty();
    return absl::InvalidArgumentError(StrCat("compression \"", compression, "\" ",
                                             upstream ? "is not supported" : "is no known compression",
                                             ": gRPC C++ compresses with gzip; use gzip or none"));
  }
  // gRPC fails every call whose metadata has an invalid name or value.
  for (const auto& [k, v] : headers) {
    const std::string name = absl::AsciiStrToLower(k);
    if (name.empty() || !std::all_of(name.begin(), name.end(), [](char c) {
          return absl::ascii_isdigit(c) || (c >= 'a' && c <= 'z') || c == '-' || c == '_' || c == '.';
        })) {
      return absl::InvalidArgumentError(
          StrCat("headers: \"", k, "\" is no valid gRPC metadata name (letters, digits, '-', '_', '.')"));
    }
    if (!name.ends_with("-bin") && !std::all_of(v.begin(), v.end(), [](char c) { return c >= 0x20 && c < 0x7f; })) {
      return absl::InvalidArgumentError(StrCat("headers: the value of \"", k, "\" has characters gRPC refuses"));
    }
  }
  if (keepalive.time < absl::ZeroDuration() || keepalive.timeout < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("keepalive.time and keepalive.timeout must not be negative");
  }
  if (read_buffer_size > (1u << 30)) return absl::InvalidArgumentError("read_buffer_size must be at most 1GiB");
  if (!balancer_name.empty() && balancer_name != "pick_first" && balancer_name != "round_robin") {
    return absl::InvalidArgumentError(
        StrCat("balancer_name \"", balancer_name, "\" is not supported: use pick_first or round_robin"));
  }
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
  auto parsed = ParseGrpcEndpoint(cfg_.endpoint);
  if (!parsed.ok()) return parsed.status();
  const std::string& target = parsed->target;
  bool insecure = cfg_.tls.insecure;
  if (parsed->tls != GrpcTarget::Tls::kConfig) insecure = parsed->tls == GrpcTarget::Tls::kOff;
  // The files are read now (a wrong path fails Start); gRPC's objects, which start gRPC
  // and its threads, are made by the first Export (OpenChannel).
  std::function<std::shared_ptr<grpc::ChannelCredentials>()> make_creds;
  if (insecure) {
    make_creds = [] { return grpc::InsecureChannelCredentials(); };
  } else if (cfg_.tls.insecure_skip_verify) {
    // TLS, but any server certificate is taken (testing only).
    std::optional<grpc::experimental::IdentityKeyCertPair> pair;
    if (!cfg_.tls.cert_file.empty()) {
      auto cert = ReadFile("cert_file", cfg_.tls.cert_file);
      if (!cert.ok()) return cert.status();
      auto key = ReadFile("key_file", cfg_.tls.key_file);
      if (!key.ok()) return key.status();
      pair = grpc::experimental::IdentityKeyCertPair{std::move(*key), std::move(*cert)};
    }
    make_creds = [pair] {
      grpc::experimental::TlsChannelCredentialsOptions o;
      o.set_verify_server_certs(false);
      o.set_check_call_host(false);
      o.set_certificate_verifier(std::make_shared<grpc::experimental::NoOpCertificateVerifier>());
      if (pair) {
        o.set_certificate_provider(std::make_shared<grpc::experimental::StaticDataCertificateProvider>(
            std::vector<grpc::experimental::IdentityKeyCertPair>{*pair}));
        o.watch_identity_key_cert_pairs();
      }
      return grpc::experimental::TlsCredentials(o);
    };
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
    make_creds = [o] { return grpc::SslCredentials(o); };
  }
  std::lock_guard<std::mutex> lock(open_mu_);
  stub_.reset();
  channel_.reset();
  open_channel_ = [this, target, insecure, make_creds = std::move(make_creds)] {
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(64 << 20);
    if (cfg_.compression == "gzip") args.SetCompressionAlgorithm(GRPC_COMPRESS_GZIP);
    if (!insecure && !cfg_.tls.server_name_override.empty())
      args.SetSslTargetNameOverride(cfg_.tls.server_name_override);
    auto ms = [](absl::Duration d) {
      return static_cast<int>(std::min<int64_t>(absl::ToInt64Milliseconds(d), std::numeric_limits<int>::max()));
    };
    if (cfg_.keepalive.time > absl::ZeroDuration()) {
      args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, ms(cfg_.keepalive.time));
      args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, ms(cfg_.keepalive.timeout));
      args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, cfg_.keepalive.permit_without_stream ? 1 : 0);
    }
    if (cfg_.read_buffer_size > 0) args.SetInt(GRPC_ARG_TCP_READ_CHUNK_SIZE, static_cast<int>(cfg_.read_buffer_size));
    if (!cfg_.balancer_name.empty()) args.SetLoadBalancingPolicyName(cfg_.balancer_name);
    if (!cfg_.authority.empty()) args.SetString(GRPC_ARG_DEFAULT_AUTHORITY, cfg_.authority);
    channel_ = grpc::CreateCustomChannel(target, make_creds(), args);
    stub_ = std::make_unique<grpc::GenericStub>(channel_);
  };
  return absl::OkStatus();
}

grpc::TemplatedGenericStub<grpc::ByteBuffer, grpc::ByteBuffer>* GrpcClient::Stub() {
  std::lock_guard<std::mutex> lock(open_mu_);
  if (stub_ == nullptr && open_channel_) std::exchange(open_channel_, nullptr)();
  return stub_.get();
}

template <typename D>
absl::Status GrpcClient::Export(Signal signal, const D& d, absl::Time deadline) {
  auto* stub = Stub();
  if (stub == nullptr) return absl::FailedPreconditionError("the OTLP/gRPC client was not started");
  grpc::ByteBuffer request = RequestMessage(d, cfg_.compression == "gzip");
  grpc::ByteBuffer response;
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(deadline));
  if (cfg_.wait_for_ready) ctx.set_wait_for_ready(true);
  for (const auto& [k, v] : cfg_.headers) ctx.AddMetadata(absl::AsciiStrToLower(k), v);
  if (auth_ != nullptr) {
    auto h = auth_->Headers();
    if (!h.ok()) return absl::UnavailableError(StrCat("auth: ", h.status().message()));
    for (const auto& [k, v] : *h) ctx.AddMetadata(absl::AsciiStrToLower(k), v);
  }
  // The calling thread drives the call on a completion queue of its own (as gRPC's
  // synchronous stubs do): no hand-off to gRPC's callback threads and back (a futex
  // wake and a poller kick each way per export).
  grpc::CompletionQueue& cq = ThreadCompletionQueue();
  grpc::Status st;
  auto call = stub->PrepareUnaryCall(&ctx, std::string(ExportMethod(signal)), request, &cq);
  call->StartCall();
  call->Finish(&response, &st, &cq);
  void* tag = nullptr;
  bool ok = false;
  if (!cq.Next(&tag, &ok)) st = grpc::Status(grpc::StatusCode::INTERNAL, "the completion queue shut down");
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
