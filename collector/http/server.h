#pragma once
// A small HTTP/1.1 server on the collector's event loop (Boost.Beast): keep-alive,
// chunked or sized bodies, optional TLS and mTLS (certificates reloaded when their files
// change), an optional authenticator, timeouts for each phase of a request, a bound on
// connections, and a body limit answered with 413. Handlers run on the event loop thread
// and must not block for long; one that may wait (on a pipeline) is an AsyncHandler,
// which hands the request to another thread and answers from there (ListenAsync).
//
// What a connection may cost is bounded (ServerOptions): the TLS handshake and a
// request's header must arrive within read_header_timeout of the connection (or of the
// request's first byte, on a kept-alive connection); the whole request within
// read_timeout; a response must be written within write_timeout; a kept-alive connection
// waits idle_timeout for the next request. Connections are accepted by net::Acceptor
// (out of file descriptors, it pauses with a backoff instead of stopping). Every refusal
// is counted in outrigger_server_refused_total{server, reason} (reasons: kRefusalReasons)
// and logged at most once per 10 s per server and reason (net::Refusals).

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "collector/common/strings.h"
#include "collector/component/admission.h"

namespace boost::asio {
class io_context;
}
namespace spdlog {
class logger;
}

namespace outrigger {
class Telemetry;
namespace tls {
class ServerContext;
}
}  // namespace outrigger

namespace outrigger::http {

struct Request {
  std::string method;
  std::string target;                          // path and query
  std::string path;                            // without the query
  std::map<std::string, std::string> headers;  // keys in lower case
  std::string body;
  std::string remote_address;  // the peer's IP ("127.0.0.1", "::1"); set for the handler
  uint16_t remote_port = 0;
  std::string Header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
  }
};

struct Response {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

using Handler = std::function<Response(Request&)>;
// Gives the answer to a request later, from any thread, exactly once.
using Respond = std::function<void(Response)>;
// A handler that answers later (ListenAsync): it returns at once, never waiting, and
// calls `respond` once, from any thread (e.g. a worker that runs a pipeline). The
// connection reads no further request until then. On plain TCP `respond` writes the answer
// from the calling thread when the socket takes it at once (and starts the next read
// there), so the event loop is not woken per request; otherwise it goes to the loop.
using AsyncHandler = std::function<void(Request&& request, Respond respond)>;
// Builds the answer to a request refused before its handler ran (malformed HTTP, body
// over the limit, not authenticated): `request` holds what was read (method, path,
// headers; no body).
using RefusalHandler = std::function<Response(int status, const std::string& reason, const Request& request)>;
// Checks a request's headers before its body is read; a non-OK status is answered with
// 401 and `WWW-Authenticate: Bearer`, and the handler is not called.
using Authenticator = std::function<absl::Status(const Request& request)>;
// Admission of a request by the size of its body (see component/admission.h), asked as
// soon as the size is known: before the body is read when the request says it
// (Content-Length), after reading it otherwise (chunked), always before the handler. A
// refusal is answered with 429 and `Retry-After` (counted as "memory_limit"); what is
// admitted is held until the handler returns.
using Admitter = std::function<absl::StatusOr<Admission::Ticket>(const Request& head, uint64_t body_bytes)>;

inline constexpr uint32_t kDefaultMaxHeaderBytes = 64 * 1024;  // request line and headers
inline constexpr absl::Duration kDefaultReadHeaderTimeout = absl::Seconds(10);
inline constexpr absl::Duration kDefaultReadTimeout = absl::Seconds(30);
inline constexpr absl::Duration kDefaultWriteTimeout = absl::Seconds(30);
inline constexpr absl::Duration kDefaultIdleTimeout = absl::Seconds(60);
inline constexpr int kDefaultMaxConnections = 1000;
// The `reason` label values of outrigger_server_refused_total.
inline constexpr std::string_view kRefusalReasons[] = {
    "fd_limit",      // accept failed: out of file descriptors (or kernel memory)
    "accept_error",  // accept failed otherwise
    "max_connections",  "tls_handshake", "read_header_timeout", "read_timeout", "write_timeout",
    "header_too_large",  // 431
    "body_too_large",    // 413
    "malformed",         // 400
    "unauthenticated",   // 401
    "memory_limit",      // 429: refused by the admitter (the memory_limiter)
};

struct ServerOptions {
  uint64_t max_body_bytes = 1 << 20;                   // 413 beyond
  uint32_t max_header_bytes = kDefaultMaxHeaderBytes;  // 431 beyond
  // Zero: no limit (as upstream). See the file comment for what each covers.
  absl::Duration read_header_timeout = kDefaultReadHeaderTimeout;
  absl::Duration read_timeout = kDefaultReadTimeout;
  absl::Duration write_timeout = kDefaultWriteTimeout;
  absl::Duration idle_timeout = kDefaultIdleTimeout;
  // Open connections at most (0: no limit). A connection beyond it closes the one that
  // has waited longest for a request, or, if every one is busy, is closed at once.
  int max_connections = kDefaultMaxConnections;
  // TLS (mTLS if its config has a client CA); null: plain HTTP.
  std::shared_ptr<tls::ServerContext> tls;
  Authenticator authenticate;                     // null: every request is let through
  Admitter admit;                                 // null: every request is admitted
  absl::Duration retry_after = absl::Seconds(1);  // Retry-After of an admission refusal
  // Where refusals are counted (null: only in the server), and the `server` label,
  // e.g. "receiver/otlp".
  Telemetry* telemetry = nullptr;
  std::string name = "http";
  std::shared_ptr<spdlog::logger> logger;  // null: spdlog's default
  // Answers a request from its head alone, before authentication and without reading a
  // body (CORS preflights); nullopt lets the request go on. Null: none.
  std::function<std::optional<Response>(const Request& head)> early_answer;
  // Adds headers to every answer to a request whose head was read (the handler's and
  // refusals): CORS, response_headers. Null: none.
  std::function<void(const Request& head, std::vector<std::pair<std::string, std::string>>* out)> extra_headers;
};

struct HostPort {
  std::string host;
  uint16_t port = 0;
};
// "127.0.0.1:4318", "localhost:4318", "[::1]:4318", ":4318" (meaning 127.0.0.1).
absl::StatusOr<HostPort> ParseEndpoint(const std::string& endpoint);

class Server {
 public:
  // Binds and starts accepting at once; the port is known when this returns.
  // `on_refused` answers requests refused before the handler (default: plain text).
  static absl::StatusOr<std::unique_ptr<Server>> Listen(boost::asio::io_context& io, const std::string& endpoint,
                                                        ServerOptions options, Handler handler,
                                                        RefusalHandler on_refused = nullptr);
  // As Listen, with a handler that answers later (see AsyncHandler).
  static absl::StatusOr<std::unique_ptr<Server>> ListenAsync(boost::asio::io_context& io, const std::string& endpoint,
                                                             ServerOptions options, AsyncHandler handler,
                                                             RefusalHandler on_refused = nullptr);
  // Plain HTTP with the default timeouts and limits.
  static absl::StatusOr<std::unique_ptr<Server>> Listen(boost::asio::io_context& io, const std::string& endpoint,
                                                        uint64_t max_body_bytes, Handler handler,
                                                        RefusalHandler on_refused = nullptr);
  ~Server();
  uint16_t port() const { return port_; }
  // Stops accepting and closes every connection; waits for the event loop to do it.
  void Stop();

  // Refusals counted so far for `reason` (one of kRefusalReasons), and open connections.
  uint64_t Refused(std::string_view reason) const;
  size_t Connections() const;
  // Open connections waiting for a request to begin (the ones max_connections may close).
  size_t IdleConnections() const;

  struct State;

 private:
  Server() = default;
  static absl::StatusOr<std::unique_ptr<Server>> Open(boost::asio::io_context& io, const std::string& endpoint,
                                                      ServerOptions options, Handler handler,
                                                      AsyncHandler async_handler, RefusalHandler on_refused);
  std::shared_ptr<State> state_;
  std::shared_ptr<State> stats_;  // kept after Stop for the counters
  uint16_t port_ = 0;
};

}  // namespace outrigger::http
