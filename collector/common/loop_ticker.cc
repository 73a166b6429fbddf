#include "collector/common/loop_ticker.h"

#include <mutex>
#include <utility>

#include "boost/asio/post.hpp"
#include "boost/asio/steady_timer.hpp"

namespace outrigger::common {

struct LoopTicker::State {
  explicit State(boost::asio::io_context& io) : timer(io) {}
  boost::asio::steady_timer timer;
  std::mutex mu;               // held while a tick runs; Stop takes it to wait for one
  std::function<void()> tick;  // empty once stopped
  absl::Duration every;
  absl::Duration next;  // until the next tick: `first`, then `every`
};

void LoopTicker::Arm(const std::shared_ptr<State>& s) {
  s->timer.expires_after(absl::ToChronoNanoseconds(std::exchange(s->next, s->every)));
  s->timer.async_wait([s](const boost::system::error_code& ec) {
    if (ec) return;
    {
      std::lock_guard l(s->mu);
      if (!s->tick) return;
      s->tick();
    }
    Arm(s);
  });
}

void LoopTicker::Start(boost::asio::io_context& io, absl::Duration first, absl::Duration every,
                       std::function<void()> tick) {
  if (state_) return;
  state_ = std::make_shared<State>(io);
  state_->tick = std::move(tick);
  state_->every = every;
  state_->next = first;
  boost::asio::post(io, [s = state_] { Arm(s); });
}

LoopTicker::~LoopTicker() {
  if (!state_) return;
  std::lock_guard l(state_->mu);
  state_->tick = nullptr;
}

void LoopTicker::Stop() {
  if (!state_) return;
  {
    std::lock_guard l(state_->mu);  // waits for a running tick
    state_->tick = nullptr;
  }
  auto s = std::move(state_);
  boost::asio::post(s->timer.get_executor(), [s] { s->timer.cancel(); });
}

}  // namespace outrigger::common
