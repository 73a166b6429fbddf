#include "collector/http/config.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "collector/component/auth.h"
#include "collector/tls/server_context.h"

namespace outrigger::http {

void ServerLimits::Decode(config::Node& node, bool* include_metadata) {
  node.Read("read_timeout", &read_timeout);
  node.Read("read_header_timeout", &read_header_timeout);
  node.Read("write_timeout", &write_timeout);
  node.Read("idle_timeout", &idle_timeout);
  node.Read("max_connections", &max_connections);
  const std::pair<const char*, const char*> unsupported[] = {
      {"cors", "browsers cannot call this server directly: put a proxy that answers CORS in front of it"},
      {"response_headers", "add response headers in a proxy in front of this server"},
      {"compression_algorithms", "gzip, deflate and uncompressed request bodies are always accepted; remove the key"},
      {"middlewares", "no HTTP middleware extensions exist here; remove the key"},
  };
  for (const auto& [key, instead] : unsupported) node.Unsupported(key, instead);
  if (include_metadata != nullptr) {
    node.Read("include_metadata", include_metadata);
  } else {
    node.Unsupported("include_metadata", "this server does not pass request headers down the pipeline; remove the key");
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
  return absl::OkStatus();
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
  o.telemetry = telemetry;
  o.name = name;
  o.logger = logger;
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
