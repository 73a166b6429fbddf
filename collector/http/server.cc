#include "collector/http/server.h"

#include <array>
#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <optional>
#include <set>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "collector/net/acceptor.h"
#include "collector/telemetry/telemetry.h"
#include "collector/tls/server_context.h"
#include "spdlog/spdlog.h"

namespace outrigger::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

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

namespace {

constexpr size_t kReasons = std::size(kRefusalReasons);

size_t ReasonIndex(std::string_view reason) {
  for (size_t i = 0; i < kReasons; ++i) {
    if (kRefusalReasons[i] == reason) return i;
  }
  return kReasons;
}

// A deadline `d` after `from`; none for a zero (or negative) duration.
std::optional<Clock::time_point> After(Clock::time_point from, absl::Duration d) {
  if (d <= absl::ZeroDuration()) return std::nullopt;
  return from + absl::ToChronoNanoseconds(d);
}

std::optional<Clock::time_point> Earliest(std::optional<Clock::time_point> a, std::optional<Clock::time_point> b) {
  if (!a) return b;
  if (!b) return a;
  return std::min(*a, *b);
}

bool IsTimeout(const beast::error_code& ec) { return ec == beast::error::timeout; }

// A request body read into a std::string, appended to as it arrives. (Beast's string_body
// resizes the string before each copy: its zero-fill cost as much as the copy itself.)
struct RequestBody {
  using value_type = std::string;
  static std::uint64_t size(const value_type& body) { return body.size(); }
  class reader {
   public:
    template <bool isRequest, class Fields>
    reader(bhttp::header<isRequest, Fields>&, value_type& body) : body_(body) {}
    // A Content-Length was checked against the body limit before this is called.
    void init(const boost::optional<std::uint64_t>& length, beast::error_code& ec) {
      if (length) body_.reserve(static_cast<size_t>(*length));
      ec = {};
    }
    template <class ConstBufferSequence>
    size_t put(const ConstBufferSequence& buffers, beast::error_code& ec) {
      const size_t before = body_.size();
      for (const auto b : beast::buffers_range_ref(buffers)) body_.append(static_cast<const char*>(b.data()), b.size());
      ec = {};
      return body_.size() - before;
    }
    void finish(beast::error_code& ec) { ec = {}; }

   private:
    value_type& body_;
  };
};

}  // namespace

// One open connection, whatever its stream.
class SessionBase : public std::enable_shared_from_this<SessionBase> {
 public:
  virtual ~SessionBase() = default;
  virtual void Start() = 0;
  virtual void Close() = 0;
  // Whether the connection waits for a request to begin (evictable), and since when.
  bool idle() const { return idle_.load(); }
  Clock::time_point idle_since() const { return idle_since_.load(); }

 protected:
  // Atomic: a plain-TCP session may be set idle by the thread that answers (AnswerHere).
  std::atomic<bool> idle_{false};
  std::atomic<Clock::time_point> idle_since_{};
};

struct Server::State {
  State(asio::io_context& io, ServerOptions opts) : io(io), options(std::move(opts)) {}
  asio::io_context& io;
  std::shared_ptr<net::Acceptor> acceptor;
  ServerOptions options;
  Handler handler;
  AsyncHandler async_handler;  // instead of `handler` (ListenAsync)
  RefusalHandler on_refused;
  std::atomic<bool> stopped{false};                 // set on the event loop; read by AnswerHere too
  std::set<std::shared_ptr<SessionBase>> sessions;  // event loop thread only

  std::array<std::atomic<uint64_t>, kReasons> refused{};
  net::RefusalLog refusal_log;  // counts (outrigger_server_refused_total) and logs
  prometheus::Gauge* connections_metric = nullptr;
  std::atomic<size_t> connections{0};
  std::atomic<int64_t> idle_connections{0};  // waiting for a request to begin

  // Counts a refusal and logs `what` (at most once per 10 s per reason). Event loop only.
  void Refusal(std::string_view reason, const std::string& what) {
    size_t i = ReasonIndex(reason);
    if (i == kReasons) return;
    refused[i].fetch_add(1, std::memory_order_relaxed);
    refusal_log(reason, what);
  }

  void Add(std::shared_ptr<SessionBase> s) {
    sessions.insert(std::move(s));
    Count();
  }
  void Remove(const std::shared_ptr<SessionBase>& s) {
    sessions.erase(s);
    Count();
  }
  void Count() {
    connections.store(sessions.size(), std::memory_order_relaxed);
    if (connections_metric != nullptr) connections_metric->Set(static_cast<double>(sessions.size()));
  }
};

namespace {

template <class Stream>
class Session : public SessionBase {
 public:
  static constexpr bool kTls = !std::is_same_v<Stream, tcp::socket>;

  Session(tcp::socket socket, std::shared_ptr<Server::State> state, std::shared_ptr<asio::ssl::context> ctx)
      : ctx_(std::move(ctx)),
        stream_(MakeStream(std::move(socket), ctx_.get())),
        timer_(state->io),
        state_(std::move(state)) {
    accepted_ = Clock::now();
    // The peer, once per connection (not a getpeername per request).
    beast::error_code ec;
    auto peer = Socket().remote_endpoint(ec);
    if (!ec) {
      auto addr = peer.address();
      // An IPv4 client of a dual-stack socket shows as ::ffff:a.b.c.d.
      if (addr.is_v6() && addr.to_v6().is_v4_mapped()) {
        addr = asio::ip::make_address_v4(asio::ip::v4_mapped, addr.to_v6());
      }
      remote_address_ = addr.to_string();
      remote_port_ = peer.port();
    }
  }

  void Start() override {
    if constexpr (kTls) {
      SetIdle(true);
      idle_since_ = accepted_;
      Expire(After(accepted_, state_->options.read_header_timeout));
      stream_.async_handshake(asio::ssl::stream_base::server, [self = Self()](beast::error_code ec) {
        ec = self->Err(ec);
        self->SetIdle(false);
        if (ec) {
          if (ec != asio::error::operation_aborted && !self->state_->stopped) {
            bool timeout = IsTimeout(ec);
            self->state_->Refusal(timeout ? "read_header_timeout" : "tls_handshake",
                                  timeout ? std::string("TLS handshake not done within read_header_timeout")
                                          : StrCat("TLS handshake failed: ", ec.message()));
          }
          self->Close();
          self->Finish();
          return;
        }
        self->WaitForRequest(/*first=*/true);
      });
    } else {
      WaitForRequest(/*first=*/true);
    }
  }

  void Close() override {
    std::lock_guard<std::mutex> lock(mu_);
    beast::error_code ec;
    Socket().shutdown(tcp::socket::shutdown_both, ec);
    Socket().close(ec);
    closed_ = true;
    timer_.cancel();
  }

 private:
  static Stream MakeStream(tcp::socket socket, asio::ssl::context* ctx) {
    if constexpr (kTls) {
      return Stream(std::move(socket), *ctx);
    } else {
      (void)ctx;
      return Stream(std::move(socket));
    }
  }

  void SetIdle(bool idle) {
    if (idle != idle_.load()) state_->idle_connections.fetch_add(idle ? 1 : -1, std::memory_order_relaxed);
    idle_.store(idle);
  }

  std::shared_ptr<Session> Self() { return std::static_pointer_cast<Session>(shared_from_this()); }

  tcp::socket& Socket() { return beast::get_lowest_layer(stream_); }

  // The deadline of what the connection waits for now (none: nullopt). One timer per
  // connection, checked lazily: it is re-armed only when a deadline comes earlier than
  // the time it is set for (so not per read, nor per request on a busy connection,
  // whose deadlines only move later); when it fires before the current deadline, it is
  // set again for that. At the deadline the socket is closed, and the operation that
  // waited fails with beast::error::timeout (see Err).
  void Expire(std::optional<Clock::time_point> deadline) {
    deadline_ = deadline ? *deadline : Clock::time_point::max();
    if (deadline_ < armed_) Arm(deadline_);
  }

  void Arm(Clock::time_point at) {
    armed_ = at;
    timer_.expires_at(at);
    timer_.async_wait([self = Self(), at](beast::error_code ec) {
      std::lock_guard<std::mutex> lock(self->mu_);  // against AnswerHere
      if (ec || at != self->armed_) return;         // cancelled, or set again since
      self->armed_ = Clock::time_point::max();
      if (self->closed_) return;
      if (Clock::now() >= self->deadline_) {
        self->timed_out_ = true;
        beast::error_code ignored;
        self->Socket().close(ignored);  // what waits fails (as a timeout: Err)
        return;
      }
      if (self->deadline_ != Clock::time_point::max()) self->Arm(self->deadline_);
    });
  }

  // The error of an operation, as a timeout when the deadline closed the socket.
  beast::error_code Err(beast::error_code ec) const {
    return ec && timed_out_ ? beast::error_code(beast::error::timeout) : ec;
  }

  // Waits for the first byte of a request: within read_header_timeout of the connection
  // for the first one, within idle_timeout of the last answer for the next ones.
  void WaitForRequest(bool first) {
    if (buffer_.size() > 0) {  // pipelined: the next request is already here
      request_start_ = Clock::now();
      ReadHeader();
      return;
    }
    SetIdle(true);
    idle_since_ = first ? accepted_ : Clock::now();
    Expire(first ? After(accepted_, state_->options.read_header_timeout)
                 : After(idle_since_.load(), state_->options.idle_timeout));
    // A connection keeps the buffer its last request needed (up to kKeepBuffer): the
    // next request of the same size then arrives, header and body, in one read.
    if (buffer_.capacity() > kKeepBuffer) buffer_.shrink_to_fit();
    const size_t room = std::max<size_t>(kFirstRead, buffer_.capacity() - buffer_.size());
    stream_.async_read_some(buffer_.prepare(room), [self = Self(), first](beast::error_code ec, size_t n) {
      self->OnNextRequest(ec, n, first);
    });
  }

  // The first bytes of a request arrived (or the wait failed).
  void OnNextRequest(beast::error_code ec, size_t n, bool first) {
    ec = Err(ec);
    SetIdle(false);
    if (ec) {
      if (first && IsTimeout(ec) && !state_->stopped) {
        state_->Refusal("read_header_timeout", "no request within read_header_timeout of the connection");
      }
      Close();
      Finish();
      return;
    }
    buffer_.commit(n);
    request_start_ = first ? accepted_ : Clock::now();
    ReadHeader();
  }

  void ReadHeader() {
    const ServerOptions& o = state_->options;
    parser_.emplace();
    extra_headers_.clear();
    parser_->body_limit(o.max_body_bytes);
    parser_->header_limit(o.max_header_bytes);
    Expire(Earliest(After(request_start_, o.read_header_timeout), After(request_start_, o.read_timeout)));
    Read(/*header=*/true);
  }

  // Parses what the buffer holds and reads more only when the parser needs it: until
  // the header is done (header) or the whole request is. What is already buffered is
  // parsed at once, without a trip through the event loop (Beast's async_read_header
  // and async_read post their completion, which costs an epoll_wait each); a read takes
  // all the buffer's free room (sized from Content-Length by OnHeader).
  void Read(bool header) {
    // Stopped: a read that completed before Stop closed the socket still ran this. Its
    // request goes to no handler: their owner may be gone once Stop has returned.
    if (state_->stopped) {
      Close();
      Finish();
      return;
    }
    if (!header && parser_->is_done()) {  // no body
      OnRequest();
      return;
    }
    while (buffer_.size() > 0) {
      beast::error_code ec;
      const size_t used = parser_->put(buffer_.data(), ec);
      buffer_.consume(used);
      if (ec == bhttp::error::need_more) break;
      if (ec) {
        OnReadError(ec, header);
        return;
      }
      if (header ? parser_->is_header_done() : parser_->is_done()) {
        if (header) {
          OnHeader({});
        } else {
          OnRequest();
        }
        return;
      }
      if (used == 0) break;
    }
    const size_t room = std::max<size_t>(header ? kFirstRead : 512, buffer_.capacity() - buffer_.size());
    stream_.async_read_some(buffer_.prepare(room), [self = Self(), header](beast::error_code ec, size_t n) {
      ec = self->Err(ec);
      if (ec == asio::error::eof) {
        // The client closed: a request cut short is malformed; between requests it is
        // the end of the connection.
        if (self->parser_->got_some()) {
          self->parser_->put_eof(ec);
          if (!ec) ec = bhttp::error::partial_message;
        } else {
          ec = bhttp::error::end_of_stream;
        }
      }
      if (ec) {
        self->OnReadError(ec, header);
        return;
      }
      self->buffer_.commit(n);
      self->Read(header);
    });
  }

  void OnHeader(beast::error_code ec) {
    if (ec) {
      OnReadError(ec, /*header=*/true);
      return;
    }
    Request head = Head(parser_->get());
    if (state_->options.extra_headers) state_->options.extra_headers(head, &extra_headers_);
    if (state_->options.early_answer) {
      if (auto r = state_->options.early_answer(head)) {
        // A request with a body is not read on: its connection closes after the answer.
        if (parser_->is_done()) {
          Write(*r, parser_->get().keep_alive() && !state_->stopped, parser_->get().version());
        } else {
          Write(*r, /*keep_alive=*/false, parser_->get().version(), /*linger=*/true);
        }
        return;
      }
    }
    if (state_->options.authenticate) {
      absl::Status st = state_->options.authenticate(head);
      if (!st.ok()) {
        state_->Refusal("unauthenticated", StrCat("request refused: ", st.message()));
        Refuse(401, StrCat("unauthenticated: ", st.message()), {{"WWW-Authenticate", "Bearer"}});
        return;
      }
    }
    if (auto n = parser_->content_length(); n && !Admit(head, *n)) return;
    if (auto n = parser_->content_length(); n && *n <= state_->options.max_body_bytes) {
      // Room for the whole body, so that it is read in as few reads as the kernel
      // allows (Beast reads at most the buffer's free capacity, else 512 bytes).
      // With kFirstRead more, the next request of the same size (header and body) fits
      // one read too.
      buffer_.reserve(std::max<size_t>(buffer_.size(), static_cast<size_t>(*n)) + kFirstRead);
    }
    Expire(After(request_start_, state_->options.read_timeout));
    if (parser_->get()[bhttp::field::expect] == "100-continue" ||
        absl::EqualsIgnoreCase(ToAbsl(parser_->get()[bhttp::field::expect]), "100-continue")) {
      auto cont = std::make_shared<bhttp::response<bhttp::empty_body>>(bhttp::status::continue_, 11);
      bhttp::async_write(stream_, *cont, [self = Self(), cont](beast::error_code ec, size_t) {
        if (self->Err(ec)) {
          self->Close();
          self->Finish();
          return;
        }
        self->ReadBody();
      });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    parser_->eager(true);  // the body in as few put() calls as the buffer allows
    Read(/*header=*/false);
  }

  void OnReadError(beast::error_code ec, bool header) {
    if (ec == bhttp::error::body_limit) {
      state_->Refusal("body_too_large", "request body over the limit");
      Refuse(413, StrCat("request body larger than the limit of ", state_->options.max_body_bytes, " bytes"));
      return;
    }
    if (ec == bhttp::error::header_limit) {
      state_->Refusal("header_too_large", "request header over the limit");
      Refuse(431, StrCat("request header larger than the limit of ", state_->options.max_header_bytes, " bytes"));
      return;
    }
    if (IsTimeout(ec)) {
      if (!state_->stopped) {
        state_->Refusal(header ? "read_header_timeout" : "read_timeout",
                        header ? "request header not received within read_header_timeout: connection closed"
                               : "request not received within read_timeout: connection closed");
      }
    } else if (ec != bhttp::error::end_of_stream && ec != asio::error::operation_aborted && ec != asio::error::eof &&
               ec != asio::error::connection_reset && ec != asio::ssl::error::stream_truncated && parser_->got_some() &&
               !state_->stopped) {
      state_->Refusal("malformed", StrCat("malformed HTTP request: ", ec.message()));
      Refuse(400, StrCat("malformed HTTP request: ", ec.message()));
      return;
    }
    Close();
    Finish();
  }

  void OnRequest() {
    if (!parser_->content_length() && !Admit(Head(parser_->get()), parser_->get().body().size())) return;
    auto msg = parser_->release();
    Request req = Head(msg);
    req.body = std::move(msg.body());
    req.remote_address = remote_address_;
    req.remote_port = remote_port_;
    if (state_->async_handler) {
      // Answered later, from any thread: the write happens on the event loop.
      const bool keep_alive = msg.keep_alive();
      const unsigned version = msg.version();
      // The admission ticket is held until the answer (the body is decoded meanwhile).
      auto ticket = std::make_shared<Admission::Ticket>(std::move(ticket_));
      state_->async_handler(std::move(req), [self = Self(), keep_alive, version, ticket](Response r) {
        ticket->Reset();
        if constexpr (!kTls) {
          if (self->AnswerHere(r, keep_alive && !self->state_->stopped, version)) return;
        }
        asio::post(self->state_->io, [self, r = std::move(r), keep_alive, version] {
          self->Write(r, keep_alive && !self->state_->stopped, version);
        });
      });
      return;
    }
    Response resp = state_->handler(req);
    ticket_.Reset();
    Write(resp, msg.keep_alive() && !state_->stopped, msg.version());
  }

  // Asks the admitter for `bytes` of body; on a refusal answers 429 and returns false.
  bool Admit(const Request& head, uint64_t bytes) {
    if (!state_->options.admit) return true;
    auto t = state_->options.admit(head, bytes);
    if (t.ok()) {
      ticket_ = std::move(*t);
      return true;
    }
    state_->Refusal("memory_limit", StrCat("request refused: ", t.status().message()));
    const int64_t secs =
        std::max<int64_t>(1, absl::ToInt64Seconds(absl::Ceil(state_->options.retry_after, absl::Seconds(1))));
    Refuse(429, std::string(t.status().message()), {{"Retry-After", StrCat(secs)}});
    return false;
  }

  static Request Head(const bhttp::request<RequestBody>& msg) {
    Request req;
    req.method = std::string(msg.method_string());
    req.target = std::string(msg.target());
    req.path = req.target.substr(0, req.target.find('?'));
    for (const auto& f : msg) {
      req.headers[absl::AsciiStrToLower(std::string(f.name_string()))] = std::string(f.value());
    }
    return req;
  }

  // Answers a request that cannot reach the handler, then closes the connection (after
  // reading what the client still sends: see Linger).
  void Refuse(int status, const std::string& reason, std::vector<std::pair<std::string, std::string>> headers = {}) {
    Response r;
    if (state_->on_refused) {
      r = state_->on_refused(status, reason, Head(parser_->get()));
    } else {
      r.status = status;
      r.body = reason + "\n";
    }
    for (auto& h : headers) r.headers.push_back(std::move(h));
    Write(r, /*keep_alive=*/false, 11, /*linger=*/true);
  }

  // After a refusal, the client may still be sending its body. Closing a socket with
  // unread data makes the kernel send a reset, which can destroy the answer before the
  // client reads it; so what arrives is read and dropped, up to kLingerBytes or
  // kLingerTime, until the client closes.
  static constexpr size_t kLingerBytes = 8 << 20;
  static constexpr auto kLingerTime = std::chrono::seconds(2);
  void Linger(Clock::time_point deadline, size_t drained) {
    if (drained > kLingerBytes || state_->stopped) {
      Close();
      Finish();
      return;
    }
    buffer_.consume(buffer_.size());
    Expire(deadline);
    stream_.async_read_some(buffer_.prepare(64 * 1024),
                            [self = Self(), deadline, drained](beast::error_code ec, size_t n) {
                              if (self->Err(ec)) {
                                self->Close();
                                self->Finish();
                                return;
                              }
                              self->buffer_.commit(n);
                              self->Linger(deadline, drained + n);
                            });
  }

  std::shared_ptr<bhttp::response<bhttp::string_body>> MakeResponse(const Response& r, bool keep_alive,
                                                                    unsigned version) const {
    auto res = std::make_shared<bhttp::response<bhttp::string_body>>();
    res->version(version);
    res->result(static_cast<unsigned>(r.status));
    if (!r.content_type.empty()) res->set(bhttp::field::content_type, r.content_type);
    for (const auto& [k, v] : r.headers) res->set(k, v);
    for (const auto& [k, v] : extra_headers_) res->insert(k, v);
    res->body() = r.body;
    res->keep_alive(keep_alive);
    res->prepare_payload();
    return res;
  }

  // Plain TCP, from the thread that answers an AsyncHandler's request (a worker): writes
  // the answer and starts waiting for the next request right there, so the event loop
  // is not woken for it (a wake-up, an epoll_wait and, often, a contended lock in Asio's
  // scheduler per request). Only when nothing else needs the loop: a kept-alive
  // connection with no pipelined request, open, the server running, deadlines no earlier
  // than the timer is set for (the timer is the loop's: it is not touched from here),
  // and an answer the socket takes in one write. False (nothing done) otherwise: the
  // caller posts the answer to the loop. While the request was at the handler the loop
  // touches the session only in its timer's handler and Close (both take mu_), and
  // EvictIdle (which sees it busy).
  bool AnswerHere(const Response& r, bool keep_alive, unsigned version) {
    static_assert(!kTls);
    if (!keep_alive || buffer_.size() > 0) return false;
    std::unique_lock<std::mutex> lock(mu_);
    if (closed_ || timed_out_ || state_->stopped) return false;
    const ServerOptions& o = state_->options;
    const Clock::time_point now = Clock::now();
    const auto write_deadline = After(now, o.write_timeout), idle_deadline = After(now, o.idle_timeout);
    if (write_deadline.value_or(Clock::time_point::max()) < armed_ ||
        idle_deadline.value_or(Clock::time_point::max()) < armed_) {
      return false;
    }
    auto res = MakeResponse(r, keep_alive, version);
    auto sr = std::make_shared<bhttp::response_serializer<bhttp::string_body>>(*res);
    beast::error_code ec;
    if (!Socket().non_blocking()) Socket().non_blocking(true, ec);
    if (!ec) bhttp::write_some(Socket(), *sr, ec);
    if (!sr->is_done()) {
      // The rest (or the error) on the loop, as Write does it.
      deadline_ = write_deadline.value_or(Clock::time_point::max());
      lock.unlock();
      asio::post(state_->io, [self = Self(), res, sr, ec, keep_alive] {
        if (ec && ec != asio::error::would_block && ec != asio::error::try_again) {
          self->Written(ec, keep_alive, false);
          return;
        }
        bhttp::async_write(self->stream_, *sr, [self, res, sr, keep_alive](beast::error_code ec, size_t) {
          self->Written(self->Err(ec), keep_alive, false);
        });
      });
      return true;
    }
    // Written: wait for the next request (WaitForRequest(false), without the timer).
    SetIdle(true);
    idle_since_ = now;
    deadline_ = idle_deadline.value_or(Clock::time_point::max());
    if (buffer_.capacity() > kKeepBuffer) buffer_.shrink_to_fit();
    const size_t room = std::max<size_t>(kFirstRead, buffer_.capacity() - buffer_.size());
    // Its completion runs on the loop, maybe before this returns: nothing of the session
    // is touched after this call.
    stream_.async_read_some(buffer_.prepare(room), [self = Self()](beast::error_code ec, size_t n) {
      self->OnNextRequest(ec, n, /*first=*/false);
    });
    return true;
  }

  void Write(const Response& r, bool keep_alive, unsigned version, bool linger = false) {
    auto res = MakeResponse(r, keep_alive, version);
    Expire(After(Clock::now(), state_->options.write_timeout));
    auto sr = std::make_shared<bhttp::response_serializer<bhttp::string_body>>(*res);
    if constexpr (!kTls) {
      // Plain TCP: written at once, header and body in one sendmsg, when the socket
      // takes it (it nearly always does); only the rest waits on the event loop.
      beast::error_code ec;
      if (!Socket().non_blocking()) Socket().non_blocking(true, ec);
      while (!ec && !sr->is_done()) bhttp::write_some(Socket(), *sr, ec);
      if (sr->is_done()) {
        if (buffer_.size() == 0) {
          Written({}, keep_alive, linger);
        } else {  // a pipelined request waits: not recursively from here
          asio::post(state_->io, [self = Self(), keep_alive, linger] { self->Written({}, keep_alive, linger); });
        }
        return;
      }
      if (ec != asio::error::would_block && ec != asio::error::try_again) {
        Written(ec, keep_alive, linger);
        return;
      }
    }
    bhttp::async_write(stream_, *sr, [self = Self(), res, sr, keep_alive, linger](beast::error_code ec, size_t) {
      self->Written(self->Err(ec), keep_alive, linger);
    });
  }

  // After the answer is written (or failed): the next request, a linger or the close.
  void Written(beast::error_code ec, bool keep_alive, bool linger) {
    if (ec && IsTimeout(ec) && !state_->stopped) {
      state_->Refusal("write_timeout", "response not written within write_timeout: connection closed");
    }
    if (!ec && linger) {
      // Tell the client no more is coming (plain TCP: a half close; TLS keeps the
      // socket open for the records it still sends), then drain.
      if constexpr (!kTls) {
        beast::error_code ignored;
        Socket().shutdown(tcp::socket::shutdown_send, ignored);
      }
      Linger(Clock::now() + kLingerTime, 0);
      return;
    }
    if (ec || !keep_alive) {
      Close();
      Finish();
      return;
    }
    WaitForRequest(/*first=*/false);
  }

  void Finish() { state_->Remove(shared_from_this()); }

  static constexpr size_t kFirstRead = 4096;        // what a new connection reads at first
  static constexpr size_t kKeepBuffer = 64 * 1024;  // what a connection keeps between requests

  std::shared_ptr<asio::ssl::context> ctx_;  // outlives stream_
  Stream stream_;
  asio::steady_timer timer_;
  Clock::time_point deadline_ = Clock::time_point::max();  // of what the connection waits for
  Clock::time_point armed_ = Clock::time_point::max();     // when timer_ fires (max: not set)
  bool timed_out_ = false;                                 // the deadline closed the socket
  bool closed_ = false;
  // Held by the timer's handler, Close and AnswerHere: the only code that may run on two
  // threads at once for one session (see AnswerHere).
  std::mutex mu_;
  std::string remote_address_;
  uint16_t remote_port_ = 0;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<RequestBody>> parser_;
  Admission::Ticket ticket_;                                        // what the request being read was admitted with
  std::vector<std::pair<std::string, std::string>> extra_headers_;  // ServerOptions::extra_headers
  std::shared_ptr<Server::State> state_;
  Clock::time_point accepted_;
  Clock::time_point request_start_;
};

using PlainSession = Session<tcp::socket>;
using TlsSession = Session<beast::ssl_stream<tcp::socket>>;

// Closes the connection that has waited longest for a request; false if none waits.
bool EvictIdle(Server::State& state) {
  std::shared_ptr<SessionBase> oldest;
  for (const auto& s : state.sessions) {
    if (s->idle() && (!oldest || s->idle_since() < oldest->idle_since())) oldest = s;
  }
  if (!oldest) return false;
  oldest->Close();  // its pending read fails and removes it
  state.Remove(oldest);
  return true;
}

void OnConnection(const std::shared_ptr<Server::State>& state, tcp::socket socket) {
  if (state->stopped) return;
  const int max = state->options.max_connections;
  beast::error_code ec;
  if (max > 0 && state->sessions.size() >= static_cast<size_t>(max) && !EvictIdle(*state)) {
    state->Refusal("max_connections",
                   StrCat("max_connections (", max, ") open and busy: a new connection was closed at once"));
    socket.close(ec);
    return;
  }
  socket.set_option(tcp::no_delay(true), ec);
  std::shared_ptr<SessionBase> s;
  if (state->options.tls) {
    s = std::make_shared<TlsSession>(std::move(socket), state, state->options.tls->Current());
  } else {
    s = std::make_shared<PlainSession>(std::move(socket), state, nullptr);
  }
  state->Add(s);
  s->Start();
}

}  // namespace

absl::StatusOr<std::unique_ptr<Server>> Server::Listen(asio::io_context& io, const std::string& endpoint,
                                                       uint64_t max_body_bytes, Handler handler,
                                                       RefusalHandler on_refused) {
  ServerOptions o;
  o.max_body_bytes = max_body_bytes;
  return Listen(io, endpoint, std::move(o), std::move(handler), std::move(on_refused));
}

absl::StatusOr<std::unique_ptr<Server>> Server::Listen(asio::io_context& io, const std::string& endpoint,
                                                       ServerOptions options, Handler handler,
                                                       RefusalHandler on_refused) {
  return Open(io, endpoint, std::move(options), std::move(handler), nullptr, std::move(on_refused));
}

absl::StatusOr<std::unique_ptr<Server>> Server::ListenAsync(asio::io_context& io, const std::string& endpoint,
                                                            ServerOptions options, AsyncHandler handler,
                                                            RefusalHandler on_refused) {
  return Open(io, endpoint, std::move(options), nullptr, std::move(handler), std::move(on_refused));
}

absl::StatusOr<std::unique_ptr<Server>> Server::Open(asio::io_context& io, const std::string& endpoint,
                                                     ServerOptions options, Handler handler, AsyncHandler async_handler,
                                                     RefusalHandler on_refused) {
  auto hp = ParseEndpoint(endpoint);
  if (!hp.ok()) return hp.status();
  auto state = std::make_shared<State>(io, std::move(options));
  state->handler = std::move(handler);
  state->async_handler = std::move(async_handler);
  state->on_refused = std::move(on_refused);
  std::vector<std::string> reasons(std::begin(kRefusalReasons), std::end(kRefusalReasons));
  state->refusal_log = net::Refusals(state->options.name, std::move(reasons), state->options.telemetry,
                                     state->options.logger ? state->options.logger : spdlog::default_logger());
  if (Telemetry* t = state->options.telemetry) {
    state->connections_metric =
        &t->AddGauge("outrigger_server_connections", "Open connections of a server", {{"server", state->options.name}});
  }
  std::weak_ptr<Server::State> weak = state;
  auto acceptor = net::Acceptor::Listen(
      io, hp->host, hp->port,
      [weak](tcp::socket socket) {
        if (auto st = weak.lock()) OnConnection(st, std::move(socket));
      },
      [weak](std::string_view reason, const std::string& what) {
        if (auto st = weak.lock()) st->Refusal(reason, what);
      });
  if (!acceptor.ok()) return acceptor.status();
  state->acceptor = std::move(*acceptor);
  std::unique_ptr<Server> server(new Server());
  server->port_ = state->acceptor->port();
  server->state_ = state;
  server->stats_ = state;
  state->acceptor->Start();
  return server;
}

void Server::Stop() {
  if (!state_) return;
  auto state = std::move(state_);
  std::promise<void> done;
  auto fut = done.get_future();
  asio::post(state->io, [state, &done] {
    state->stopped = true;
    state->acceptor->Stop();
    auto sessions = state->sessions;
    for (auto& s : sessions) s->Close();
    done.set_value();
  });
  fut.wait();
}

uint64_t Server::Refused(std::string_view reason) const {
  size_t i = ReasonIndex(reason);
  return i == kReasons ? 0 : stats_->refused[i].load(std::memory_order_relaxed);
}

size_t Server::Connections() const { return stats_->connections.load(std::memory_order_relaxed); }

size_t Server::IdleConnections() const {
  return static_cast<size_t>(std::max<int64_t>(0, stats_->idle_connections.load(std::memory_order_relaxed)));
}

Server::~Server() { Stop(); }

}  // namespace outrigger::http
