#include "collector/http/config.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "collector/component/auth.h"
#include "collector/tls/server_context.h"

namespace outrigger::http {

void ServerLimits::Decode(config::Node& node, bool* include_metadata,
                          std::vector<std::string>* compression_algorithms) {
  node.Read("read_timeout", &read_timeout);
  node.Read("read_header_timeout", &read_header_timeout);
  node.Read("write_timeout", &write_timeout);
  node.Read("idle_timeout", &idle_timeout);
  node.Read("max_connections", &max_connections);
  cors.Decode(node.Child("cors"));
  node.Read("response_headers", &response_headers);
  node.Read("keep_alives_enabled", &keep_alives_enabled);
  node.ReadBytes("max_request_body_size", &max_request_body_size);
  if (node.Has("keepalive")) {  // newer upstream's form of the two keys above
    config::Node& k = node.Child("keepalive");
    k.Read("enabled", &keep_alives_enabled);
    k.Read("idle_timeout", &idle_timeout);
  }
  node.Unsupported("middlewares", "no HTTP middleware extensions exist here; remove the key");
  if (include_metadata != nullptr) {
    node.Read("include_metadata", include_metadata);
  } else {
    node.Unsupported("include_metadata", "this server does not pass request headers down the pipeline; remove the key");
  }
  if (compression_algorithms != nullptr) {
    node.Read("compression_algorithms", compression_algorithms);
  } else {
    node.Unsupported("compression_algorithms", "this server takes no request bodies to decompress; remove the key");
  }
}

absl::Status ServerLimits::Validate(const std::string& where) const {
  const std::string prefix = where.empty() ? "" : where + ".";
  for (const auto& [name, d] : {std::pair<const char*, absl::Duration>{"read_timeout", read_timeout},
                                {"read_header_timeout", read_header_timeout},
                                {"write_timeout", write_timeout},
                                {"idle_timeout", idle_timeout}}) {
    if (d < absl::ZeroDuration()) {
      return absl::InvalidArgumentError(absl::StrCat(prefix, name, " must not be negative (0 means no limit)"));
    }
  }
  if (max_connections < 0) {
    return absl::InvalidArgumentError(absl::StrCat(prefix, "max_connections must not be negative (0 means no limit)"));
  }
  if (!keep_alives_enabled) {
    return absl::InvalidArgumentError(
        absl::StrCat(prefix,
                     "keep_alives_enabled: false is not supported: connections are kept alive, closed after "
                     "idle_timeout without a request; lower idle_timeout instead"));
  }
  for (const auto& [k, v] : response_headers) {
    if (k.empty() || k.find_first_of(" \t\r\n:") != std::string::npos || v.find_first_of("\r\n") != std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat(prefix, "response_headers: \"", k, "\" is no valid header"));
    }
  }
  return cors.Validate(where);
}

absl::StatusOr<ServerAuthenticator*> FindServerAuthenticator(Host* host, const tls::ServerAuth& auth) {
  Extension* ext = host != nullptr ? host->GetExtension(auth.authenticator) : nullptr;
  if (ext == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat("auth.authenticator \"", auth.authenticator,
                                                      "\" is not a started extension: configure it under extensions "
                                                      "and list it in service.extensions"));
  }
  auto* a = dynamic_cast<ServerAuthenticator*>(ext);
  if (a == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("auth.authenticator \"", auth.authenticator, "\" cannot authenticate requests to a server"));
  }
  return a;
}

absl::StatusOr<ServerOptions> MakeServerOptions(Host* host, const ServerLimits& limits, const tls::ServerConfig& tls,
                                                const tls::ServerAuth& auth, Telemetry* telemetry,
                                                const std::string& name, std::shared_ptr<spdlog::logger> logger) {
  ServerOptions o;
  o.read_timeout = limits.read_timeout;
  o.read_header_timeout = limits.read_header_timeout;
  o.write_timeout = limits.write_timeout;
  o.idle_timeout = limits.idle_timeout;
  o.max_connections = limits.max_connections;
  if (limits.max_request_body_size > 0) o.max_body_bytes = limits.max_request_body_size;
  o.telemetry = telemetry;
  o.name = name;
  o.logger = logger;
  if (limits.cors.enabled() || !limits.response_headers.empty()) {
    std::shared_ptr<const Cors> cors;
    if (limits.cors.enabled()) cors = std::make_shared<const Cors>(limits.cors);
    std::vector<std::pair<std::string, std::string>> fixed(limits.response_headers.begin(),
                                                           limits.response_headers.end());
    o.extra_headers = [cors, fixed](const Request& head, std::vector<std::pair<std::string, std::string>>* out) {
      out->insert(out->end(), fixed.begin(), fixed.end());
      if (cors) cors->AddHeaders(head, out);
    };
    if (cors) o.early_answer = [cors](const Request& head) { return cors->Preflight(head); };
  }
  if (tls.enabled()) {
    auto ctx = tls::ServerContext::Create(tls, logger);
    if (!ctx.ok()) return ctx.status();
    o.tls = std::move(*ctx);
  }
  if (!auth.authenticator.empty()) {
    auto a = FindServerAuthenticator(host, auth);
    if (!a.ok()) return a.status();
    o.authenticate = [a = *a](const Request& r) { return a->Authenticate(r.headers); };
  }
  return o;
}

}  // namespace outrigger::http
