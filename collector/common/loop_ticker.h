#pragma once
// A callback run every `every` on the shared event loop (no thread of its own), for the
// periodic work of components: a file exporter's flush, span metrics' flush, the
// health_check's sampling of exporter failures, the release of code pages (app.cc).

#include <functional>
#include <memory>
#include <utility>

#include "absl/time/time.h"
#include "boost/asio/io_context.hpp"

namespace outrigger::common {

class LoopTicker {
 public:
  LoopTicker() = default;
  LoopTicker(const LoopTicker&) = delete;
  LoopTicker& operator=(const LoopTicker&) = delete;
  // Like Stop, but leaves the timer to find it stopped when it fires (the event loop may
  // be gone by now).
  ~LoopTicker();

  // Runs `tick` every `every` from now on, on `io`'s thread. A second Start while running
  // is ignored.
  void Start(boost::asio::io_context& io, absl::Duration every, std::function<void()> tick) {
    Start(io, every, every, std::move(tick));
  }
  // The same, with the first tick `first` from now.
  void Start(boost::asio::io_context& io, absl::Duration first, absl::Duration every, std::function<void()> tick);
  // No tick starts after this returns, and a tick running on the loop has ended (so the
  // callback's owner may go). Must not be called from within the tick. Idempotent.
  void Stop();
  bool running() const { return state_ != nullptr; }

 private:
  struct State;
  static void Arm(const std::shared_ptr<State>& s);
  std::shared_ptr<State> state_;
};

}  // namespace outrigger::common
