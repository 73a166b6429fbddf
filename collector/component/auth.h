#pragma once
// Authentication between components: an extension (e.g. bearertokenauth) implements one
// or both of these; a server's `auth: {authenticator: <id>}` or an exporter's
// `auth: {authenticator: <id>}` finds it with Host::GetExtension(id) and a dynamic_cast.

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace outrigger {

class ServerAuthenticator {
 public:
  virtual ~ServerAuthenticator() = default;
  // `headers`: the request's headers (HTTP) or metadata (gRPC), names in lower case.
  // OK, or UNAUTHENTICATED with a reason a person can act on (never the secret).
  virtual absl::Status Authenticate(const std::map<std::string, std::string>& headers) = 0;
};

class ClientAuthenticator {
 public:
  virtual ~ClientAuthenticator() = default;
  // Headers to add to each outgoing request, e.g. {"authorization", "Bearer ..."}.
  virtual absl::StatusOr<std::vector<std::pair<std::string, std::string>>> Headers() = 0;
};

}  // namespace outrigger
