#pragma once
// Outbound HTTP for exporters (and, later, scrapes): libcurl easy handles kept in a pool
// so connections stay open between requests; TLS options shared by every component;
// the mapping of an HTTP answer to a pipeline status.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "collector/component/auth.h"
#include "collector/component/component.h"
#include "collector/config/node.h"

namespace outrigger::httpclient {

inline constexpr char kDefaultMinTlsVersion[] = "1.2";

// A client's `tls:` block, as the OpenTelemetry Collector's configtls.ClientConfig names
// it. For HTTP clients the URL's scheme decides whether TLS is used.
struct TlsConfig {
  // gRPC: plaintext (no TLS). HTTP: no effect (as upstream: https:// is still verified).
  bool insecure = false;
  // TLS without checking the server's certificate (chain and name). Testing only.
  bool insecure_skip_verify = false;
  std::string ca_file;                              // PEM CAs for the server's certificate (else the system's)
  std::string cert_file, key_file;                  // client certificate and key (mTLS)
  std::string server_name_override;                 // the name sent (SNI) and checked in the server's certificate
  std::string min_version = kDefaultMinTlsVersion;  // "1.0", "1.1", "1.2", "1.3"
  std::string max_version;                          // empty: the newest the library has
  void Decode(config::Node& node);
  absl::Status Validate() const;
};

// `auth: {authenticator: <extension id>}` under a client: the extension whose headers go
// with each request (e.g. bearertokenauth).
struct AuthConfig {
  std::string authenticator;  // empty: none
  void Decode(config::Node& node);
  // The started extension named by `authenticator` (null when none is configured); an
  // error when it is not in service.extensions or is no client authenticator.
  absl::StatusOr<ClientAuthenticator*> Resolve(Host& host) const;
};

// For HTTP clients: the warning to log when tls.insecure is set and one of `urls` is
// https://, where (as upstream) it does not turn verification off; empty otherwise.
std::string InsecureIgnoredWarning(const TlsConfig& tls, absl::Span<const std::string> urls);

// Appends the authenticator's headers ("Name: value") to `headers`; UNAVAILABLE (so the
// request is retried) when it has none to give. Null `auth`: nothing to add.
absl::Status AppendAuthHeaders(ClientAuthenticator* auth, std::vector<std::string>* headers);

struct Response {
  long code = 0;
  std::string body;
  std::string retry_after;   // the Retry-After header, if any
  std::string content_type;  // the Content-Type header, if any
};

class Client {
 public:
  Client(TlsConfig tls, std::string user_agent);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // POSTs `body` with `headers` ("Name: value"). A transport failure (connection
  // refused, timeout, TLS) is UNAVAILABLE; any HTTP answer is a Response.
  absl::StatusOr<Response> Post(const std::string& url, std::string_view body, const std::vector<std::string>& headers,
                                absl::Time deadline);
  // GETs `url` (gzip/deflate answers are decoded). `max_body` bounds what is read: a
  // larger answer is RESOURCE_EXHAUSTED. `content_type` receives the answer's type.
  absl::StatusOr<Response> Get(const std::string& url, const std::vector<std::string>& headers, absl::Time deadline,
                               size_t max_body = 64 << 20);

 private:
  absl::StatusOr<Response> Perform(void* handle, const std::string& url, const std::vector<std::string>& headers,
                                   absl::Time deadline, size_t max_body);
  void* Acquire();
  void Release(void* handle);
  struct Pool;
  std::unique_ptr<Pool> pool_;
  TlsConfig tls_;
  std::string user_agent_;
};

// 2xx: OK. Codes `retryable` accepts (each exporter has its own, e.g. OTLP/HTTP: 429,
// 502, 503, 504): RESOURCE_EXHAUSTED (429) or UNAVAILABLE, with the Retry-After delay
// attached. Anything else: permanent (INVALID_ARGUMENT) with the start of the server's
// answer. `what` names the request in messages ("POST http://...").
absl::Status StatusOf(const Response& r, std::string_view what, bool (*retryable)(long code));

}  // namespace outrigger::httpclient
