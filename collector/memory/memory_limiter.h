#pragma once
// The memory limiter: keeps the process's memory (its resident set) under a limit by
// refusing new data, the way upstream's memorylimiter does with the Go heap.
//
// Every check_interval (on a small thread of its own, so a blocked event loop does not
// stop it) it reads the RSS (/proc/self/statm) and compares it with
//   hard limit = limit_mib (or limit_percentage of the memory available: the cgroup's
//                limit, v1 or v2, or physical memory when smaller or unlimited),
//   soft limit = hard limit - spike_limit_mib (or spike_limit_percentage; default 20%).
// Above the soft limit every new piece of data is refused (the memory_limiter processor
// answers RESOURCE_EXHAUSTED); above it, freed memory is given back to the system
// (glibc malloc_trim, our equivalent of upstream's forced GC), at every check above the
// hard limit and at most once a second above the soft one.
//
// It is also an AdmissionControl: receivers ask it for a request's size before they
// read or decode it. A request is refused when the RSS of the last check, plus what is
// reserved (in flight), plus what was admitted since that check (not in the RSS read
// yet), plus the request would pass the soft limit. So between two checks the admitted
// bytes cannot pass the spike budget, however fast they arrive.

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "collector/component/admission.h"

namespace prometheus {
class Counter;
class Gauge;
}  // namespace prometheus
namespace spdlog {
class logger;
}

namespace outrigger {
class Telemetry;
}

namespace outrigger::memory {

inline constexpr uint64_t kMiB = 1ull << 20;

// Resident set size of this process (/proc/self/statm), 0 if it cannot be read.
uint64_t ReadRss();

// The memory limit of the cgroup this process is in; nullopt when none is set ("max",
// or v1's "unlimited" page-counter maximum) or none can be read. `cgroup_root`: where the
// cgroup file systems are mounted ("/sys/fs/cgroup"); `self_cgroup`: the text of
// /proc/self/cgroup. cgroup v2 (a "0::/path" line): `<root>/<path>/memory.max`, and the
// smallest limit of its parents; v1 (a line "N:...memory...:/path"):
// `<root>/memory/<path>/memory.limit_in_bytes`. Inside a container's cgroup namespace the
// path is "/", the container's own cgroup.
std::optional<uint64_t> CgroupMemoryLimit(const std::string& cgroup_root, std::string_view self_cgroup);
// MemTotal of a /proc/meminfo text, in bytes.
std::optional<uint64_t> MemTotal(std::string_view meminfo);
// The memory the process may use (what limit_percentage is a percentage of): the cgroup
// limit, or physical memory when that is smaller or there is no limit (as upstream).
absl::StatusOr<uint64_t> AvailableMemory(const std::string& cgroup_root = "/sys/fs/cgroup",
                                         const std::string& proc = "/proc");

struct Limits {
  uint64_t hard = 0;   // bytes
  uint64_t spike = 0;  // bytes; soft = hard - spike
  uint64_t soft() const { return hard > spike ? hard - spike : 0; }
};

// Upstream's rules: limit_mib wins over limit_percentage (of `available`); a spike of 0
// is 20% of the limit.
Limits ComputeLimits(uint64_t limit_mib, uint64_t spike_limit_mib, uint64_t limit_percentage,
                     uint64_t spike_limit_percentage, uint64_t available);

enum class State { kNormal, kAboveSoft, kAboveHard };
std::string_view StateName(State s);  // "normal", "above_soft_limit", "above_hard_limit"

// The `reason` label values of outrigger_memory_limiter_refused_bytes_total.
inline constexpr char kReasonAboveSoftLimit[] = "above_soft_limit";  // memory already above the soft limit
inline constexpr char kReasonOverBudget[] = "over_budget";           // the request would pass it

class MemoryLimiter : public AdmissionControl {
 public:
  struct Options {
    Limits limits;
    absl::Duration check_interval = absl::Seconds(1);
    std::function<uint64_t()> read_usage;  // null: ReadRss
    std::function<void()> release_memory;  // null: malloc_trim(0)
    // Labels the metrics (`processor`) and messages: the processor id.
    std::string name = "memory_limiter";
    Telemetry* telemetry = nullptr;  // null: no metrics
    std::shared_ptr<spdlog::logger> logger;
  };
  explicit MemoryLimiter(Options options);
  ~MemoryLimiter() override;

  // The checking thread runs while at least one Start is not matched by a Stop (the
  // processors of several pipelines share one limiter). Start checks once at once.
  void Start();
  void Stop();

  // Reads the memory used and updates the state (the thread calls it every interval).
  void Check();

  State state() const;
  uint64_t used() const;  // at the last check
  uint64_t reserved() const;
  const Limits& limits() const { return opts_.limits; }
  // RESOURCE_EXHAUSTED when new data must be refused now (above the soft limit).
  absl::Status Refusal() const;

  // AdmissionControl.
  absl::Status Reserve(uint64_t bytes) override;
  void Release(uint64_t bytes) override;

 private:
  void Run();
  void SetState(State s, uint64_t used) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Options opts_;
  mutable std::mutex mu_;
  State state_ ABSL_GUARDED_BY(mu_) = State::kNormal;
  uint64_t used_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t reserved_ ABSL_GUARDED_BY(mu_) = 0;     // in flight
  uint64_t since_check_ ABSL_GUARDED_BY(mu_) = 0;  // released since the last check
  absl::Time last_release_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  absl::Time last_log_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  int changes_since_log_ ABSL_GUARDED_BY(mu_) = 0;

  std::mutex run_mu_;
  std::condition_variable cv_;
  int starts_ ABSL_GUARDED_BY(run_mu_) = 0;
  bool stop_ ABSL_GUARDED_BY(run_mu_) = false;
  std::thread thread_;

  struct Metrics {
    prometheus::Gauge* used = nullptr;
    prometheus::Gauge* reserved = nullptr;
    prometheus::Gauge* state = nullptr;
    prometheus::Counter* refused_above_soft = nullptr;
    prometheus::Counter* refused_over_budget = nullptr;
    prometheus::Counter* releases = nullptr;
  } m_;
};

}  // namespace outrigger::memory
