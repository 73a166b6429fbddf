#include "collector/net/acceptor.h"

#include <algorithm>
#include <cerrno>
#include <future>
#include <map>

#include "absl/strings/str_cat.h"
#include "collector/telemetry/telemetry.h"
#include "spdlog/spdlog.h"

namespace outrigger::net {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

absl::StatusOr<std::shared_ptr<Acceptor>> Acceptor::Listen(asio::io_context& io, const std::string& host, uint16_t port,
                                                           OnConnection on_connection, OnError on_error) {
  auto a = std::make_shared<Acceptor>(io);
  a->on_connection_ = std::move(on_connection);
  a->on_error_ = std::move(on_error);
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(host, ec);
  if (ec) return absl::InvalidArgumentError(absl::StrCat("\"", host, "\" is not an IP address"));
  tcp::endpoint ep(addr, port);
  a->acceptor_.open(ep.protocol(), ec);
  if (!ec) a->acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) a->acceptor_.bind(ep, ec);
  if (!ec) a->acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return absl::UnavailableError(absl::StrCat("cannot listen on ", host, ":", port, ": ", ec.message()));
  a->port_ = a->acceptor_.local_endpoint(ec).port();
  return a;
}

void Acceptor::Start() {
  asio::post(acceptor_.get_executor(), [self = shared_from_this()] { self->Accept(); });
}

void Acceptor::Stop(bool keep_accepted) {
  auto close = [this, keep_accepted] {
    stopped_ = true;
    keep_accepted_ = keep_accepted;
    boost::system::error_code ec;
    acceptor_.close(ec);
    retry_.cancel();
  };
  if (io_.get_executor().running_in_this_thread()) {
    close();
    return;
  }
  // From another thread: closed when this returns, so the port can be bound again at once
  // (a reload listens on it next).
  std::promise<void> done;
  asio::post(io_, [self = shared_from_this(), &close, &done] {
    close();
    done.set_value();
  });
  done.get_future().wait();
}

void Acceptor::Accept() {
  if (stopped_) return;
  acceptor_.async_accept([self = shared_from_this()](const boost::system::error_code& ec, tcp::socket socket) {
    if (self->stopped_) {
      if (!ec && self->keep_accepted_) self->on_connection_(std::move(socket));
      return;
    }
    if (ec) {
      self->OnAcceptError(ec);
      return;
    }
    self->backoff_ = absl::ZeroDuration();
    self->on_connection_(std::move(socket));
    self->Accept();
  });
}

void Acceptor::OnAcceptError(const boost::system::error_code& ec) {
  if (ec == asio::error::connection_aborted) {  // the client gave up before accept: nothing wrong here
    Accept();
    return;
  }
  const bool fd_limit = ec == asio::error::no_descriptors || ec.value() == ENFILE ||
                        ec == asio::error::no_buffer_space || ec == asio::error::no_memory;
  backoff_ = backoff_ == absl::ZeroDuration() ? kAcceptRetryMin : std::min(backoff_ * 2, kAcceptRetryMax);
  if (on_error_) {
    on_error_(fd_limit ? "fd_limit" : "accept_error",
              absl::StrCat("cannot accept connections: ", ec.message(),
                           fd_limit ? " (raise the open files limit, ulimit -n, or lower the connection limits)" : "",
                           "; accepting again in ", absl::FormatDuration(backoff_)));
  }
  retry_.expires_after(absl::ToChronoNanoseconds(backoff_));
  retry_.async_wait([self = shared_from_this()](const boost::system::error_code& wec) {
    if (wec || self->stopped_) return;
    self->Accept();
  });
}

RefusalLog Refusals(std::string server, std::vector<std::string> reasons, Telemetry* telemetry,
                    std::shared_ptr<spdlog::logger> logger) {
  struct Reason {
    prometheus::Counter* counter = nullptr;
    absl::Time last_log = absl::InfinitePast();
    uint64_t suppressed = 0;
  };
  auto table = std::make_shared<std::map<std::string, Reason, std::less<>>>();
  auto counter = [telemetry, server](const std::string& reason) -> prometheus::Counter* {
    if (telemetry == nullptr) return nullptr;
    return &telemetry->AddCounter("outrigger_server_refused_total",
                                  "Connections a server refused, cut or could not accept, by reason (fd_limit: out "
                                  "of file descriptors; it accepts again after a short wait)",
                                  {{"server", server}, {"reason", reason}});
  };
  reasons.push_back("fd_limit");
  reasons.push_back("accept_error");
  for (const auto& r : reasons) (*table)[r].counter = counter(r);
  if (!logger) logger = spdlog::default_logger();
  return [server, table, logger, counter](std::string_view why, const std::string& message) {
    auto it = table->find(why);
    if (it == table->end()) it = table->emplace(std::string(why), Reason{counter(std::string(why))}).first;
    Reason& r = it->second;
    if (r.counter != nullptr) r.counter->Increment();
    absl::Time now = absl::Now();
    if (now - r.last_log < absl::Seconds(10)) {
      ++r.suppressed;
      return;
    }
    if (r.suppressed > 0) {
      logger->warn("{}: {} ({} more like it since the last report)", server, message, r.suppressed);
    } else {
      logger->warn("{}: {}", server, message);
    }
    r.last_log = now;
    r.suppressed = 0;
  };
}

}  // namespace outrigger::net
