#include "receivers/otlp/config.h"

#include <algorithm>
#include <utility>

#include "collector/common/strings.h"
#include "collector/http/server.h"

namespace outrigger::receivers::otlp {

void GrpcKeepalive::Decode(config::Node& node) {
  config::Node& sp = node.Child("server_parameters");
  sp.Read("max_connection_idle", &max_connection_idle);
  sp.Read("max_connection_age", &max_connection_age);
  sp.Read("max_connection_age_grace", &max_connection_age_grace);
  sp.Read("time", &time);
  sp.Read("timeout", &timeout);
  config::Node& ep = node.Child("enforcement_policy");
  ep.Read("min_time", &min_time);
  ep.Read("permit_without_stream", &permit_without_stream);
}

namespace {

// `transport:` of a server (confignet): only TCP here.
void ReadTransport(config::Node& node, const char* where) {
  std::string transport;
  node.Read("transport", &transport);
  if (!transport.empty() && transport != "tcp") {
    node.ErrorAt("transport", StrCat("transport \"", transport, "\" is not supported: ", where,
                                     " listens on TCP only; remove transport (or set tcp) and give a host:port "
                                     "endpoint, e.g. 127.0.0.1:",
                                     where == std::string_view("grpc") ? "4317" : "4318"));
  }
}

}  // namespace

std::string SanitizeUrlPath(std::string_view value) {
  std::string_view p = value;
  if (auto scheme = p.find("://"); scheme != std::string_view::npos) {
    p.remove_prefix(scheme + 3);
    auto slash = p.find('/');
    p = slash == std::string_view::npos ? std::string_view() : p.substr(slash);
  }
  p = p.substr(0, p.find_first_of("?#"));
  return p.starts_with('/') ? std::string(p) : StrCat("/", p);
}

bool HttpConfig::EncodingAllowed(std::string_view content_encoding) const {
  std::string_view e = content_encoding == "identity" ? std::string_view() : content_encoding;
  if (compression_algorithms.empty()) {
    return std::find(std::begin(kDecodedEncodings), std::end(kDecodedEncodings), e) != std::end(kDecodedEncodings);
  }
  return std::find(compression_algorithms.begin(), compression_algorithms.end(), e) != compression_algorithms.end();
}

void Config::Decode(config::Node& node) {
  config::Node& protocols = node.Child("protocols");
  protocols_given = !protocols.IsNull();
  if (protocols.Has("grpc")) {
    grpc.enabled = true;
    config::Node& g = protocols.Child("grpc");
    g.Read("endpoint", &grpc.endpoint);
    g.Read("max_recv_msg_size_mib", &grpc.max_recv_msg_size_mib);
    g.Read("max_concurrent_streams", &grpc.max_concurrent_streams);
    g.ReadBytes("read_buffer_size", &grpc.read_buffer_size);
    g.Unsupported("write_buffer_size", "gRPC C++ sizes its write buffers itself; remove it");
    grpc.keepalive.Decode(g.Child("keepalive"));
    grpc.tls.Decode(g.Child("tls"));
    grpc.auth.Decode(g.Child("auth"));
    g.Read("include_metadata", &grpc.include_metadata);
    ReadTransport(g, "grpc");
    g.Unsupported("dialer_config", "it applies to outgoing connections only; remove it");
    g.Unsupported("middlewares", "no gRPC middleware extensions exist here; remove the key");
  } else {
    protocols.Accept("grpc");
  }
  if (protocols.Has("http")) {
    http.enabled = true;
    config::Node& h = protocols.Child("http");
    h.Read("endpoint", &http.endpoint);
    h.ReadBytes("max_request_body_size", &http.max_request_body_size);
    for (auto [key, out] :
         {std::pair{"traces_url_path", &http.traces_url_path}, std::pair{"metrics_url_path", &http.metrics_url_path},
          std::pair{"logs_url_path", &http.logs_url_path}}) {
      if (h.Has(key)) {
        h.Read(key, out);
        *out = SanitizeUrlPath(*out);
      }
    }
    h.Unsupported("profiles_url_path", "profiles are not received here; remove the key");
    http.limits.Decode(h, &http.include_metadata, &http.compression_algorithms);
    http.tls.Decode(h.Child("tls"));
    http.auth.Decode(h.Child("auth"));
    ReadTransport(h, "http");
  } else {
    protocols.Accept("http");
  }
  node.Read("retry_after_seconds", &retry_after_seconds);
}

absl::Status Config::Validate() const {
  if (!grpc.enabled && !http.enabled) {
    return absl::InvalidArgumentError("at least one protocol (protocols.grpc or protocols.http) is required");
  }
  if (grpc.enabled) {
    if (auto hp = http::ParseEndpoint(grpc.endpoint); !hp.ok()) return hp.status();
    if (grpc.max_recv_msg_size_mib <= 0 || grpc.max_recv_msg_size_mib > 2047) {
      return absl::InvalidArgumentError("protocols.grpc.max_recv_msg_size_mib must be between 1 and 2047");
    }
    if (grpc.read_buffer_size > (1u << 30)) {
      return absl::InvalidArgumentError("protocols.grpc.read_buffer_size must be at most 1GiB");
    }
    if (auto s = grpc.tls.Validate("protocols.grpc.tls"); !s.ok()) return s;
    // gRPC (1.51) always negotiates TLS 1.2 or 1.3 and has no cipher suite setting.
    if (auto s = tls::GrpcFixedVersions("protocols.grpc.tls", grpc.tls.min_version, grpc.tls.max_version); !s.ok()) {
      return s;
    }
    if (!grpc.tls.cipher_suites.empty()) {
      return absl::InvalidArgumentError(
          "protocols.grpc.tls.cipher_suites is not supported: the gRPC server uses gRPC's own TLS 1.2 suites "
          "(ECDHE with AES-GCM); remove it");
    }
  }
  if (http.enabled) {
    if (auto hp = http::ParseEndpoint(http.endpoint); !hp.ok()) return hp.status();
    if (http.max_request_body_size == 0) {
      return absl::InvalidArgumentError("protocols.http.max_request_body_size must be positive");
    }
    if (auto s = http.tls.Validate("protocols.http.tls"); !s.ok()) return s;
    if (auto s = http.limits.Validate("protocols.http"); !s.ok()) return s;
    const std::string* paths[] = {&http.traces_url_path, &http.metrics_url_path, &http.logs_url_path};
    for (size_t i = 0; i < 3; ++i) {
      if (paths[i]->empty() || (*paths[i])[0] != '/') {
        return absl::InvalidArgumentError("protocols.http.*_url_path must start with '/'");
      }
      for (size_t j = 0; j < i; ++j) {
        if (*paths[i] == *paths[j]) {
          return absl::InvalidArgumentError(
              StrCat("protocols.http: two signals share the URL path \"", *paths[i], "\"; give each its own"));
        }
      }
    }
    for (const auto& a : http.compression_algorithms) {
      if (std::find(std::begin(kDecodedEncodings), std::end(kDecodedEncodings), a) != std::end(kDecodedEncodings)) {
        continue;
      }
      const bool upstream = a == "zstd" || a == "snappy" || a == "lz4" || a == "x-snappy-framed";
      return absl::InvalidArgumentError(
          StrCat("protocols.http.compression_algorithms: \"", a, "\" ",
                 upstream ? "is not supported" : "is no known compression",
                 ": request bodies may be uncompressed (\"\"), gzip, zlib or deflate; remove it from the list"));
    }
  }
  if (retry_after_seconds < 0) return absl::InvalidArgumentError("retry_after_seconds must not be negative");
  return absl::OkStatus();
}

}  // namespace outrigger::receivers::otlp
