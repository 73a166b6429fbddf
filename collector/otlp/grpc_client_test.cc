#include "collector/otlp/grpc_client.h"

#include <gtest/gtest.h>

#include "spdlog/spdlog.h"
#include "tests/testutil/testutil.h"

namespace outrigger::otlp {
namespace {

// Issue 12: an exporter that has not sent anything holds no gRPC channel (opening one
// starts gRPC and its threads); the first Export opens it.
TEST(GrpcClient, TheChannelIsOpenedByTheFirstExportNotByStart) {
  testutil::TestHost host;
  GrpcClientConfig cfg;
  cfg.endpoint = "127.0.0.1:1";  // nothing listens: the call fails, but only after the channel exists
  cfg.tls.insecure = true;
  GrpcClient client(spdlog::default_logger(), cfg);
  ASSERT_TRUE(client.Start(host).ok());
  EXPECT_FALSE(client.channel_open());
  absl::Status st = client.Export(Signal::kTraces, testutil::MakeTraces(1), absl::Now() + absl::Seconds(5));
  EXPECT_FALSE(st.ok());
  EXPECT_TRUE(client.channel_open());
}

TEST(GrpcClient, AWrongTlsFileStillFailsStart) {
  testutil::TestHost host;
  GrpcClientConfig cfg;
  cfg.endpoint = "127.0.0.1:1";
  cfg.tls.ca_file = "/nonexistent/ca.pem";
  GrpcClient client(spdlog::default_logger(), cfg);
  absl::Status st = client.Start(host);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("ca_file"), std::string::npos) << st;
  EXPECT_FALSE(client.channel_open());
}

}  // namespace
}  // namespace outrigger::otlp
