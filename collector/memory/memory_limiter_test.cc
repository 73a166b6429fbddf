#include "collector/memory/memory_limiter.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "collector/telemetry/telemetry.h"
#include "tests/testutil/testutil.h"

namespace outrigger::memory {
namespace {

namespace fs = std::filesystem;

// A fake cgroup file system under a temporary directory.
class FakeCgroup {
 public:
  FakeCgroup() {
    root_ = fs::temp_directory_path() / ("cgroup_test_" + std::to_string(getpid()) + "_" + std::to_string(n_++));
    fs::create_directories(root_);
  }
  ~FakeCgroup() { fs::remove_all(root_); }
  void Write(const std::string& rel, const std::string& text) {
    fs::path p = root_ / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
  }
  std::string root() const { return root_.string(); }

 private:
  static inline int n_ = 0;
  fs::path root_;
};

TEST(CgroupMemoryLimit, V2OwnCgroupAndParents) {
  FakeCgroup cg;
  cg.Write("cgroup.controllers", "cpu memory\n");
  cg.Write("kubepods/pod1/memory.max", "max\n");
  cg.Write("kubepods/pod1/ctr/memory.max", "536870912\n");
  EXPECT_EQ(CgroupMemoryLimit(cg.root(), "0::/kubepods/pod1/ctr\n"), 536870912u);
  // A parent's smaller limit binds.
  cg.Write("kubepods/memory.max", "268435456\n");
  EXPECT_EQ(CgroupMemoryLimit(cg.root(), "0::/kubepods/pod1/ctr\n"), 268435456u);
}

TEST(CgroupMemoryLimit, V2MaxIsUnlimited) {
  FakeCgroup cg;
  cg.Write("memory.max", "max\n");
  EXPECT_EQ(CgroupMemoryLimit(cg.root(), "0::/\n"), std::nullopt);
}

TEST(CgroupMemoryLimit, V2NamespacedPathFallsBackToTheMountRoot) {
  FakeCgroup cg;
  cg.Write("memory.max", "104857600\n");  // inside a container: the mount is its cgroup
  EXPECT_EQ(CgroupMemoryLimit(cg.root(), "0::/somewhere/not/mounted\n"), 104857600u);
}

TEST(CgroupMemoryLimit, V1LimitAndUnlimited) {
  FakeCgroup cg;
  cg.Write("memory/docker/abc/memory.limit_in_bytes", "209715200\n");
  const char* self = "12:cpu,cpuacct:/docker/abc\n11:memory:/docker/abc\n0::/docker/abc\n";
  EXPECT_EQ(CgroupMemoryLimit(cg.root(), self), 209715200u);  // v1's memory line wins on a hybrid system
  cg.Write("memory/docker/abc/memory.limit_in_bytes", "9223372036854771712\n");  // v1's "no limit"
  EXPECT_EQ(CgroupMemoryLimit(cg.root(), self), std::nullopt);
}

TEST(CgroupMemoryLimit, NothingReadable) {
  FakeCgroup cg;
  EXPECT_EQ(CgroupMemoryLimit(cg.root(), "0::/\n"), std::nullopt);
  EXPECT_EQ(CgroupMemoryLimit(cg.root(), ""), std::nullopt);
  EXPECT_EQ(CgroupMemoryLimit(cg.root(), "garbage without colons\n"), std::nullopt);
  cg.Write("memory.max", "not a number\n");
  EXPECT_EQ(CgroupMemoryLimit(cg.root(), "0::/\n"), std::nullopt);
}

TEST(AvailableMemory, SmallerOfCgroupAndPhysical) {
  FakeCgroup cg;
  FakeCgroup proc;
  proc.Write("meminfo", "MemTotal:        1048576 kB\nMemFree:  10 kB\n");  // 1 GiB
  proc.Write("self/cgroup", "0::/\n");
  cg.Write("memory.max", "max\n");
  EXPECT_EQ(*AvailableMemory(cg.root(), proc.root()), 1024 * kMiB);
  cg.Write("memory.max", std::to_string(256 * kMiB) + "\n");
  EXPECT_EQ(*AvailableMemory(cg.root(), proc.root()), 256 * kMiB);
  cg.Write("memory.max", std::to_string(4096 * kMiB) + "\n");  // above physical memory
  EXPECT_EQ(*AvailableMemory(cg.root(), proc.root()), 1024 * kMiB);
  FakeCgroup empty;
  EXPECT_FALSE(AvailableMemory(cg.root(), empty.root()).ok());
}

TEST(ComputeLimits, UpstreamRules) {
  // limit_mib wins; no spike: 20%.
  Limits l = ComputeLimits(1000, 0, 50, 10, 8000 * kMiB);
  EXPECT_EQ(l.hard, 1000 * kMiB);
  EXPECT_EQ(l.spike, 200 * kMiB);
  EXPECT_EQ(l.soft(), 800 * kMiB);
  l = ComputeLimits(1000, 300, 0, 0, 0);
  EXPECT_EQ(l.soft(), 700 * kMiB);
  // Percentages of what is available.
  l = ComputeLimits(0, 0, 80, 25, 1000 * kMiB);
  EXPECT_EQ(l.hard, 800 * kMiB);
  EXPECT_EQ(l.spike, 250 * kMiB);
  l = ComputeLimits(0, 0, 50, 0, 1000 * kMiB);
  EXPECT_EQ(l.hard, 500 * kMiB);
  EXPECT_EQ(l.spike, 100 * kMiB);
}

struct Fake {
  std::atomic<uint64_t> usage{0};
  std::atomic<int> releases{0};
  uint64_t after_release = 0;  // what a release brings usage down to (0: unchanged)
};

MemoryLimiter::Options FakeOptions(Fake* f, Telemetry* t = nullptr) {
  MemoryLimiter::Options o;
  o.limits = {100 * kMiB, 20 * kMiB};  // soft 80 MiB
  o.check_interval = absl::Milliseconds(10);
  o.read_usage = [f] { return f->usage.load(); };
  o.release_memory = [f] {
    f->releases++;
    if (f->after_release) f->usage = f->after_release;
  };
  o.name = "memory_limiter/test";
  o.telemetry = t;
  return o;
}

TEST(MemoryLimiter, StatesFollowUsage) {
  Fake f;
  Telemetry t;
  MemoryLimiter m(FakeOptions(&f, &t));
  f.usage = 50 * kMiB;
  m.Check();
  EXPECT_EQ(m.state(), State::kNormal);
  EXPECT_TRUE(m.Refusal().ok());
  EXPECT_EQ(f.releases, 0);

  f.usage = 85 * kMiB;  // above soft
  m.Check();
  EXPECT_EQ(m.state(), State::kAboveSoft);
  EXPECT_EQ(m.Refusal().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(f.releases, 1);  // freed memory handed back once...
  m.Check();
  EXPECT_EQ(f.releases, 1);  // ...and not again within a second above the soft limit

  f.usage = 120 * kMiB;  // above hard: released at every check
  m.Check();
  EXPECT_EQ(m.state(), State::kAboveHard);
  m.Check();
  EXPECT_EQ(f.releases, 3);
  EXPECT_EQ(t.Value("outrigger_memory_limiter_state", {{"processor", "memory_limiter/test"}}), 2);
  EXPECT_EQ(t.Value("outrigger_memory_limiter_used_bytes", {{"processor", "memory_limiter/test"}}), 120.0 * kMiB);

  f.usage = 10 * kMiB;
  m.Check();
  EXPECT_EQ(m.state(), State::kNormal);
  EXPECT_TRUE(m.Refusal().ok());
  EXPECT_EQ(t.Value("outrigger_memory_limiter_limit_bytes", {{"processor", "memory_limiter/test"}, {"limit", "hard"}}),
            100.0 * kMiB);
  EXPECT_EQ(t.Value("outrigger_memory_limiter_limit_bytes", {{"processor", "memory_limiter/test"}, {"limit", "soft"}}),
            80.0 * kMiB);
}

TEST(MemoryLimiter, ReleaseThatHelpsEndsTheRefusal) {
  Fake f;
  MemoryLimiter m(FakeOptions(&f));
  f.usage = 110 * kMiB;
  f.after_release = 40 * kMiB;  // malloc_trim gave most of it back
  m.Check();
  EXPECT_EQ(f.releases, 1);
  EXPECT_EQ(m.state(), State::kNormal);
  EXPECT_EQ(m.used(), 40 * kMiB);
}

TEST(MemoryLimiter, AdmissionCountsWhatIsInFlightAndSinceTheCheck) {
  Fake f;
  Telemetry t;
  MemoryLimiter m(FakeOptions(&f, &t));
  f.usage = 50 * kMiB;  // 30 MiB of room below the soft limit
  m.Check();
  ASSERT_TRUE(m.Reserve(20 * kMiB).ok());
  EXPECT_EQ(m.reserved(), 20 * kMiB);
  // 50 + 20 in flight + 15 > 80: refused, and counted.
  absl::Status st = m.Reserve(15 * kMiB);
  EXPECT_EQ(st.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(t.Value("outrigger_memory_limiter_refused_bytes_total",
                    {{"processor", "memory_limiter/test"}, {"reason", kReasonOverBudget}}),
            15.0 * kMiB);
  // Handed to the pipeline: no longer in flight, but not in the RSS read yet either.
  m.Release(20 * kMiB);
  EXPECT_EQ(m.reserved(), 0u);
  EXPECT_FALSE(m.Reserve(15 * kMiB).ok());
  EXPECT_TRUE(m.Reserve(5 * kMiB).ok());
  m.Release(5 * kMiB);
  // The next check sees it in the RSS (the fake says it is still 50 MiB: it went out).
  m.Check();
  EXPECT_TRUE(m.Reserve(15 * kMiB).ok());
  m.Release(15 * kMiB);
}

TEST(MemoryLimiter, AdmissionRefusedAboveTheSoftLimit) {
  Fake f;
  Telemetry t;
  MemoryLimiter m(FakeOptions(&f, &t));
  f.usage = 81 * kMiB;
  m.Check();
  EXPECT_EQ(m.Reserve(1).code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(m.Reserve(0).code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(t.Value("outrigger_memory_limiter_refused_bytes_total",
                    {{"processor", "memory_limiter/test"}, {"reason", kReasonAboveSoftLimit}}),
            1.0);
}

TEST(Admission, TicketReleasesEveryControlAndARefusalReleasesTheOthers) {
  Fake f1, f2;
  MemoryLimiter a(FakeOptions(&f1));
  MemoryLimiter b(FakeOptions(&f2));
  f1.usage = 10 * kMiB;
  f2.usage = 75 * kMiB;  // 5 MiB of room
  a.Check();
  b.Check();
  Admission adm;
  EXPECT_TRUE(adm.Admit(1 << 30).ok());  // no control: everything is admitted
  adm.Add(&a);
  adm.Add(&b);
  adm.Add(&a);  // once only
  {
    auto t = adm.Admit(4 * kMiB);
    ASSERT_TRUE(t.ok());
    EXPECT_EQ(a.reserved(), 4 * kMiB);
    EXPECT_EQ(b.reserved(), 4 * kMiB);
  }
  EXPECT_EQ(a.reserved(), 0u);
  EXPECT_EQ(b.reserved(), 0u);
  a.Check();
  b.Check();
  auto refused = adm.Admit(6 * kMiB);  // a admits, b refuses: a's reservation is given back
  EXPECT_FALSE(refused.ok());
  EXPECT_EQ(a.reserved(), 0u);
}

TEST(MemoryLimiter, TheThreadChecksEveryInterval) {
  Fake f;
  MemoryLimiter m(FakeOptions(&f));
  f.usage = 10 * kMiB;
  m.Start();
  m.Start();  // a second processor of the same limiter
  EXPECT_EQ(m.state(), State::kNormal);
  f.usage = 90 * kMiB;
  EXPECT_TRUE(testutil::WaitFor([&] { return m.state() == State::kAboveSoft; }));
  m.Stop();  // one processor stops: still checking
  f.usage = 10 * kMiB;
  EXPECT_TRUE(testutil::WaitFor([&] { return m.state() == State::kNormal; }));
  m.Stop();
  m.Stop();  // more stops than starts: no effect
}

TEST(ReadRss, ReadsThisProcess) {
  const uint64_t before = ReadRss();
  EXPECT_GT(before, 0u);
  // Touch 64 MiB: the RSS grows by about that much.
  const size_t n = 64 * kMiB;
  volatile char* p = static_cast<char*>(std::malloc(n));
  ASSERT_NE(p, nullptr);
  for (size_t i = 0; i < n; i += 4096) p[i] = 1;
  EXPECT_GE(ReadRss(), before + n / 2);
  std::free(const_cast<char*>(p));
}

}  // namespace
}  // namespace outrigger::memory
