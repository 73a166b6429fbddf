#include "receivers/statsd/statsd_receiver.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <future>
#include <thread>

#include <boost/asio/post.hpp>

#include "tests/testutil/testutil.h"

namespace outrigger::receivers::statsd {
namespace {

namespace mpb = opentelemetry::proto::metrics::v1;

void SendUdp(uint16_t port, const std::string& payload) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(sendto(fd, payload.data(), payload.size(), 0, reinterpret_cast<sockaddr*>(&a), sizeof(a)),
            static_cast<ssize_t>(payload.size()));
  close(fd);
}

void SendTcp(uint16_t port, const std::string& payload) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  ASSERT_EQ(write(fd, payload.data(), payload.size()), static_cast<ssize_t>(payload.size()));
  close(fd);
}

// Whether the server closed `fd`: a read returns end of stream (or a reset) within 10 s.
bool ClosedByServer(int fd) {
  timeval tv{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  char c;
  ssize_t n = read(fd, &c, 1);
  return n == 0 || (n < 0 && errno == ECONNRESET);
}

void SendUnix(const std::string& path, const std::string& payload) {
  int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::snprintf(a.sun_path, sizeof(a.sun_path), "%s", path.c_str());
  ASSERT_EQ(sendto(fd, payload.data(), payload.size(), 0, reinterpret_cast<sockaddr*>(&a), sizeof(a)),
            static_cast<ssize_t>(payload.size()));
  close(fd);
}

class StatsdReceiverTest : public ::testing::Test {
 protected:
  void Start(Config cfg) {
    cfg.aggregation_interval = absl::Hours(1);  // the test flushes by shutting down
    receiver_ = std::make_unique<StatsdReceiver>(testutil::Settings(&telemetry_, "statsd", Kind::kReceiver), cfg);
    receiver_->SetConsumers({nullptr, &sink_, &sink_});
    ASSERT_TRUE(receiver_->Start(host_).ok());
  }
  double Metric(const char* name, const char* transport) {
    return telemetry_.Value(name, {{"receiver", "statsd"}, {"transport", transport}});
  }
  // Waits until `n` values were accepted (the datagrams are handled on the event loop).
  bool WaitAccepted(double n, const char* transport) {
    return sink_.WaitFor([&] { return Metric("outrigger_receiver_accepted_metric_points_total", transport) >= n; });
  }
  // TCP: a client that sent a whole line and half of the next ("first:1|c\nsecond:1|"),
  // then Shutdown (deadline in 10 s: the drain lasts 2.5 s) begun on another thread, up
  // to the listener being closed. The client's socket is *fd.
  void ShutDownWhileAClientIsMidLine(int* fd, std::future<absl::Status>* shutdown) {
    Config cfg;
    cfg.endpoint = "127.0.0.1:0";
    cfg.transport = "tcp";
    Start(cfg);
    const uint16_t port = receiver_->port();
    *fd = testutil::ConnectTcp(port);
    ASSERT_GE(*fd, 0);
    ASSERT_EQ(write(*fd, "first:1|c\nsecond:1|", 19), 19);
    ASSERT_TRUE(WaitAccepted(1, "tcp"));
    *shutdown = std::async(std::launch::async, [&] { return receiver_->Shutdown(absl::Now() + absl::Seconds(10)); });
    ASSERT_TRUE(sink_.WaitFor([&] {
      int probe = testutil::ConnectTcp(port);
      if (probe >= 0) close(probe);
      return probe < 0;
    }));
  }
  outrigger::Telemetry telemetry_;
  testutil::Sink sink_;
  testutil::TestHost host_;
  std::unique_ptr<StatsdReceiver> receiver_;
};

TEST_F(StatsdReceiverTest, UdpLinesAreAggregatedAndFlushedAtShutdown) {
  Config cfg;
  cfg.endpoint = "127.0.0.1:0";
  Start(cfg);
  SendUdp(receiver_->port(), "a:1|c\na:2|c\nbroken\nb:5|g");
  SendUdp(receiver_->port(), "a:3|c");
  ASSERT_TRUE(WaitAccepted(4, "udp"));
  EXPECT_EQ(Metric("outrigger_receiver_malformed_requests_total", "udp"), 1);
  EXPECT_EQ(sink_.PointCount(), 0u);  // still aggregating
  ASSERT_TRUE(receiver_->Shutdown(absl::Now() + absl::Seconds(5)).ok());
  EXPECT_EQ(sink_.PointCount(), 2u);  // one point for a, one for b
}

// A client that sends one datagram per line, as plain StatsD clients do, is read in
// groups when the receive buffer is large enough: after a read that found only a few
// datagrams the next one waits kReadHold, so the event loop wakes about once per
// kReadHold, not once per datagram. None is lost. (SO_RCVBUFFORCE: root, as in CI.)
TEST_F(StatsdReceiverTest, OneDatagramPerLineIsReadInGroups) {
  Config cfg;
  cfg.endpoint = "127.0.0.1:0";
  cfg.socket_buffer_size = 4 << 20;
  {
    // Without CAP_NET_ADMIN the kernel caps the buffer at net.core.rmem_max.
    int probe = socket(AF_INET, SOCK_DGRAM, 0);
    int v = 4 << 20, got = 0;
    socklen_t len = sizeof got;
    if (setsockopt(probe, SOL_SOCKET, SO_RCVBUFFORCE, &v, sizeof v) != 0) {
      setsockopt(probe, SOL_SOCKET, SO_RCVBUF, &v, sizeof v);
    }
    getsockopt(probe, SOL_SOCKET, SO_RCVBUF, &got, &len);
    close(probe);
    if (got < kHoldMinBuffer) GTEST_SKIP() << "a receive buffer of " << got << " bytes is all this process may have";
  }
  Start(cfg);
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(receiver_->port());
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  constexpr int kDatagrams = 2000;
  const uint64_t reads0 = receiver_->datagram_reads();
  const absl::Time start = absl::Now();
  for (int i = 0; i < kDatagrams; ++i) {
    const std::string line = "one.by.one:1|c";
    ASSERT_EQ(sendto(fd, line.data(), line.size(), 0, reinterpret_cast<sockaddr*>(&a), sizeof(a)),
              static_cast<ssize_t>(line.size()));
    if (i % 10 == 9) std::this_thread::sleep_for(std::chrono::microseconds(200));  // the client's pace
  }
  const absl::Duration sending = absl::Now() - start;
  close(fd);
  ASSERT_TRUE(WaitAccepted(kDatagrams, "udp"));
  const uint64_t reads = receiver_->datagram_reads() - reads0;
  // About one read per kReadHold while the client sends (two: the one that finds a few,
  // the held one); one per datagram would be 2,000.
  EXPECT_LE(reads, 2 * static_cast<uint64_t>(sending / kReadHold) + 20) << "in " << absl::FormatDuration(sending);
  ASSERT_TRUE(receiver_->Shutdown(absl::Now() + absl::Seconds(5)).ok());
  ASSERT_EQ(sink_.PointCount(), 1u);
  EXPECT_EQ(Metric("outrigger_receiver_accepted_metric_points_total", "udp"), kDatagrams);
}

TEST_F(StatsdReceiverTest, TcpStreamsSplitOnNewlinesAcrossReads) {
  Config cfg;
  cfg.endpoint = "127.0.0.1:0";
  cfg.transport = "tcp";
  Start(cfg);
  std::string many;
  for (int i = 0; i < 5000; ++i) many += "tcp.count:1|c|#k:v\n";
  many += "last:1|c";  // no final newline: taken when the connection closes
  SendTcp(receiver_->port(), many);
  ASSERT_TRUE(WaitAccepted(5001, "tcp"));
  EXPECT_EQ(Metric("outrigger_receiver_malformed_requests_total", "tcp"), 0);
}

TEST_F(StatsdReceiverTest, Unixgram) {
  Config cfg;
  cfg.transport = "unixgram";
  cfg.endpoint = ::testing::TempDir() + "/outrigger-statsd-test.sock";
  Start(cfg);
  SendUnix(cfg.endpoint, "u:1|c\nu:1|c");
  ASSERT_TRUE(WaitAccepted(2, "unixgram"));
}

TEST_F(StatsdReceiverTest, EventsBecomeLogRecords) {
  Config cfg;
  cfg.endpoint = "127.0.0.1:0";
  Start(cfg);
  SendUdp(receiver_->port(), "_e{4,5}:boom|hello|t:error\n_sc|db|1|m:slow");
  ASSERT_TRUE(sink_.WaitFor([&] { return sink_.LogCount() == 2; }));
  // Counted once the pipeline took them, just after the sink saw them.
  EXPECT_TRUE(sink_.WaitFor([&] { return Metric("outrigger_receiver_accepted_log_records_total", "udp") == 2; }));
}

TEST_F(StatsdReceiverTest, RefusedIntervalIsRetriedNotLost) {
  Config cfg;
  cfg.endpoint = "127.0.0.1:0";
  Start(cfg);
  SendUdp(receiver_->port(), "x:1|c");
  ASSERT_TRUE(WaitAccepted(1, "udp"));
  sink_.FailNext(1, absl::ResourceExhaustedError("full"));
  receiver_->FlushNow();  // refused: kept
  EXPECT_EQ(sink_.PointCount(), 0u);
  SendUdp(receiver_->port(), "x:1|c");
  ASSERT_TRUE(WaitAccepted(2, "udp"));
  ASSERT_TRUE(receiver_->Shutdown(absl::Now() + absl::Seconds(5)).ok());
  EXPECT_EQ(sink_.PointCount(), 2u);  // the kept interval, then the new one
}

TEST_F(StatsdReceiverTest, NewSeriesBeyondMaxSeriesAreDroppedAndCounted) {
  Config cfg;
  cfg.endpoint = "127.0.0.1:0";
  cfg.max_series = 10;
  Start(cfg);
  std::string lines;
  for (int i = 0; i < 30; ++i) lines += "n" + std::to_string(i) + ":1|c\n";
  SendUdp(receiver_->port(), lines);
  auto refusals = [&](const char* limit) {
    return telemetry_.Value("outrigger_receiver_statsd_series_limit_refusals_total",
                            {{"receiver", "statsd"}, {"limit", limit}});
  };
  ASSERT_TRUE(sink_.WaitFor([&] { return refusals("max_series") == 20; }));
  EXPECT_EQ(Metric("outrigger_receiver_accepted_metric_points_total", "udp"), 10);
  EXPECT_EQ(Metric("outrigger_receiver_refused_metric_points_total", "udp"), 20);
  EXPECT_EQ(refusals("max_series_per_metric"), 0);
  ASSERT_TRUE(receiver_->Shutdown(absl::Now() + absl::Seconds(5)).ok());
  EXPECT_EQ(sink_.PointCount(), 10u);
}

// An admission control that is open or closed (a memory_limiter below or above its limit).
class Gate : public AdmissionControl {
 public:
  absl::Status Reserve(uint64_t) override {
    return open ? absl::OkStatus() : absl::ResourceExhaustedError("above the memory limit");
  }
  void Release(uint64_t) override {}
  std::atomic<bool> open{true};
};

TEST_F(StatsdReceiverTest, AboveTheMemoryLimitDataIsDroppedUnparsedAndCounted) {
  Gate gate;
  Admission admission;
  admission.Add(&gate);
  Config cfg;
  cfg.endpoint = "127.0.0.1:0";
  cfg.aggregation_interval = absl::Hours(1);
  receiver_ = std::make_unique<StatsdReceiver>(testutil::Settings(&telemetry_, "statsd", Kind::kReceiver), cfg);
  receiver_->SetConsumers({nullptr, &sink_, &sink_});
  receiver_->SetAdmission(admission);
  ASSERT_TRUE(receiver_->Start(host_).ok());
  gate.open = false;
  SendUdp(receiver_->port(), "x:1|c\ny:2|c");
  ASSERT_TRUE(sink_.WaitFor([&] {
    return telemetry_.Value("outrigger_receiver_statsd_dropped_bytes_total",
                            {{"receiver", "statsd"}, {"reason", "memory_limit"}}) == 11;
  }));
  gate.open = true;
  SendUdp(receiver_->port(), "z:1|c");
  ASSERT_TRUE(WaitAccepted(1, "udp"));
  ASSERT_TRUE(receiver_->Shutdown(absl::Now() + absl::Seconds(5)).ok());
  EXPECT_EQ(sink_.PointCount(), 1u);  // only what came in below the limit
}

double Refused(outrigger::Telemetry& t, const char* reason) {
  return t.Value("outrigger_server_refused_total", {{"server", "receiver/statsd"}, {"reason", reason}});
}

TEST_F(StatsdReceiverTest, TcpMaxConnectionsClosesTheQuietestToMakeRoom) {
  Config cfg;
  cfg.endpoint = "127.0.0.1:0";
  cfg.transport = "tcp";
  cfg.max_connections = 2;
  Start(cfg);
  int a = testutil::ConnectTcp(receiver_->port());
  ASSERT_GE(a, 0);
  ASSERT_EQ(write(a, "a:1|c\n", 6), 6);
  ASSERT_TRUE(WaitAccepted(1, "tcp"));
  int b = testutil::ConnectTcp(receiver_->port());
  ASSERT_GE(b, 0);
  ASSERT_EQ(write(b, "b:1|c\n", 6), 6);
  ASSERT_TRUE(WaitAccepted(2, "tcp"));
  // A third connection: `a` has been quiet longest and is closed; the newcomer is served.
  int c = testutil::ConnectTcp(receiver_->port());
  ASSERT_GE(c, 0);
  ASSERT_EQ(write(c, "c:1|c\n", 6), 6);
  ASSERT_TRUE(WaitAccepted(3, "tcp"));
  EXPECT_TRUE(ClosedByServer(a));
  EXPECT_EQ(Refused(telemetry_, "max_connections"), 1);
  ASSERT_EQ(write(b, "b:1|c\n", 6), 6);  // `b` is still served
  ASSERT_TRUE(WaitAccepted(4, "tcp"));
  for (int fd : {a, b, c}) close(fd);
}

TEST_F(StatsdReceiverTest, TcpIdleTimeoutClosesAQuietConnection) {
  Config cfg;
  cfg.endpoint = "127.0.0.1:0";
  cfg.transport = "tcp";
  cfg.idle_timeout = absl::Milliseconds(200);
  Start(cfg);
  int fd = testutil::ConnectTcp(receiver_->port());
  ASSERT_GE(fd, 0);
  ASSERT_EQ(write(fd, "a:1|c\n", 6), 6);
  ASSERT_TRUE(WaitAccepted(1, "tcp"));
  EXPECT_TRUE(ClosedByServer(fd));
  EXPECT_EQ(Refused(telemetry_, "idle_timeout"), 1);
  close(fd);
  ASSERT_TRUE(receiver_->Shutdown(absl::Now() + absl::Seconds(5)).ok());
  EXPECT_EQ(sink_.PointCount(), 1u);  // what it sent before going quiet is kept
}

// Issue 14: a line the client has not finished when shutdown reads the connection is not
// a line (it was taken whole, "loss.n930377:1" for "loss.n930377:1|c", and refused as
// malformed). It is counted as refused, and the lines before it are kept.
TEST_F(StatsdReceiverTest, TcpShutdownDoesNotTakeAnUnfinishedLineAsALine) {
  Config cfg;
  cfg.endpoint = "127.0.0.1:0";
  cfg.transport = "tcp";
  Start(cfg);
  int fd = testutil::ConnectTcp(receiver_->port());
  ASSERT_GE(fd, 0);
  ASSERT_EQ(write(fd, "a:1|c\nb:2", 9), 9);  // the client is still writing `b`
  ASSERT_TRUE(WaitAccepted(1, "tcp"));
  ASSERT_TRUE(receiver_->Shutdown(absl::Now() + absl::Seconds(5)).ok());
  EXPECT_EQ(sink_.PointCount(), 1u);
  EXPECT_EQ(Metric("outrigger_receiver_malformed_requests_total", "tcp"), 0);
  EXPECT_EQ(Metric("outrigger_receiver_refused_metric_points_total", "tcp"), 1);
  close(fd);
}

// Issue 14: a client that connected, sent its lines and closed before the listener
// accepted the connection loses nothing at shutdown.
TEST_F(StatsdReceiverTest, TcpShutdownReadsConnectionsNotAcceptedYet) {
  Config cfg;
  cfg.endpoint = "127.0.0.1:0";
  cfg.transport = "tcp";
  Start(cfg);
  // Hold the event loop so that nothing is accepted meanwhile.
  std::promise<void> release, holding;
  boost::asio::post(host_.IoContext(), [&] {
    holding.set_value();
    release.get_future().wait();
  });
  holding.get_future().wait();
  std::string lines;
  for (int i = 0; i < 5000; ++i) lines += "s." + std::to_string(i) + ":1|c\n";
  SendTcp(receiver_->port(), lines);
  auto shutdown = std::async(std::launch::async, [&] { return receiver_->Shutdown(absl::Now() + absl::Seconds(10)); });
  release.set_value();
  ASSERT_TRUE(shutdown.get().ok());
  EXPECT_EQ(sink_.PointCount(), 5000u);
  EXPECT_EQ(Metric("outrigger_receiver_malformed_requests_total", "tcp"), 0);
}

// Issue 14: shutdown reads a connection until its client closes it (data still on its way
// through the kernel when shutdown began was lost, and the line it cut was corrupted).
TEST_F(StatsdReceiverTest, TcpShutdownReadsWhatTheClientStillSends) {
  int fd = -1;
  std::future<absl::Status> shutdown;
  ASSERT_NO_FATAL_FAILURE(ShutDownWhileAClientIsMidLine(&fd, &shutdown));
  std::string rest = "c\n";
  for (int i = 0; i < 20000; ++i) rest += "s." + std::to_string(i) + ":1|c\n";
  for (size_t off = 0; off < rest.size();) {
    ssize_t n = send(fd, rest.data() + off, rest.size() - off, MSG_NOSIGNAL);
    ASSERT_GT(n, 0) << std::strerror(errno);
    off += static_cast<size_t>(n);
  }
  close(fd);
  ASSERT_TRUE(shutdown.get().ok());
  EXPECT_EQ(sink_.PointCount(), 20002u);
  EXPECT_EQ(Metric("outrigger_receiver_malformed_requests_total", "tcp"), 0);
}

// A client in the middle of a line at shutdown is waited for even if it pauses longer
// than kDrainQuiet (a loaded machine): the rest of the line is on its way. Closing the
// connection after the quiet window lost the line and everything the client sent after.
TEST_F(StatsdReceiverTest, TcpShutdownWaitsForTheRestOfAnUnfinishedLine) {
  int fd = -1;
  std::future<absl::Status> shutdown;  // its drain lasts 2.5 s, longer than the pause
  ASSERT_NO_FATAL_FAILURE(ShutDownWhileAClientIsMidLine(&fd, &shutdown));
  // The pause is what is tested: the client is silent for longer than kDrainQuiet.
  std::this_thread::sleep_for(absl::ToChronoNanoseconds(kDrainQuiet + absl::Milliseconds(300)));
  ASSERT_EQ(send(fd, "c\nthird:1|c\n", 12, MSG_NOSIGNAL), 12) << std::strerror(errno);
  close(fd);
  ASSERT_TRUE(shutdown.get().ok());
  EXPECT_EQ(sink_.PointCount(), 3u);
  EXPECT_EQ(Metric("outrigger_receiver_refused_metric_points_total", "tcp"), 0);
}

}  // namespace
}  // namespace outrigger::receivers::statsd
