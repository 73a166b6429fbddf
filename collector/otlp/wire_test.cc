#include "collector/otlp/wire.h"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "collector/exporterhelper/exporterhelper.h"

namespace outrigger::otlp {
namespace {

TEST(Gzip, RoundTrip) {
  std::string data(100000, 'x');
  auto back = Gunzip(Gzip(data), 1 << 20);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, data);
}

TEST(Gzip, BombIsRefusedAtTheLimit) {
  std::string zeros(50 << 20, '\0');
  std::string bomb = Gzip(zeros, 9);
  EXPECT_LT(bomb.size(), 100u << 10);
  auto out = Gunzip(bomb, 1 << 20);
  EXPECT_EQ(out.status().code(), absl::StatusCode::kResourceExhausted);
}

TEST(Gzip, CorruptAndTruncatedAreInvalid) {
  std::string z = Gzip(std::string(1000, 'a'));
  EXPECT_EQ(Gunzip("not gzip at all", 1 << 20).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Gunzip(z.substr(0, z.size() / 2), 1 << 20).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(HttpMapping, StatusCodes) {
  EXPECT_EQ(HttpStatusFor(absl::OkStatus()), 200);
  EXPECT_EQ(HttpStatusFor(absl::ResourceExhaustedError("")), 429);
  EXPECT_EQ(HttpStatusFor(absl::UnavailableError("")), 503);
  EXPECT_EQ(HttpStatusFor(absl::InvalidArgumentError("")), 400);
  EXPECT_TRUE(HttpRetryable(503));
  EXPECT_FALSE(HttpRetryable(400));
  EXPECT_EQ(ParseRetryAfter("7"), absl::Seconds(7));
  EXPECT_FALSE(ParseRetryAfter("soon").has_value());
}

TEST(GrpcMapping, RetryInfoRoundTrips) {
  grpc::Status g = ToGrpc(absl::ResourceExhaustedError("busy"), absl::Seconds(3));
  EXPECT_EQ(g.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  absl::Status back = FromGrpc(g);
  EXPECT_EQ(back.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(exporterhelper::RetryDelay(back), absl::Seconds(3));
}

TEST(GrpcMapping, RetryableAndPermanentCodes) {
  EXPECT_TRUE(exporterhelper::IsRetryable(FromGrpc(grpc::Status(grpc::StatusCode::UNAVAILABLE, ""))));
  EXPECT_TRUE(exporterhelper::IsRetryable(FromGrpc(grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, ""))));
  EXPECT_FALSE(exporterhelper::IsRetryable(FromGrpc(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, ""))));
  EXPECT_FALSE(exporterhelper::IsRetryable(FromGrpc(grpc::Status(grpc::StatusCode::UNAUTHENTICATED, ""))));
}

TEST(ExportResponse, PartialSuccessRoundTrips) {
  std::string b = EncodeExportResponse(Signal::kTraces, 3, "bad ids", false);
  int64_t rejected = 0;
  std::string msg;
  ASSERT_TRUE(DecodeExportResponse(Signal::kTraces, b, &rejected, &msg));
  EXPECT_EQ(rejected, 3);
  EXPECT_EQ(msg, "bad ids");
  EXPECT_EQ(EncodeExportResponse(Signal::kLogs, 0, "", true), "{}");
  EXPECT_NE(EncodeExportResponse(Signal::kLogs, 2, "x", true).find("\"rejectedLogRecords\":\"2\""), std::string::npos);
}

}  // namespace
}  // namespace outrigger::otlp
