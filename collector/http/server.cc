#include "collector/http/server.h"

#include <future>
#include <optional>
#include <set>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace outrigger::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

absl::StatusOr<HostPort> ParseEndpoint(const std::string& endpoint) {
  auto colon = endpoint.rfind(':');
  if (colon == std::string::npos) {
    return absl::InvalidArgumentError(StrCat("endpoint \"", endpoint, "\" must be host:port, e.g. 127.0.0.1:4318"));
  }
  HostPort hp;
  hp.host = endpoint.substr(0, colon);
  if (hp.host.size() >= 2 && hp.host.front() == '[' && hp.host.back() == ']') {
    hp.host = hp.host.substr(1, hp.host.size() - 2);
  }
  if (hp.host.empty() || hp.host == "localhost") hp.host = "127.0.0.1";
  int port;
  if (!absl::SimpleAtoi(endpoint.substr(colon + 1), &port) || port < 0 || port > 65535) {
    return absl::InvalidArgumentError(StrCat("endpoint \"", endpoint, "\": invalid port"));
  }
  hp.port = static_cast<uint16_t>(port);
  boost::system::error_code ec;
  asio::ip::make_address(hp.host, ec);
  if (ec) {
    return absl::InvalidArgumentError(StrCat("endpoint \"", endpoint, "\": host must be an IP address or localhost"));
  }
  return hp;
}

class Session;

struct Server::State {
  explicit State(asio::io_context& io) : acceptor(io) {}
  tcp::acceptor acceptor;
  Handler handler;
  RefusalHandler on_refused;
  uint64_t max_body = 0;
  bool stopped = false;
  std::set<std::shared_ptr<Session>> sessions;  // event loop thread only
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, std::shared_ptr<Server::State> state)
      : stream_(std::move(socket)), state_(std::move(state)) {}

  void Run() { Read(); }
  void Close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.close();
  }

 private:
  void Read() {
    parser_.emplace();
    parser_->body_limit(state_->max_body);
    parser_->header_limit(64 * 1024);
    stream_.expires_after(std::chrono::seconds(120));
    bhttp::async_read(stream_, buffer_, *parser_,
                      [self = shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
  }

  void OnRead(beast::error_code ec) {
    if (ec == bhttp::error::body_limit) {
      Refuse(413, StrCat("request body larger than the limit of ", state_->max_body, " bytes"));
      return;
    }
    if (ec) {
      if (ec != bhttp::error::end_of_stream && ec != asio::error::operation_aborted && ec != beast::error::timeout &&
          ec != asio::error::eof && ec != asio::error::connection_reset && parser_->got_some()) {
        Refuse(400, StrCat("malformed HTTP request: ", ec.message()));
        return;
      }
      Finish();
      return;
    }
    auto msg = parser_->release();
    Request req = Head(msg);
    req.body = std::move(msg.body());
    Response resp = state_->handler(req);
    Write(resp, msg.keep_alive() && !state_->stopped, msg.version());
  }

  static Request Head(const bhttp::request<bhttp::string_body>& msg) {
    Request req;
    req.method = std::string(msg.method_string());
    req.target = std::string(msg.target());
    req.path = req.target.substr(0, req.target.find('?'));
    for (const auto& f : msg) {
      req.headers[absl::AsciiStrToLower(std::string(f.name_string()))] = std::string(f.value());
    }
    return req;
  }

  // Answers a request that cannot reach the handler, then closes the connection.
  void Refuse(int status, const std::string& reason) {
    Response r;
    if (state_->on_refused) {
      r = state_->on_refused(status, reason, Head(parser_->get()));
    } else {
      r.status = status;
      r.body = reason + "\n";
    }
    Write(r, /*keep_alive=*/false, 11);
  }

  void Write(const Response& r, bool keep_alive, unsigned version) {
    auto res = std::make_shared<bhttp::response<bhttp::string_body>>();
    res->version(version);
    res->result(static_cast<unsigned>(r.status));
    res->set(bhttp::field::content_type, r.content_type);
    for (const auto& [k, v] : r.headers) res->set(k, v);
    res->body() = r.body;
    res->keep_alive(keep_alive);
    res->prepare_payload();
    bhttp::async_write(stream_, *res, [self = shared_from_this(), res, keep_alive](beast::error_code ec, size_t) {
      if (ec || !keep_alive) {
        self->Close();
        self->Finish();
        return;
      }
      self->Read();
    });
  }

  void Finish() { state_->sessions.erase(shared_from_this()); }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::shared_ptr<Server::State> state_;
};

namespace {
void Accept(std::shared_ptr<Server::State> state) {
  state->acceptor.async_accept([state](beast::error_code ec, tcp::socket socket) {
    if (ec || state->stopped) return;
    socket.set_option(tcp::no_delay(true), ec);
    auto s = std::make_shared<Session>(std::move(socket), state);
    state->sessions.insert(s);
    s->Run();
    Accept(state);
  });
}
}  // namespace

absl::StatusOr<std::unique_ptr<Server>> Server::Listen(asio::io_context& io, const std::string& endpoint,
                                                       uint64_t max_body_bytes, Handler handler,
                                                       RefusalHandler on_refused) {
  auto hp = ParseEndpoint(endpoint);
  if (!hp.ok()) return hp.status();
  auto state = std::make_shared<State>(io);
  state->handler = std::move(handler);
  state->on_refused = std::move(on_refused);
  state->max_body = max_body_bytes;
  tcp::endpoint ep(asio::ip::make_address(hp->host), hp->port);
  beast::error_code ec;
  state->acceptor.open(ep.protocol(), ec);
  if (!ec) state->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) state->acceptor.bind(ep, ec);
  if (!ec) state->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return absl::UnavailableError(StrCat("cannot listen on ", endpoint, ": ", ec.message()));
  }
  std::unique_ptr<Server> server(new Server());
  server->port_ = state->acceptor.local_endpoint().port();
  server->state_ = state;
  asio::post(io, [state] { Accept(state); });
  return server;
}

void Server::Stop() {
  if (!state_) return;
  auto state = std::move(state_);
  std::promise<void> done;
  auto fut = done.get_future();
  asio::post(state->acceptor.get_executor(), [state, &done] {
    state->stopped = true;
    beast::error_code ec;
    state->acceptor.close(ec);
    auto sessions = state->sessions;
    for (auto& s : sessions) s->Close();
    done.set_value();
  });
  fut.wait();
}

Server::~Server() { Stop(); }

}  // namespace outrigger::http
