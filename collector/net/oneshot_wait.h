#pragma once
// Readiness of a descriptor the event loop does not watch all the time. Asio's reactor
// registers each descriptor it owns for reading, edge-triggered, for as long as it owns
// it, so every datagram that arrives wakes the event loop, even while nothing waits to
// read: a receiver that holds its reads to take datagrams in groups (statsd's kReadHold)
// would still wake once per datagram. A OneShotWait watches a raw descriptor through an
// epoll set of its own, armed once per Wait (EPOLLONESHOT), and only that set is known
// to the event loop: between a readiness and the next Wait, arrivals wake nothing.

#include <functional>
#include <memory>

#include "absl/status/statusor.h"
#include "boost/asio/io_context.hpp"
#include "boost/asio/posix/stream_descriptor.hpp"
#include "boost/system/error_code.hpp"

namespace outrigger::net {

class OneShotWait {
 public:
  // `fd` stays the caller's (it is not closed here) and must not be owned by Asio.
  static absl::StatusOr<std::unique_ptr<OneShotWait>> Make(boost::asio::io_context& io, int fd);
  ~OneShotWait();
  OneShotWait(const OneShotWait&) = delete;
  OneShotWait& operator=(const OneShotWait&) = delete;

  // On the event loop: calls `done` once, on the event loop, when the descriptor is
  // readable (soon if it already is), or with operation_aborted after Cancel. One Wait at
  // a time.
  void Wait(std::function<void(const boost::system::error_code&)> done);
  void Cancel();

 private:
  OneShotWait(boost::asio::io_context& io, int fd, int epfd);
  int fd_;
  int epfd_;  // owned through set_
  boost::asio::posix::stream_descriptor set_;
};

}  // namespace outrigger::net
