#include "collector/net/oneshot_wait.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "boost/asio/io_context.hpp"

namespace outrigger::net {
namespace {

// A bound UDP socket on 127.0.0.1 that Asio does not own, and a sender to it.
class OneShotWaitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fd_ = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    ASSERT_GE(fd_, 0);
    addr_.sin_family = AF_INET;
    addr_.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&addr_), sizeof(addr_)), 0);
    socklen_t len = sizeof(addr_);
    ASSERT_EQ(getsockname(fd_, reinterpret_cast<sockaddr*>(&addr_), &len), 0);
    out_ = socket(AF_INET, SOCK_DGRAM, 0);
    ASSERT_GE(out_, 0);
  }
  void TearDown() override {
    close(out_);
    close(fd_);
  }
  void Send() { ASSERT_EQ(sendto(out_, "x", 1, 0, reinterpret_cast<sockaddr*>(&addr_), sizeof(addr_)), 1); }
  int Drain() {
    char buf[16];
    int n = 0;
    while (recv(fd_, buf, sizeof buf, 0) > 0) ++n;
    return n;
  }
  int fd_ = -1;
  int out_ = -1;
  sockaddr_in addr_{};
  boost::asio::io_context io_;
};

TEST_F(OneShotWaitTest, EndsWhenReadableAndOnlyOncePerWait) {
  auto w = OneShotWait::Make(io_, fd_);
  ASSERT_TRUE(w.ok()) << w.status();
  int calls = 0;
  boost::system::error_code got;
  (*w)->Wait([&](const boost::system::error_code& ec) {
    ++calls;
    got = ec;
  });
  io_.poll();
  EXPECT_EQ(calls, 0);  // nothing to read yet
  Send();
  io_.run_one();  // blocks until the datagram makes the wait end
  EXPECT_EQ(calls, 1);
  EXPECT_FALSE(got);
  // Not armed again: more datagrams end nothing, though they stay unread.
  Send();
  Send();
  io_.restart();
  io_.poll();
  EXPECT_EQ(calls, 1);
  // Armed while readable: the wait ends at once.
  (*w)->Wait([&](const boost::system::error_code& ec) {
    ++calls;
    got = ec;
  });
  io_.restart();
  io_.run_one();
  EXPECT_EQ(calls, 2);
  EXPECT_FALSE(got);
  EXPECT_EQ(Drain(), 3);
}

TEST_F(OneShotWaitTest, CancelEndsTheWaitAsAborted) {
  auto w = OneShotWait::Make(io_, fd_);
  ASSERT_TRUE(w.ok()) << w.status();
  boost::system::error_code got;
  bool called = false;
  (*w)->Wait([&](const boost::system::error_code& ec) {
    called = true;
    got = ec;
  });
  (*w)->Cancel();
  io_.run_one();
  EXPECT_TRUE(called);
  EXPECT_EQ(got, boost::asio::error::operation_aborted);
}

TEST_F(OneShotWaitTest, RefusesADescriptorThatIsNotOpen) { EXPECT_FALSE(OneShotWait::Make(io_, 1 << 20).ok()); }

}  // namespace
}  // namespace outrigger::net
