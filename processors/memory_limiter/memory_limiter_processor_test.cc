#include "processors/memory_limiter/memory_limiter_processor.h"

#include <gtest/gtest.h>

#include <atomic>

#include "processors/memory_limiter/factory.h"
#include "tests/testutil/testutil.h"

namespace outrigger::processors::memory_limiter {
namespace {

constexpr uint64_t kMiB = memory::kMiB;

Config TestConfig() {
  Config c;
  c.check_interval = absl::Milliseconds(5);
  c.limit_mib = 100;
  c.spike_limit_mib = 20;  // soft: 80 MiB
  return c;
}

TEST(MemoryLimiterProcessor, RefusesAboveTheSoftLimitAndPassesBelow) {
  Telemetry t;
  testutil::TestHost host;
  testutil::Sink sink;
  std::atomic<uint64_t> usage{10 * kMiB};
  auto settings = testutil::Settings(&t, "memory_limiter", Kind::kProcessor);
  auto limiter = SharedLimiter(settings, TestConfig(), [&] { return usage.load(); });
  ASSERT_TRUE(limiter.ok()) << limiter.status();
  auto p = NewMemoryLimiterProcessor(settings, *limiter, Signal::kTraces, &sink);
  ASSERT_TRUE(p->Start(host).ok());
  auto* provider = dynamic_cast<AdmissionProvider*>(p.get());
  ASSERT_NE(provider, nullptr);
  EXPECT_EQ(provider->admission(), limiter->get());

  ASSERT_TRUE(p->ConsumeTraces(testutil::MakeTraces(3)).ok());
  EXPECT_EQ(sink.SpanCount(), 3u);

  usage = 90 * kMiB;
  ASSERT_TRUE(testutil::WaitFor([&] { return (*limiter)->state() == memory::State::kAboveSoft; }));
  absl::Status st = p->ConsumeTraces(testutil::MakeTraces(5));
  EXPECT_EQ(st.code(), absl::StatusCode::kResourceExhausted) << st;
  EXPECT_NE(st.message().find("soft limit of 80 MiB"), std::string_view::npos) << st;
  EXPECT_EQ(sink.SpanCount(), 3u);
  EXPECT_EQ(
      t.Value("outrigger_memory_limiter_refused_items_total", {{"processor", "memory_limiter"}, {"signal", "traces"}}),
      5);
  // Receivers of the pipeline are refused by size too.
  EXPECT_EQ(provider->admission()->Reserve(100).code(), absl::StatusCode::kResourceExhausted);

  usage = 10 * kMiB;
  ASSERT_TRUE(testutil::WaitFor([&] { return (*limiter)->state() == memory::State::kNormal; }));
  ASSERT_TRUE(p->ConsumeTraces(testutil::MakeTraces(5)).ok());
  EXPECT_EQ(sink.SpanCount(), 8u);
  EXPECT_TRUE(p->Shutdown(absl::Now()).ok());
  EXPECT_TRUE(p->Shutdown(absl::Now()).ok());  // idempotent
}

TEST(MemoryLimiterProcessor, OneLimiterPerIdAcrossPipelines) {
  Telemetry t;
  auto factory = NewFactory();
  Config c = TestConfig();
  testutil::Sink sink;
  auto a =
      factory->CreateProcessor(testutil::Settings(&t, "memory_limiter", Kind::kProcessor), c, Signal::kTraces, &sink);
  auto b =
      factory->CreateProcessor(testutil::Settings(&t, "memory_limiter", Kind::kProcessor), c, Signal::kLogs, &sink);
  auto other =
      factory->CreateProcessor(testutil::Settings(&t, "memory_limiter/2", Kind::kProcessor), c, Signal::kLogs, &sink);
  ASSERT_TRUE(a.ok() && b.ok() && other.ok());
  auto control = [](std::unique_ptr<Processor>& p) { return dynamic_cast<AdmissionProvider&>(*p).admission(); };
  EXPECT_EQ(control(*a), control(*b));
  EXPECT_NE(control(*a), control(*other));
  EXPECT_EQ(t.Value("outrigger_memory_limiter_limit_bytes", {{"processor", "memory_limiter"}, {"limit", "soft"}}),
            80.0 * kMiB);
}

}  // namespace
}  // namespace outrigger::processors::memory_limiter
