#pragma once
// Cross-origin resource sharing for the HTTP servers, as upstream confighttp configures
// it (`cors:` of a server; github.com/rs/cors with AllowCredentials): a browser page of
// an allowed origin may POST to the server. Preflights (OPTIONS with
// Access-Control-Request-Method) are answered before authentication, with 204; actual
// requests from an allowed origin get Access-Control-Allow-Origin (the origin itself)
// and Access-Control-Allow-Credentials on whatever the server answers.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "collector/config/node.h"
#include "collector/http/server.h"

namespace outrigger::http {

struct CorsConfig {
  // Origins ("https://app.example.com"); each may hold one `*` standing for zero or more
  // characters ("https://*.example.com"). Empty: CORS is off.
  std::vector<std::string> allowed_origins;
  // Request headers a page may send beyond the safelisted ones; ["*"]: any. Empty:
  // Accept, Content-Type, X-Requested-With (and Origin).
  std::vector<std::string> allowed_headers;
  // Access-Control-Max-Age of preflight answers, in seconds; 0: not sent (browsers
  // cache a preflight for 5 s).
  int max_age = 0;

  bool enabled() const { return !allowed_origins.empty(); }
  void Decode(config::Node& node);
  // `where` prefixes messages ("protocols.http").
  absl::Status Validate(const std::string& where) const;
};

class Cors {
 public:
  explicit Cors(const CorsConfig& cfg);

  // The answer to a preflight request (nullopt: `head` is no preflight).
  std::optional<Response> Preflight(const Request& head) const;
  // The headers an actual request's answer carries (Vary, and for an allowed origin
  // Access-Control-Allow-Origin and -Credentials).
  void AddHeaders(const Request& head, std::vector<std::pair<std::string, std::string>>* out) const;
  bool OriginAllowed(std::string_view origin) const;

 private:
  bool MethodAllowed(std::string_view method) const;
  bool HeadersAllowed(std::string_view requested) const;

  bool all_origins_ = false;
  std::vector<std::string> exact_;                         // lower case
  std::vector<std::pair<std::string, std::string>> wild_;  // prefix, suffix (lower case)
  bool all_headers_ = false;
  std::vector<std::string> headers_;  // lower case
  int max_age_ = 0;
};

}  // namespace outrigger::http
