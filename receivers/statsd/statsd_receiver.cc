#include "receivers/statsd/statsd_receiver.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <unistd.h>

#include <array>
#include <atomic>
#include <boost/asio.hpp>
#include <cerrno>
#include <cstring>
#include <functional>
#include <future>
#include <set>
#include <utility>

#include "collector/http/server.h"
#include "collector/net/acceptor.h"
#include "collector/net/oneshot_wait.h"
#include "spdlog/spdlog.h"

namespace outrigger::receivers::statsd {

namespace asio = boost::asio;
using asio::ip::tcp;
using asio::ip::udp;

namespace {
constexpr int kBatch = 16;               // datagrams per recvmmsg
constexpr size_t kDatagramSize = 16384;  // larger datagrams are truncated and refused
// A read that found this many datagrams or more is followed by the next without
// kReadHold (the client sends faster than 64 per hold).
constexpr size_t kHoldBelow = 64;
constexpr absl::Duration kInvalidLogEvery = absl::Seconds(10);
// A flush that forgets or emits this many series gives free memory back to the system:
// glibc keeps freed small blocks in its arenas, so a burst of series (and the Metrics of
// its flush) would otherwise stay in the process's RSS for good.
constexpr size_t kTrimAfterSeries = 10000;

prometheus::Counter* OverLimitCounter(Telemetry& t, const ComponentId& id, const char* limit) {
  return &t.AddCounter("outrigger_receiver_statsd_series_limit_refusals_total",
                       "StatsD metric lines dropped because they would add a series beyond a limit",
                       {{"receiver", id.String()}, {"limit", limit}});
}

uint64_t NowNs() { return static_cast<uint64_t>(absl::ToUnixNanos(absl::Now())); }

int SeverityOf(std::string_view alert_type) {
  if (alert_type == "error") return 17;
  if (alert_type == "warning") return 13;
  return 9;
}
}  // namespace

// A TCP connection: newline-delimited lines, possibly split across reads. It holds only
// the unfinished line; reads go through the receiver's one buffer.
struct Conn {
  Conn(tcp::socket sock, asio::io_context& io) : socket(std::move(sock)), idle(io) {}
  tcp::socket socket;
  asio::steady_timer idle;  // idle_timeout: closes a connection that sends nothing
  absl::Time last_read = absl::Now();
  std::string buf;
  bool discarding = false;  // inside a line longer than max_tcp_line_length
  // Shutdown's drain: bumped by each wait, so that of a read wait and its quiet timer
  // only the one that is current acts; `drained` once the connection is done.
  uint64_t drain_gen = 0;
  bool drained = false;

  // Takes `data` (and, when `final`, the last line without its newline).
  void Take(StatsdReceiver* r, std::string_view data, size_t max_line, ReceiverMeter* meter, bool final) {
    while (!data.empty()) {
      if (discarding) {
        size_t nl = data.find('\n');
        if (nl == std::string_view::npos) return;
        data.remove_prefix(nl + 1);
        discarding = false;
        continue;
      }
      size_t last_nl = data.rfind('\n');
      if (last_nl == std::string_view::npos) {
        buf.append(data);
      } else if (buf.empty()) {  // the common case: whole lines straight from the read buffer
        r->HandleData(data.substr(0, last_nl + 1));
        buf.assign(data.substr(last_nl + 1));
      } else {
        buf.append(data.substr(0, last_nl + 1));
        r->HandleData(buf);
        buf.assign(data.substr(last_nl + 1));
      }
      data = {};
      if (buf.size() > max_line) {
        meter->Malformed();  // the line is dropped up to its newline; the connection goes on
        buf.clear();
        discarding = true;
      }
    }
    if (final && !buf.empty() && !discarding) r->HandleData(buf);
    if (final) buf.clear();
    if (buf.capacity() > 4 * std::max<size_t>(buf.size(), 1024)) buf.shrink_to_fit();
  }
};

struct StatsdReceiver::State {
  explicit State(asio::io_context& io) : io(io), timer(io), hold(io) {}
  asio::io_context& io;
  asio::steady_timer timer;
  asio::steady_timer hold;         // kReadHold
  bool hold_reads = false;         // UDP with a receive buffer of kHoldMinBuffer or more
  std::atomic<uint64_t> reads{0};  // wake-ups that read the UDP or unixgram socket
  // UDP or unixgram: the socket, owned here and not by Asio (see net::OneShotWait), and
  // the wait for it to be readable.
  int dgram_fd = -1;
  uint16_t udp_port = 0;
  std::unique_ptr<net::OneShotWait> dgram_wait;
  std::shared_ptr<net::Acceptor> acceptor;
  std::set<std::shared_ptr<Conn>> tcp_conns;
  std::array<char, 65536> tcp_chunk;  // reads happen one at a time, on the event loop
  net::RefusalLog refusals;
  std::vector<std::vector<char>> buffers;
  std::vector<mmsghdr> msgs;
  std::vector<iovec> iovs;
  bool stopped = false;
  // Shutdown's drain (event loop only): connections still being read, when to give up,
  // and what to do once none is left.
  size_t draining = 0;
  absl::Time drain_until;
  std::function<void()> drained;
};

StatsdReceiver::StatsdReceiver(const CreateSettings& settings, const Config& cfg)
    : settings_(settings),
      cfg_(cfg),
      meter_(settings.telemetry->ForReceiver(settings.id, cfg.transport)),
      aggregator_(cfg_),
      over_max_series_(OverLimitCounter(*settings.telemetry, settings.id, "max_series")),
      over_max_series_per_metric_(OverLimitCounter(*settings.telemetry, settings.id, "max_series_per_metric")),
      memory_limit_drops_(
          &settings.telemetry->AddCounter("outrigger_receiver_statsd_dropped_bytes_total",
                                          "Bytes of StatsD datagrams (or TCP reads) dropped unparsed, by reason",
                                          {{"receiver", settings.id.String()}, {"reason", "memory_limit"}})) {}

StatsdReceiver::~StatsdReceiver() { (void)Shutdown(absl::Now()); }

uint16_t StatsdReceiver::port() const {
  if (!state_) return 0;
  if (state_->udp_port != 0) return state_->udp_port;
  if (state_->acceptor) return state_->acceptor->port();
  return 0;
}

uint64_t StatsdReceiver::datagram_reads() const { return state_ ? state_->reads.load(std::memory_order_relaxed) : 0; }

void StatsdReceiver::Refuse(std::string_view line, const std::string& why, bool malformed) {
  if (malformed) meter_.Malformed();
  ++invalid_since_log_;
  absl::Time now = absl::Now();
  if (now - last_invalid_log_ < kInvalidLogEvery) return;
  settings_.logger->warn("refused StatsD line \"{}\": {} ({} refused lines since the last report)", line.substr(0, 200),
                         why, invalid_since_log_);
  invalid_since_log_ = 0;
  last_invalid_log_ = now;
}

void StatsdReceiver::HandleData(std::string_view data) {
  // Above the memory limit (a memory_limiter in a pipeline of this receiver), the data is
  // dropped before it is parsed: UDP has no backpressure to give.
  auto admitted = admission_.Admit(data.size());
  if (!admitted.ok()) {
    memory_limit_drops_->Increment(static_cast<double>(data.size()));
    Refuse(data.substr(0, data.find('\n')), StrCat("dropped unparsed: ", admitted.status().message()), false);
    return;
  }
  MetricLine m;
  EventLine e;
  ServiceCheckLine c;
  std::string error;
  const uint64_t now = NowNs();
  std::unique_ptr<pdata::LogsBuilder> logs;
  // Counted once per datagram, not per line (an atomic update of a shared counter each).
  size_t accepted_points = 0;
  ForEachLine(data, [&](std::string_view line) {
    switch (ParseLine(line, &m, &e, &c, &error)) {
      case LineKind::kMetric:
        if (consumers_.metrics == nullptr) {
          meter_.Refused(Signal::kMetrics, 1);
          return;
        }
        switch (aggregator_.Add(m, now)) {
          case AddResult::kAdded:
          case AddResult::kDisabled:  // received; its type is ignored by configuration, as upstream
            accepted_points += m.type == MetricType::kSet ? 1 : m.values.size();
            break;
          case AddResult::kPerMetricLimit:
            meter_.Refused(Signal::kMetrics, 1);
            over_max_series_per_metric_->Increment();
            Refuse(line,
                   StrCat("more than max_series_per_metric (", cfg_.max_series_per_metric, ") series for \"", m.name,
                          "\"; dropped"),
                   /*malformed=*/false);
            break;
          case AddResult::kSeriesLimit:
            meter_.Refused(Signal::kMetrics, 1);
            over_max_series_->Increment();
            Refuse(line,
                   StrCat("more than max_series (", cfg_.max_series,
                          ") series in all; new series are dropped until idle ones are forgotten at a flush"),
                   /*malformed=*/false);
            break;
        }
        return;
      case LineKind::kEvent:
      case LineKind::kServiceCheck: {
        const bool event = !e.title.empty() && line[1] == 'e';
        if (!cfg_.events_as_logs || consumers_.logs == nullptr) {
          meter_.Refused(Signal::kLogs, 1);
          Refuse(line,
                 cfg_.events_as_logs ? "events and service checks need a logs pipeline"
                                     : "events and service checks are off (events_as_logs: false)",
                 /*malformed=*/false);
          return;
        }
        if (!logs) logs = std::make_unique<pdata::LogsBuilder>(pdata::Attributes{}, "outrigger/statsd");
        pdata::Attributes attrs;
        const auto& tags = event ? e.tags : c.tags;
        for (const auto& t : tags) attrs.emplace_back(std::string(t.key), std::string(t.value));
        if (event) {
          attrs.emplace_back("dogstatsd.type", "event");
          attrs.emplace_back("event.title", std::string(e.title));
          if (!e.hostname.empty()) attrs.emplace_back("host.name", std::string(e.hostname));
          if (!e.priority.empty()) attrs.emplace_back("event.priority", std::string(e.priority));
          if (!e.alert_type.empty()) attrs.emplace_back("event.alert_type", std::string(e.alert_type));
          if (!e.aggregation_key.empty()) attrs.emplace_back("event.aggregation_key", std::string(e.aggregation_key));
          if (!e.source_type.empty()) attrs.emplace_back("event.source_type", std::string(e.source_type));
          if (!e.container_id.empty()) attrs.emplace_back("container.id", std::string(e.container_id));
          int sev = SeverityOf(e.alert_type);
          logs->Add(std::string(e.text), sev,
                    sev == 17   ? "ERROR"
                    : sev == 13 ? "WARN"
                                : "INFO",
                    attrs, e.timestamp > 0 ? static_cast<uint64_t>(e.timestamp) * 1000000000ull : now);
        } else {
          static const char* kStatus[] = {"OK", "WARNING", "CRITICAL", "UNKNOWN"};
          static const int kSeverity[] = {9, 13, 17, 5};
          attrs.emplace_back("dogstatsd.type", "service_check");
          attrs.emplace_back("service_check.name", std::string(c.name));
          attrs.emplace_back("service_check.status", kStatus[c.status]);
          if (!c.hostname.empty()) attrs.emplace_back("host.name", std::string(c.hostname));
          if (!c.container_id.empty()) attrs.emplace_back("container.id", std::string(c.container_id));
          logs->Add(std::string(c.message), kSeverity[c.status], kStatus[c.status], attrs,
                    c.timestamp > 0 ? static_cast<uint64_t>(c.timestamp) * 1000000000ull : now);
        }
        return;
      }
      case LineKind::kInvalid:
        Refuse(line, error, /*malformed=*/true);
        return;
    }
  });
  if (accepted_points > 0) meter_.Accepted(Signal::kMetrics, accepted_points);
  if (logs) {
    size_t n = logs->records();
    auto st = consumers_.logs->ConsumeLogs(logs->Build());
    if (st.ok()) {
      meter_.Accepted(Signal::kLogs, n);
    } else {
      meter_.Refused(Signal::kLogs, n);
    }
  }
}

void StatsdReceiver::FlushNow() {
  if (consumers_.metrics == nullptr) return;
  // First what the pipeline refused last time, in order.
  if (pending_) {
    auto st = consumers_.metrics->ConsumeMetrics(pending_->Clone());
    if (!st.ok()) {
      settings_.logger->warn("the pipeline still refuses the previous interval's metrics: {}", st.ToString());
      return;  // keep aggregating; try again next interval
    }
    pending_.reset();
  }
  size_t forgotten = 0, emitted = 0;
  {
    pdata::MetricsBuilder b({}, "outrigger/statsd", "");
    forgotten = aggregator_.Flush(b, NowNs());
    emitted = b.points();
    if (b.points() > 0) {
      pdata::Metrics m = b.Build();
      auto st = consumers_.metrics->ConsumeMetrics(m.Clone());
      if (!st.ok()) {
        settings_.logger->warn("the pipeline refused {} aggregated points ({}); retrying next interval", m.ItemCount(),
                               st.ToString());
        pending_ = std::make_unique<pdata::Metrics>(std::move(m));
      }
    }
  }
#if defined(__GLIBC__)
  // After the Metrics went (the pipeline took them, or pending_ holds them).
  if (forgotten >= kTrimAfterSeries || emitted >= kTrimAfterSeries) malloc_trim(0);
#endif
}

namespace {

void ArmTimer(StatsdReceiver* r, StatsdReceiver::State* s, absl::Duration every) {
  s->timer.expires_after(absl::ToChronoNanoseconds(every));
  s->timer.async_wait([r, s, every](const boost::system::error_code& ec) {
    if (ec || s->stopped) return;
    r->FlushNow();
    ArmTimer(r, s, every);
  });
}

// Reads every datagram queued on `fd` with recvmmsg (many per system call) until it
// would block; returns how many it read.
size_t DrainDatagrams(StatsdReceiver* r, StatsdReceiver::State* s, int fd, ReceiverMeter* meter) {
  size_t total = 0;
  while (true) {
    for (int i = 0; i < kBatch; ++i) {
      s->iovs[static_cast<size_t>(i)] = {s->buffers[static_cast<size_t>(i)].data(), kDatagramSize};
      s->msgs[static_cast<size_t>(i)].msg_hdr = {};
      s->msgs[static_cast<size_t>(i)].msg_hdr.msg_iov = &s->iovs[static_cast<size_t>(i)];
      s->msgs[static_cast<size_t>(i)].msg_hdr.msg_iovlen = 1;
    }
    int n = recvmmsg(fd, s->msgs.data(), kBatch, MSG_DONTWAIT, nullptr);
    if (n <= 0) return total;
    total += static_cast<size_t>(n);
    for (int i = 0; i < n; ++i) {
      const auto& m = s->msgs[static_cast<size_t>(i)];
      if (m.msg_hdr.msg_flags & MSG_TRUNC) {
        meter->Malformed();
        continue;
      }
      r->HandleData(std::string_view(s->buffers[static_cast<size_t>(i)].data(), m.msg_len));
    }
    if (n < kBatch) return total;
  }
}

void ReadDatagrams(StatsdReceiver* r, StatsdReceiver::State* s, ReceiverMeter* meter);

// Drains the socket, then reads again: after kReadHold if holds are on and the read
// found fewer than kHoldBelow datagrams, otherwise as soon as it is readable.
void DrainThenRead(StatsdReceiver* r, StatsdReceiver::State* s, ReceiverMeter* meter) {
  s->reads.fetch_add(1, std::memory_order_relaxed);
  const size_t n = DrainDatagrams(r, s, s->dgram_fd, meter);
  if (!s->hold_reads || n == 0 || n >= kHoldBelow) {
    ReadDatagrams(r, s, meter);
    return;
  }
  s->hold.expires_after(absl::ToChronoNanoseconds(kReadHold));
  s->hold.async_wait([r, s, meter](const boost::system::error_code& ec) {
    if (ec || s->stopped) return;
    DrainThenRead(r, s, meter);
  });
}

// Waits until the socket is readable, then drains it. While nothing waits (a hold), the
// datagrams that arrive wake nothing.
void ReadDatagrams(StatsdReceiver* r, StatsdReceiver::State* s, ReceiverMeter* meter) {
  s->dgram_wait->Wait([r, s, meter](const boost::system::error_code& ec) {
    if (ec && ec != asio::error::operation_aborted) {
      spdlog::error("statsd: cannot wait for datagrams any more: {}", ec.message());
    }
    if (ec || s->stopped) return;
    DrainThenRead(r, s, meter);
  });
}

void CloseConn(StatsdReceiver::State* s, const std::shared_ptr<Conn>& conn) {
  boost::system::error_code ec;
  conn->idle.cancel();
  conn->socket.close(ec);
  s->tcp_conns.erase(conn);
}

// (Re)starts the connection's idle_timeout: it is closed if nothing arrives by then.
void ArmIdle(StatsdReceiver::State* s, const std::shared_ptr<Conn>& conn, const Config* cfg) {
  if (cfg->idle_timeout <= absl::ZeroDuration()) return;
  conn->idle.expires_after(absl::ToChronoNanoseconds(cfg->idle_timeout));
  conn->idle.async_wait([s, conn, cfg](const boost::system::error_code& ec) {
    if (ec || s->stopped) return;
    s->refusals("idle_timeout", StrCat("a connection sent nothing for idle_timeout (",
                                       absl::FormatDuration(cfg->idle_timeout), ") and was closed"));
    CloseConn(s, conn);
  });
}

// Waits until the connection is readable, then reads what it has into the shared buffer.
void ReadStream(StatsdReceiver* r, StatsdReceiver::State* s, std::shared_ptr<Conn> conn, const Config* cfg,
                ReceiverMeter* meter) {
  conn->socket.async_wait(tcp::socket::wait_read, [=](const boost::system::error_code& wait_ec) {
    if (wait_ec == asio::error::operation_aborted || s->stopped) return;
    boost::system::error_code ec = wait_ec;
    size_t n = 0;
    if (!ec) n = conn->socket.read_some(asio::buffer(s->tcp_chunk), ec);
    conn->last_read = absl::Now();
    if (ec == asio::error::would_block || ec == asio::error::try_again) {
      ReadStream(r, s, conn, cfg, meter);
      return;
    }
    const size_t max_line = static_cast<size_t>(cfg->max_tcp_line_length);
    conn->Take(r, std::string_view(s->tcp_chunk.data(), ec ? 0 : n), max_line, meter, /*final=*/bool(ec));
    if (ec) {
      CloseConn(s, conn);
      return;
    }
    ArmIdle(s, conn, cfg);
    ReadStream(r, s, conn, cfg, meter);
  });
}

void OnConnection(StatsdReceiver* r, StatsdReceiver::State* s, tcp::socket sock, const Config* cfg,
                  ReceiverMeter* meter) {
  boost::system::error_code ec;
  if (cfg->max_connections > 0 && s->tcp_conns.size() >= static_cast<size_t>(cfg->max_connections)) {
    // Room for the newcomer: the connection quiet for longest goes (none is quiet while
    // it holds part of a line).
    std::shared_ptr<Conn> quietest;
    for (const auto& c : s->tcp_conns) {
      if (c->buf.empty() && (!quietest || c->last_read < quietest->last_read)) quietest = c;
    }
    const absl::Time now = absl::Now();
    if (quietest) {
      s->refusals("max_connections",
                  StrCat("max_connections (", cfg->max_connections, ") connections are open: the one quiet for ",
                         absl::FormatDuration(absl::Trunc(now - quietest->last_read, absl::Milliseconds(1))),
                         " was closed to make room"));
      CloseConn(s, quietest);
    } else {
      s->refusals("max_connections", StrCat("max_connections (", cfg->max_connections,
                                            ") connections are open and busy: a new one was closed at once"));
      sock.close(ec);
      return;
    }
  }
  sock.non_blocking(true, ec);
  auto conn = std::make_shared<Conn>(std::move(sock), s->io);
  s->tcp_conns.insert(conn);
  ArmIdle(s, conn, cfg);
  ReadStream(r, s, conn, cfg, meter);
}

}  // namespace

absl::Status StatsdReceiver::Start(Host& host) {
  state_ = std::make_unique<State>(host.IoContext());
  State* s = state_.get();
  s->buffers.assign(kBatch, std::vector<char>(kDatagramSize));
  s->msgs.assign(kBatch, mmsghdr{});
  s->iovs.assign(kBatch, iovec{});
  boost::system::error_code ec;
  auto set_rcvbuf = [&](int fd) {
    if (cfg_.socket_buffer_size == 0) return;
    int v = static_cast<int>(std::min<uint64_t>(cfg_.socket_buffer_size, INT32_MAX));
    // SO_RCVBUFFORCE passes net.core.rmem_max when privileged; otherwise the capped value.
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &v, sizeof(v)) != 0) {
      setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v));
    }
  };
  // A datagram socket, opened and bound with Asio, then taken from it (net::OneShotWait).
  auto take = [&](auto& sock) -> absl::Status {
    s->dgram_fd = sock.release(ec);
    if (ec) return absl::InternalError(StrCat("StatsD ", cfg_.transport, " socket: ", ec.message()));
    set_rcvbuf(s->dgram_fd);
    auto wait = net::OneShotWait::Make(s->io, s->dgram_fd);
    if (!wait.ok()) return wait.status();
    s->dgram_wait = std::move(*wait);
    return absl::OkStatus();
  };
  if (cfg_.transport == "unixgram") {
    ::unlink(cfg_.endpoint.c_str());
    asio::local::datagram_protocol::socket sock(s->io);
    sock.open(asio::local::datagram_protocol(), ec);
    if (!ec) sock.bind(asio::local::datagram_protocol::endpoint(cfg_.endpoint), ec);
    if (ec) return absl::UnavailableError(StrCat("cannot bind unixgram socket ", cfg_.endpoint, ": ", ec.message()));
    if (::chmod(cfg_.endpoint.c_str(), static_cast<mode_t>(cfg_.socket_permissions)) != 0) {
      return absl::UnavailableError(
          StrCat("cannot set the mode of unixgram socket ", cfg_.endpoint, ": ", std::strerror(errno)));
    }
    if (auto st = take(sock); !st.ok()) return st;
  } else {
    auto hp = http::ParseEndpoint(cfg_.endpoint);
    if (!hp.ok()) return hp.status();
    auto addr = asio::ip::make_address(hp->host);
    if (cfg_.transport == "udp") {
      udp::socket sock(s->io);
      udp::endpoint ep(addr, hp->port);
      sock.open(ep.protocol(), ec);
      if (!ec) sock.bind(ep, ec);
      if (ec) return absl::UnavailableError(StrCat("StatsD cannot listen on udp ", cfg_.endpoint, ": ", ec.message()));
      s->udp_port = sock.local_endpoint(ec).port();
      if (auto st = take(sock); !st.ok()) return st;
      int rcvbuf = 0;
      socklen_t len = sizeof rcvbuf;
      s->hold_reads = getsockopt(s->dgram_fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, &len) == 0 && rcvbuf >= kHoldMinBuffer;
    } else {
      s->refusals = net::Refusals(StrCat("receiver/", settings_.id.String()), {"max_connections", "idle_timeout"},
                                  settings_.telemetry, settings_.logger);
      auto acceptor = net::Acceptor::Listen(
          s->io, hp->host, hp->port,
          [this, s](tcp::socket sock) { OnConnection(this, s, std::move(sock), &cfg_, &meter_); }, s->refusals);
      if (!acceptor.ok()) {
        return absl::UnavailableError(
            StrCat("StatsD cannot listen on tcp ", cfg_.endpoint, ": ", acceptor.status().message()));
      }
      s->acceptor = std::move(*acceptor);
    }
  }
  // Everything else happens on the event loop.
  asio::post(s->io, [this, s] {
    if (s->dgram_wait) ReadDatagrams(this, s, &meter_);
    if (s->acceptor) s->acceptor->Start();
    ArmTimer(this, s, cfg_.aggregation_interval);
  });
  settings_.logger->info("StatsD listening on {} {} (port {}), aggregating every {}", cfg_.transport, cfg_.endpoint,
                         port(), absl::FormatDuration(cfg_.aggregation_interval));
  return absl::OkStatus();
}

namespace {

// Connections the listener has not accepted yet: a client may have connected, sent its
// lines and closed before shutdown; they are in the kernel's accept queue.
std::vector<tcp::socket> AcceptPending(StatsdReceiver::State* s) {
  std::vector<tcp::socket> out;
  const int fd = s->acceptor->native_handle();
  while (true) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 0) <= 0 || !(p.revents & POLLIN)) break;
    const int c = ::accept4(fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (c < 0) break;
    boost::system::error_code ec;
    tcp::socket sock(s->io);
    sockaddr_storage addr{};
    socklen_t len = sizeof(addr);
    ::getsockname(c, reinterpret_cast<sockaddr*>(&addr), &len);
    sock.assign(addr.ss_family == AF_INET6 ? tcp::v6() : tcp::v4(), c, ec);
    if (ec) {
      ::close(c);
      continue;
    }
    out.push_back(std::move(sock));
  }
  return out;
}

}  // namespace

void StatsdReceiver::FinishDrain(const std::shared_ptr<Conn>& conn, bool closed_by_client) {
  State* s = state_.get();
  ++conn->drain_gen;
  conn->drained = true;
  if (closed_by_client) {
    // The last line may lack its newline.
    conn->Take(this, {}, static_cast<size_t>(cfg_.max_tcp_line_length), &meter_, /*final=*/true);
  } else if (!conn->buf.empty() && !conn->discarding) {
    // The client is still connected and has not finished this line: it is not a line.
    meter_.Refused(Signal::kMetrics, 1);
    Refuse(conn->buf, "incomplete line (no newline) on a connection still open at shutdown; dropped",
           /*malformed=*/false);
    conn->buf.clear();
  }
  boost::system::error_code ec;
  conn->idle.cancel();
  conn->socket.close(ec);
  if (--s->draining == 0 && s->drained) std::exchange(s->drained, nullptr)();
}

void StatsdReceiver::DrainConnection(const std::shared_ptr<Conn>& conn) {
  State* s = state_.get();
  const size_t max_line = static_cast<size_t>(cfg_.max_tcp_line_length);
  while (true) {
    boost::system::error_code ec;
    size_t n = conn->socket.read_some(asio::buffer(s->tcp_chunk), ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) break;
    if (ec) {
      FinishDrain(conn, /*closed_by_client=*/true);
      return;
    }
    conn->Take(this, std::string_view(s->tcp_chunk.data(), n), max_line, &meter_, /*final=*/false);
  }
  // Nothing to read right now: the client may still be sending (what it wrote is on its
  // way through the kernel) or be quiet for good. Wait for more: up to kDrainQuiet after
  // a whole line, until the drain's end inside one (the rest of it is coming).
  const absl::Time now = absl::Now();
  if (now >= s->drain_until) {
    FinishDrain(conn, /*closed_by_client=*/false);
    return;
  }
  const uint64_t gen = ++conn->drain_gen;
  conn->socket.async_wait(tcp::socket::wait_read, [this, conn, gen](const boost::system::error_code& ec) {
    if (ec == asio::error::operation_aborted || conn->drained || conn->drain_gen != gen) return;
    DrainConnection(conn);
  });
  const bool mid_line = !conn->buf.empty() || conn->discarding;
  conn->idle.expires_after(
      absl::ToChronoNanoseconds(mid_line ? s->drain_until - now : std::min(kDrainQuiet, s->drain_until - now)));
  conn->idle.async_wait([this, conn, gen](const boost::system::error_code& ec) {
    if (ec || conn->drained || conn->drain_gen != gen) return;
    FinishDrain(conn, /*closed_by_client=*/false);
  });
}

absl::Status StatsdReceiver::Shutdown(absl::Time deadline) {
  if (!state_) return absl::OkStatus();
  State* s = state_.get();
  // On the event loop: stop listening and reading as usual, read what the sockets still
  // hold (TCP: until each client closes or is quiet; see kDrainQuiet), then hand over
  // what was aggregated so far.
  std::promise<void> done;
  asio::post(s->io, [this, s, deadline, &done] {
    s->stopped = true;
    boost::system::error_code ec;
    s->timer.cancel();
    s->hold.cancel();
    if (s->dgram_wait) DrainDatagrams(this, s, s->dgram_fd, &meter_);
    s->dgram_wait.reset();  // its wait ends as aborted
    if (s->dgram_fd >= 0) ::close(std::exchange(s->dgram_fd, -1));
    if (s->acceptor) {
      for (auto& sock : AcceptPending(s)) s->tcp_conns.insert(std::make_shared<Conn>(std::move(sock), s->io));
      // Connections accepted already but not handed over yet (queued behind this) are
      // still added (OnConnection); the next step runs after them.
      s->acceptor->Stop(/*keep_accepted=*/true);
    }
    asio::post(s->io, [this, s, deadline, &done] {
      std::vector<std::shared_ptr<Conn>> conns(s->tcp_conns.begin(), s->tcp_conns.end());
      const absl::Time now = absl::Now();
      s->drain_until = now + std::min(kDrainMax, std::max(absl::ZeroDuration(), (deadline - now) / 4));
      s->draining = conns.size() + 1;  // +1: this function, so that the end runs once, last
      s->drained = [this, &done] {
        FlushNow();
        done.set_value();
      };
      for (auto& c : conns) {
        c->idle.cancel();
        DrainConnection(c);
      }
      if (--s->draining == 0) std::exchange(s->drained, nullptr)();
    });
  });
  done.get_future().wait();
  // The handlers of what was closed or cancelled above are queued on the loop: let them
  // run before the state they point to goes.
  std::promise<void> settled;
  asio::post(s->io, [&settled] { settled.set_value(); });
  settled.get_future().wait();
  s->tcp_conns.clear();
  if (cfg_.transport == "unixgram") ::unlink(cfg_.endpoint.c_str());
  state_.reset();
  return absl::OkStatus();
}

}  // namespace outrigger::receivers::statsd
