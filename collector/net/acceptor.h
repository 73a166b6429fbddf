#pragma once
// A TCP accept loop on the collector's event loop that cannot stop for good. At the
// descriptor limit (EMFILE/ENFILE), out of buffers, or on any other accept error it
// reports the error, waits (20 ms, doubling to 1 s) and accepts again; a client that
// gave up before accept() is no error. Every server of ours accepts through it: the HTTP
// servers, the OTLP/gRPC receiver (gRPC 1.51's own acceptor stops for good after EMFILE,
// so we accept and hand the descriptor over) and StatsD over TCP.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace spdlog {
class logger;
}

namespace outrigger {
class Telemetry;
}

namespace outrigger::net {

inline constexpr absl::Duration kAcceptRetryMin = absl::Milliseconds(20);
inline constexpr absl::Duration kAcceptRetryMax = absl::Seconds(1);

class Acceptor : public std::enable_shared_from_this<Acceptor> {
 public:
  using OnConnection = std::function<void(boost::asio::ip::tcp::socket socket)>;
  // `reason` is "fd_limit" (descriptors or buffers exhausted) or "accept_error";
  // `message` says what happened and when accepting resumes.
  using OnError = std::function<void(std::string_view reason, const std::string& message)>;

  // Binds and listens at once (the port is known when this returns); accepting starts
  // with Start(). `host` is an IP address.
  static absl::StatusOr<std::shared_ptr<Acceptor>> Listen(boost::asio::io_context& io, const std::string& host,
                                                          uint16_t port, OnConnection on_connection, OnError on_error);
  uint16_t port() const { return port_; }
  int native_handle() { return acceptor_.native_handle(); }
  // Start posts to the event loop. Stop closes the listening socket and cancels a wait:
  // at once on the event loop thread; from another thread it waits for the event loop
  // (which must be running) to do it.
  void Start();
  // With `keep_accepted`, a connection the system accepted before Stop (its hand-over
  // still queued on the event loop) is handed to on_connection all the same, after Stop
  // returns; without, it is closed. For a server that reads what it was sent before it
  // stops (StatsD over TCP).
  void Stop(bool keep_accepted = false);

  explicit Acceptor(boost::asio::io_context& io) : io_(io), acceptor_(io), retry_(io) {}

 private:
  void Accept();
  void OnAcceptError(const boost::system::error_code& ec);

  boost::asio::io_context& io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer retry_;
  OnConnection on_connection_;
  OnError on_error_;
  absl::Duration backoff_ = absl::ZeroDuration();
  uint16_t port_ = 0;
  bool stopped_ = false;
  bool keep_accepted_ = false;
};

// Counts every refusal of a server in outrigger_server_refused_total{server,reason} and
// logs it at most every 10 s per reason (with how many were not logged). `reasons` lists
// the reasons it will be given (each gets its counter at once, so it shows as 0); the
// acceptor's "fd_limit" and "accept_error" are always among them. Event loop only.
using RefusalLog = std::function<void(std::string_view reason, const std::string& message)>;
RefusalLog Refusals(std::string server, std::vector<std::string> reasons, Telemetry* telemetry,
                    std::shared_ptr<spdlog::logger> logger);

}  // namespace outrigger::net
