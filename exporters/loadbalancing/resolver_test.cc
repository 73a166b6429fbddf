// The resolvers: static (default port, sorted), and DNS through c-ares against a small
// DNS server run by the test (A and AAAA answers changed while it runs, NXDOMAIN, a server
// that never answers).
#include "exporters/loadbalancing/resolver.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <mutex>
#include <thread>

#include "tests/testutil/testutil.h"

namespace outrigger::exporters::loadbalancing {
namespace {

// A DNS server on 127.0.0.1 (UDP, a free port) answering A and AAAA queries from a table.
class FakeDns {
 public:
  FakeDns() {
    fd_ = socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { Run(); });
  }
  ~FakeDns() {
    stop_ = true;
    thread_.join();
    close(fd_);
  }
  std::string Server() const { return "127.0.0.1:" + std::to_string(port_); }
  // Addresses (v4 or v6 text) of a name (lower case, no trailing dot).
  void Set(const std::string& name, std::vector<std::string> addrs) {
    std::lock_guard l(mu_);
    records_[name] = std::move(addrs);
  }
  void Silence(bool s) { silent_ = s; }
  int Queries() const { return queries_; }

 private:
  void Run() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 20) <= 0) continue;
      unsigned char buf[512];
      sockaddr_in from{};
      socklen_t flen = sizeof from;
      ssize_t n = recvfrom(fd_, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &flen);
      if (n < 12) continue;
      ++queries_;
      if (silent_) continue;
      // The question: labels, type, class.
      size_t i = 12;
      std::string name;
      while (i < static_cast<size_t>(n) && buf[i] != 0) {
        size_t l = buf[i++];
        if (!name.empty()) name += '.';
        name.append(reinterpret_cast<char*>(buf + i), l);
        i += l;
      }
      ++i;
      if (i + 4 > static_cast<size_t>(n)) continue;
      int qtype = buf[i] << 8 | buf[i + 1];
      size_t qend = i + 4;
      for (auto& c : name) c = static_cast<char>(std::tolower(c));
      std::string out(reinterpret_cast<char*>(buf), qend);
      out[2] = static_cast<char>(0x81);  // QR, RD
      out[3] = static_cast<char>(0x80);  // RA, NOERROR
      out[6] = out[7] = out[8] = out[9] = out[10] = out[11] = 0;
      int answers = 0;
      {
        std::lock_guard l(mu_);
        auto it = records_.find(name);
        if (it == records_.end()) {
          out[3] = static_cast<char>(0x83);  // NXDOMAIN
        } else {
          for (const auto& addr : it->second) {
            unsigned char raw[16];
            bool v6 = addr.find(':') != std::string::npos;
            if ((qtype == 28) != v6) continue;
            inet_pton(v6 ? AF_INET6 : AF_INET, addr.c_str(), raw);
            int len = v6 ? 16 : 4;
            const unsigned char rr[] = {0xc0, 0x0c, 0, static_cast<unsigned char>(qtype), 0, 1, 0, 0,
                                        0,    0,    0, static_cast<unsigned char>(len)};
            out.append(reinterpret_cast<const char*>(rr), sizeof rr);
            out.append(reinterpret_cast<char*>(raw), len);
            ++answers;
          }
        }
      }
      out[7] = static_cast<char>(answers);
      sendto(fd_, out.data(), out.size(), 0, reinterpret_cast<sockaddr*>(&from), flen);
    }
  }

  int fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false}, silent_{false};
  std::atomic<int> queries_{0};
  std::mutex mu_;
  std::map<std::string, std::vector<std::string>> records_;
  std::thread thread_;
};

TEST(WithDefaultPort, AddsThePortWhenMissing) {
  EXPECT_EQ(WithDefaultPort("backend-1"), "backend-1:4317");
  EXPECT_EQ(WithDefaultPort("backend-1:55690"), "backend-1:55690");
  EXPECT_EQ(WithDefaultPort("10.0.0.1"), "10.0.0.1:4317");
  EXPECT_EQ(WithDefaultPort("[::1]:4000"), "[::1]:4000");
  EXPECT_EQ(WithDefaultPort("[::1]"), "[::1]:4317");
  EXPECT_EQ(WithDefaultPort("::1"), "[::1]:4317");
  EXPECT_EQ(WithDefaultPort("http://gw"), "http://gw:4317");
}

TEST(StaticResolver, GivesTheSortedListOnce) {
  StaticResolver r({"b", "a:1", "b:4317"});
  std::vector<std::vector<std::string>> got;
  ASSERT_TRUE(r.Start([&](const std::vector<std::string>& e) { got.push_back(e); }).ok());
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], (std::vector<std::string>{"a:1", "b:4317"}));
}

TEST(ResolveDns, ARecordsAndAaaaRecords) {
  FakeDns dns;
  dns.Set("gw.outrigger.test", {"127.0.0.3", "127.0.0.1", "::1"});
  auto r = ResolveDns("gw.outrigger.test", 4317, dns.Server(), absl::Seconds(2));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, (std::vector<std::string>{"127.0.0.1:4317", "127.0.0.3:4317", "[::1]:4317"}));
}

TEST(ResolveDns, NxdomainIsAnError) {
  FakeDns dns;
  auto r = ResolveDns("missing.outrigger.test", 4317, dns.Server(), absl::Seconds(2));
  EXPECT_FALSE(r.ok());
}

TEST(ResolveDns, NoAnswerEndsAtTheTimeout) {
  FakeDns dns;
  dns.Set("gw.outrigger.test", {"127.0.0.1"});
  dns.Silence(true);
  absl::Time start = absl::Now();
  auto r = ResolveDns("gw.outrigger.test", 4317, dns.Server(), absl::Milliseconds(300));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDeadlineExceeded) << r.status();
  EXPECT_LT(absl::Now() - start, absl::Seconds(3));
  EXPECT_GT(dns.Queries(), 0);
}

TEST(ResolveDns, BadNameserversAreAnError) {
  auto r = ResolveDns("gw", 4317, "not an address", absl::Seconds(1));
  EXPECT_FALSE(r.ok());
}

TEST(DnsResolver, FollowsTheAnswersAndKeepsTheLastListOnFailure) {
  FakeDns dns;
  dns.Set("gw.outrigger.test", {"127.0.0.1", "127.0.0.2"});
  DnsResolverConfig cfg;
  cfg.hostname = "gw.outrigger.test";
  cfg.port = 5555;
  cfg.interval = absl::Milliseconds(50);
  cfg.timeout = absl::Milliseconds(500);
  cfg.nameservers = dns.Server();
  Telemetry telemetry;
  auto& ok = telemetry.AddCounter("outrigger_test_ok", "", {});
  auto& failed = telemetry.AddCounter("outrigger_test_failed", "", {});
  DnsResolver r(cfg, spdlog::default_logger(), &ok, &failed);
  std::mutex mu;
  std::vector<std::vector<std::string>> got;
  auto last = [&] {
    std::lock_guard l(mu);
    return got.empty() ? std::vector<std::string>{} : got.back();
  };
  ASSERT_TRUE(r.Start([&](const std::vector<std::string>& e) {
                 std::lock_guard l(mu);
                 got.push_back(e);
               }).ok());
  // The first answer is there when Start returns.
  EXPECT_EQ(last(), (std::vector<std::string>{"127.0.0.1:5555", "127.0.0.2:5555"}));
  dns.Set("gw.outrigger.test", {"127.0.0.2", "127.0.0.3"});
  EXPECT_TRUE(testutil::WaitFor([&] {
    return last() == std::vector<std::string>{"127.0.0.2:5555", "127.0.0.3:5555"};
  }));
  // A failing server: the list stays, failures are counted.
  dns.Set("gw.outrigger.test", {});
  double failed_before = failed.Value();
  EXPECT_TRUE(testutil::WaitFor([&] { return failed.Value() >= failed_before + 2; }));
  EXPECT_EQ(last(), (std::vector<std::string>{"127.0.0.2:5555", "127.0.0.3:5555"}));
  size_t calls;
  {
    std::lock_guard l(mu);
    calls = got.size();
  }
  EXPECT_EQ(calls, 2u) << "an unchanged or failed answer must not call back";
  EXPECT_GT(ok.Value(), 1);
  r.Shutdown();
  r.Shutdown();
}

}  // namespace
}  // namespace outrigger::exporters::loadbalancing
