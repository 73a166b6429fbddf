#include "receivers/filelog/operators/operator.h"

#include <chrono>

#include "collector/common/strings.h"
#include "spdlog/spdlog.h"

namespace outrigger::receivers::filelog::operators {

namespace {

uint64_t MonoNowNs() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
          .count());
}

constexpr uint64_t kLogEveryNs = 10'000'000'000ULL;

}  // namespace

uint64_t WallNowNs() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
}

Operator::Result Operator::Fail(const absl::Status& st) {
  ++stats_->parse_errors;
  const bool drop = on_error_ == OnError::kDrop || on_error_ == OnError::kDropQuiet;
  if (drop) ++stats_->dropped;
  if (on_error_ == OnError::kSend || on_error_ == OnError::kDrop) {
    uint64_t now = MonoNowNs();
    if (last_log_ns_ == 0 || now - last_log_ns_ >= kLogEveryNs) {
      spdlog::warn("filelog operator {} ({}): {}; entry {}{}", id_, type_, st.message(), drop ? "dropped" : "sent on",
                   suppressed_ > 0 ? StrCat(" (", suppressed_, " more errors since the last message)") : "");
      last_log_ns_ = now;
      suppressed_ = 0;
    } else {
      ++suppressed_;
    }
  }
  return drop ? Result::kDrop : Result::kNext;
}

}  // namespace outrigger::receivers::filelog::operators
