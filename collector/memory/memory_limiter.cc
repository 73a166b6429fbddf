#include "collector/memory/memory_limiter.h"

#include <unistd.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <algorithm>
#include <cctype>
#include <charconv>
#include <fstream>
#include <sstream>
#include <vector>

#include "collector/common/strings.h"
#include "collector/common/thread_name.h"
#include "collector/telemetry/telemetry.h"
#include "spdlog/spdlog.h"

namespace outrigger::memory {
namespace {

// How often freed memory is given back to the system while above the soft limit (above
// the hard one: at every check).
constexpr absl::Duration kReleaseEveryAboveSoft = absl::Seconds(1);
// State changes are logged at most this often (with the count of those not logged).
constexpr absl::Duration kLogEvery = absl::Seconds(10);
// cgroup v1 says "no limit" with the page counter's maximum (about 2^63 rounded to a page).
constexpr uint64_t kUnlimitedAbove = 1ull << 60;

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// A decimal unsigned number, the whole of `s`.
std::optional<uint64_t> ParseU64(std::string_view s) {
  uint64_t n = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
  return n;
}

// `s` cut at each `sep` (empty pieces kept).
std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  while (true) {
    auto i = s.find(sep);
    out.push_back(s.substr(0, i));
    if (i == std::string_view::npos) break;
    s.remove_prefix(i + 1);
  }
  return out;
}

std::optional<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A limit file's value: bytes, or nullopt for "max", unlimited, absent or unreadable.
std::optional<uint64_t> ReadLimitFile(const std::string& path) {
  auto text = ReadFile(path);
  if (!text) return std::nullopt;
  std::string_view v = Trim(*text);
  auto n = ParseU64(v);
  if (v == "max" || !n || *n >= kUnlimitedAbove) return std::nullopt;
  return n;
}

bool Exists(const std::string& path) { return access(path.c_str(), F_OK) == 0; }

std::string Join(const std::string& root, std::string_view path) {
  std::string p(path);
  while (!p.empty() && p.back() == '/') p.pop_back();
  if (!p.empty() && p.front() != '/') p.insert(p.begin(), '/');
  return root + p;
}

}  // namespace

uint64_t ReadRss() {
  std::ifstream statm("/proc/self/statm");
  uint64_t pages_total = 0, pages_rss = 0;
  if (!(statm >> pages_total >> pages_rss)) return 0;
  return pages_rss * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

std::optional<uint64_t> CgroupMemoryLimit(const std::string& cgroup_root, std::string_view self_cgroup) {
  std::optional<std::string> v1_path, v2_path;
  for (std::string_view line : Split(self_cgroup, '\n')) {
    // "hierarchy-id:controllers:path" (the path may hold colons).
    auto a = line.find(':');
    auto b = a == std::string_view::npos ? a : line.find(':', a + 1);
    if (b == std::string_view::npos) continue;
    std::string_view f[3] = {line.substr(0, a), line.substr(a + 1, b - a - 1), Trim(line.substr(b + 1))};
    if (f[0] == "0" && f[1].empty()) {
      v2_path = std::string(f[2]);
      continue;
    }
    for (std::string_view c : Split(f[1], ',')) {
      if (c == "memory") v1_path = std::string(f[2]);
    }
  }
  if (v1_path) {
    // A namespaced path may not exist under the mount: then the mount's root is ours.
    const std::string base = cgroup_root + "/memory";
    std::string dir = Join(base, *v1_path);
    if (!Exists(dir + "/memory.limit_in_bytes")) dir = base;
    return ReadLimitFile(dir + "/memory.limit_in_bytes");
  }
  if (v2_path) {
    // The smallest limit of the cgroup and its parents (a parent's limit binds too).
    std::string path = *v2_path;
    if (!Exists(Join(cgroup_root, path))) path = "/";
    std::optional<uint64_t> limit;
    while (true) {
      if (auto l = ReadLimitFile(Join(cgroup_root, path) + "/memory.max")) limit = std::min(limit.value_or(*l), *l);
      if (path.empty() || path == "/") break;
      auto slash = path.find_last_of('/');
      path = slash == std::string::npos || slash == 0 ? "/" : path.substr(0, slash);
    }
    return limit;
  }
  return std::nullopt;
}

std::optional<uint64_t> MemTotal(std::string_view meminfo) {
  for (std::string_view line : Split(meminfo, '\n')) {
    constexpr std::string_view kKey = "MemTotal:";
    if (line.substr(0, kKey.size()) != kKey) continue;
    line = Trim(line.substr(kKey.size()));
    if (line.size() >= 2 && line.substr(line.size() - 2) == "kB") line = Trim(line.substr(0, line.size() - 2));
    if (auto kb = ParseU64(line)) return *kb * 1024;
  }
  return std::nullopt;
}

absl::StatusOr<uint64_t> AvailableMemory(const std::string& cgroup_root, const std::string& proc) {
  auto meminfo = ReadFile(proc + "/meminfo");
  std::optional<uint64_t> total = meminfo ? MemTotal(*meminfo) : std::nullopt;
  auto self = ReadFile(proc + "/self/cgroup");
  std::optional<uint64_t> cgroup = self ? CgroupMemoryLimit(cgroup_root, *self) : std::nullopt;
  // (value_or, not `*`: g++ 12 warns of a maybe-uninitialized optional otherwise.)
  const uint64_t t = total.value_or(0), c = cgroup.value_or(0);
  if (t > 0 || c > 0) return t == 0 ? c : c == 0 ? t : std::min(t, c);
  return absl::FailedPreconditionError(StrCat("cannot tell how much memory there is: no cgroup memory limit under ",
                                              cgroup_root, " and no MemTotal in ", proc,
                                              "/meminfo; set limit_mib instead of limit_percentage"));
}

Limits ComputeLimits(uint64_t limit_mib, uint64_t spike_limit_mib, uint64_t limit_percentage,
                     uint64_t spike_limit_percentage, uint64_t available) {
  Limits l;
  if (limit_mib > 0) {
    l.hard = limit_mib * kMiB;
    l.spike = spike_limit_mib * kMiB;
  } else {
    l.hard = available / 100 * limit_percentage;
    l.spike = available / 100 * spike_limit_percentage;
  }
  if (l.spike == 0) l.spike = l.hard / 5;
  return l;
}

std::string_view StateName(State s) {
  switch (s) {
    case State::kNormal:
      return "normal";
    case State::kAboveSoft:
      return "above_soft_limit";
    case State::kAboveHard:
      return "above_hard_limit";
  }
  return "normal";
}

MemoryLimiter::MemoryLimiter(Options options) : opts_(std::move(options)) {
  if (opts_.telemetry != nullptr) {
    Telemetry& t = *opts_.telemetry;
    const std::string& n = opts_.name;
    t.AddGauge("outrigger_memory_limiter_limit_bytes",
               "Memory limits of a memory_limiter: hard (limit_mib) and soft (hard minus spike)",
               {{"processor", n}, {"limit", "hard"}})
        .Set(static_cast<double>(opts_.limits.hard));
    t.AddGauge("outrigger_memory_limiter_limit_bytes", "", {{"processor", n}, {"limit", "soft"}})
        .Set(static_cast<double>(opts_.limits.soft()));
    m_.used =
        &t.AddGauge("outrigger_memory_limiter_used_bytes",
                    "Memory the process used (resident set) at the memory_limiter's last check", {{"processor", n}});
    m_.reserved =
        &t.AddGauge("outrigger_memory_limiter_reserved_bytes",
                    "Bytes of requests admitted by receivers and not yet handed to the pipeline", {{"processor", n}});
    m_.state =
        &t.AddGauge("outrigger_memory_limiter_state",
                    "0: below the soft limit, 1: above it (refusing), 2: above the hard limit", {{"processor", n}});
    const char* refused_help = "Bytes of requests receivers refused before reading them, because of the memory limit";
    m_.refused_above_soft = &t.AddCounter("outrigger_memory_limiter_refused_bytes_total", refused_help,
                                          {{"processor", n}, {"reason", kReasonAboveSoftLimit}});
    m_.refused_over_budget = &t.AddCounter("outrigger_memory_limiter_refused_bytes_total", refused_help,
                                           {{"processor", n}, {"reason", kReasonOverBudget}});
    m_.releases = &t.AddCounter("outrigger_memory_limiter_releases_total",
                                "Times freed memory was given back to the system (malloc_trim)", {{"processor", n}});
  }
}

MemoryLimiter::~MemoryLimiter() {
  {
    std::lock_guard<std::mutex> lock(run_mu_);
    starts_ = 0;
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void MemoryLimiter::Start() {
  std::lock_guard<std::mutex> lock(run_mu_);
  if (starts_++ > 0) return;
  if (thread_.joinable()) thread_.join();  // a stopped one (Stop does not wait)
  stop_ = false;
  Check();
  thread_ = NamedThread("memory-limiter", [this] { Run(); });
}

void MemoryLimiter::Stop() {
  std::thread done;
  {
    std::lock_guard<std::mutex> lock(run_mu_);
    if (starts_ == 0 || --starts_ > 0) return;
    stop_ = true;
    done = std::move(thread_);
  }
  cv_.notify_all();
  if (done.joinable()) done.join();
}

void MemoryLimiter::Run() {
  std::unique_lock<std::mutex> lock(run_mu_);
  while (!stop_) {
    // (At most every millisecond: a check_interval of 1ns would only burn a core.)
    const absl::Duration every = std::max(opts_.check_interval, absl::Milliseconds(1));
    cv_.wait_for(lock, absl::ToChronoNanoseconds(every), [this] { return stop_; });
    if (stop_) break;
    lock.unlock();
    Check();
    lock.lock();
  }
}

void MemoryLimiter::Check() {
  auto read = [this] { return opts_.read_usage ? opts_.read_usage() : ReadRss(); };
  uint64_t used = read();
  const Limits& l = opts_.limits;
  const absl::Time now = absl::Now();
  bool release = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    release = used >= l.hard || (used >= l.soft() && now - last_release_ >= kReleaseEveryAboveSoft);
    if (release) last_release_ = now;
  }
  if (release) {
    if (opts_.release_memory) {
      opts_.release_memory();
    } else {
#if defined(__GLIBC__)
      malloc_trim(0);
#endif
    }
    if (m_.releases) m_.releases->Increment();
    used = read();
  }
  std::lock_guard<std::mutex> lock(mu_);
  used_ = used;
  since_check_ = 0;
  SetState(used >= l.hard ? State::kAboveHard : used >= l.soft() ? State::kAboveSoft : State::kNormal, used);
  if (m_.used) m_.used->Set(static_cast<double>(used));
}

void MemoryLimiter::SetState(State s, uint64_t used) {
  if (m_.state) m_.state->Set(static_cast<double>(s));
  if (s == state_) return;
  const State was = state_;
  state_ = s;
  ++changes_since_log_;
  const absl::Time now = absl::Now();
  if (now - last_log_ < kLogEvery) return;
  last_log_ = now;
  auto logger = opts_.logger ? opts_.logger : spdlog::default_logger();
  const std::string others =
      changes_since_log_ > 1 ? StrCat(" (", changes_since_log_ - 1, " more changes since the last report)") : "";
  changes_since_log_ = 0;
  const Limits& l = opts_.limits;
  if (s == State::kNormal) {
    logger->info("memory usage {} MiB is below the soft limit of {} MiB again: data is accepted{}", used / kMiB,
                 l.soft() / kMiB, others);
  } else {
    logger->warn("memory usage {} MiB is {} (soft {} MiB, hard {} MiB; was {}): new data is refused{}", used / kMiB,
                 s == State::kAboveHard ? "above the hard limit" : "above the soft limit", l.soft() / kMiB,
                 l.hard / kMiB, StateName(was), others);
  }
}

State MemoryLimiter::state() const {
  std::lock_guard<std::mutex> lock(mu_);
  return state_;
}

uint64_t MemoryLimiter::used() const {
  std::lock_guard<std::mutex> lock(mu_);
  return used_;
}

uint64_t MemoryLimiter::reserved() const {
  std::lock_guard<std::mutex> lock(mu_);
  return reserved_;
}

absl::Status MemoryLimiter::Refusal() const {
  std::lock_guard<std::mutex> lock(mu_);
  if (state_ == State::kNormal) return absl::OkStatus();
  return absl::ResourceExhaustedError(StrCat("data refused: memory usage ", used_ / kMiB, " MiB is above the ",
                                             opts_.name, " soft limit of ", opts_.limits.soft() / kMiB, " MiB"));
}

absl::Status MemoryLimiter::Reserve(uint64_t bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  const uint64_t soft = opts_.limits.soft();
  if (state_ != State::kNormal) {
    if (m_.refused_above_soft) m_.refused_above_soft->Increment(static_cast<double>(bytes));
    return absl::ResourceExhaustedError(StrCat("request refused: memory usage ", used_ / kMiB, " MiB is above the ",
                                               opts_.name, " soft limit of ", soft / kMiB, " MiB"));
  }
  const uint64_t would = used_ + reserved_ + since_check_ + bytes;
  if (would > soft) {
    if (m_.refused_over_budget) m_.refused_over_budget->Increment(static_cast<double>(bytes));
    return absl::ResourceExhaustedError(
        StrCat("request of ", bytes, " bytes refused: with the ", reserved_ + since_check_,
               " bytes admitted since the last check it would take memory usage (", used_ / kMiB, " MiB) past the ",
               opts_.name, " soft limit of ", soft / kMiB, " MiB"));
  }
  reserved_ += bytes;
  if (m_.reserved) m_.reserved->Set(static_cast<double>(reserved_));
  return absl::OkStatus();
}

void MemoryLimiter::Release(uint64_t bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  bytes = std::min(bytes, reserved_);
  reserved_ -= bytes;
  since_check_ += bytes;
  if (m_.reserved) m_.reserved->Set(static_cast<double>(reserved_));
}

}  // namespace outrigger::memory
