#pragma once
// Outbound HTTP for exporters (and, later, scrapes): libcurl easy handles kept in a pool
// so connections stay open between requests; TLS options shared by every component;
// the mapping of an HTTP answer to a pipeline status.

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "collector/config/node.h"

namespace outrigger::httpclient {

struct TlsConfig {
  bool insecure = false;  // HTTP clients: do not verify the server; gRPC: plaintext
  std::string ca_file, cert_file, key_file;
  void Decode(config::Node& node);
  absl::Status Validate() const;
};

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
