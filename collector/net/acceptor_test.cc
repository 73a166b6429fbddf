#include "collector/net/acceptor.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <filesystem>
#include <vector>

#include "tests/testutil/testutil.h"

namespace outrigger::net {
namespace {

// The collector at its open-files limit: accept() fails with EMFILE. The acceptor reports
// it, keeps trying and, once descriptors are free again, accepts the connections that
// waited (a naive accept loop stops for good at the first error).
TEST(Acceptor, AcceptsAgainAfterTheDescriptorLimit) {
  testutil::TestHost host;
  std::atomic<int> accepted{0};
  std::atomic<int> fd_limit{0};
  auto acceptor = Acceptor::Listen(
      host.IoContext(), "127.0.0.1", 0, [&](boost::asio::ip::tcp::socket) { ++accepted; },
      [&](std::string_view reason, const std::string& message) {
        if (reason == "fd_limit" && message.find("accepting again in") != std::string::npos) ++fd_limit;
      });
  ASSERT_TRUE(acceptor.ok()) << acceptor.status();
  std::vector<int> clients;
  for (int i = 0; i < 5; ++i) clients.push_back(testutil::ConnectTcp((*acceptor)->port()));  // wait in the backlog
  for (int fd : clients) ASSERT_GE(fd, 0);

  rlimit old{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &old), 0);
  rlimit low = old;
  low.rlim_cur = 0;
  for (const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) {
    low.rlim_cur = std::max<rlim_t>(low.rlim_cur, std::stoul(e.path().filename().string()) + 1);
  }
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &low), 0);
  std::vector<int> fillers;  // every descriptor number below the limit in use
  for (int fd; (fd = open("/dev/null", O_RDONLY)) >= 0;) fillers.push_back(fd);
  ASSERT_EQ(errno, EMFILE);

  (*acceptor)->Start();
  EXPECT_TRUE(testutil::WaitFor([&] { return fd_limit.load() >= 2; }));  // reported, and retried
  EXPECT_EQ(accepted.load(), 0);

  for (int fd : fillers) close(fd);
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &old), 0);
  EXPECT_TRUE(testutil::WaitFor([&] { return accepted.load() == 5; })) << accepted.load();
  (*acceptor)->Stop();
  for (int fd : clients) close(fd);
}

TEST(Acceptor, RefusalsAreCountedPerReason) {
  Telemetry telemetry;
  RefusalLog log = Refusals("receiver/x", {"max_connections"}, &telemetry, nullptr);
  EXPECT_EQ(telemetry.Value("outrigger_server_refused_total", {{"server", "receiver/x"}, {"reason", "fd_limit"}}), 0);
  log("max_connections", "full");
  log("max_connections", "full");
  log("idle_timeout", "quiet");
  EXPECT_EQ(
      telemetry.Value("outrigger_server_refused_total", {{"server", "receiver/x"}, {"reason", "max_connections"}}), 2);
  EXPECT_EQ(telemetry.Value("outrigger_server_refused_total", {{"server", "receiver/x"}, {"reason", "idle_timeout"}}),
            1);
}

}  // namespace
}  // namespace outrigger::net
