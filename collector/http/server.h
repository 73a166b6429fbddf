#pragma once
// A small HTTP/1.1 server on the collector's event loop (Boost.Beast): keep-alive,
// chunked or sized bodies, a body limit answered with 413. Handlers run on the event
// loop thread and must not block for long.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "collector/common/strings.h"

namespace boost::asio {
class io_context;
}

namespace outrigger::http {

struct Request {
  std::string method;
  std::string target;                          // path and query
  std::string path;                            // without the query
  std::map<std::string, std::string> headers;  // keys in lower case
  std::string body;
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
// Builds the answer to a request refused before its handler ran (malformed HTTP, body
// over the limit): `request` holds what was read (method, path, headers; no body).
using RefusalHandler = std::function<Response(int status, const std::string& reason, const Request& request)>;

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
                                                        uint64_t max_body_bytes, Handler handler,
                                                        RefusalHandler on_refused = nullptr);
  ~Server();
  uint16_t port() const { return port_; }
  // Stops accepting and closes idle connections; waits for the event loop to do it.
  void Stop();

  struct State;

 private:
  Server() = default;
  std::shared_ptr<State> state_;
  uint16_t port_ = 0;
};

}  // namespace outrigger::http
