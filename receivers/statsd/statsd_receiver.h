#pragma once
// The StatsD receiver: UDP (batched reads with recvmmsg), TCP (newline-delimited) or
// unixgram, on the collector's event loop. Lines are parsed as views into the datagram
// and aggregated; one Metrics is emitted per aggregation_interval. DogStatsD events and
// service checks become log records right away.

#include <memory>
#include <string>

#include "collector/component/admission.h"
#include "collector/component/component.h"
#include "collector/telemetry/telemetry.h"
#include "receivers/statsd/aggregator.h"
#include "receivers/statsd/config.h"

namespace outrigger::receivers::statsd {

struct Conn;

// Shutdown reads TCP connections until their clients close them, and all of them no
// longer than kDrainMax (or a quarter of the time left before the shutdown deadline, if
// less). A connection whose client has sent whole lines only is also done once it has
// sent nothing for kDrainQuiet (a client that keeps its connection open and idle); one
// holding an unfinished line is waited for until the drain's end, since the rest of
// the line is on its way. kDrainQuiet is long enough for a client on a loaded machine
// or one flushing its last metrics while its own process stops.
inline constexpr absl::Duration kDrainQuiet = absl::Seconds(1);
inline constexpr absl::Duration kDrainMax = absl::Seconds(5);

// UDP: after a read that found only a few datagrams (fewer than 64: a client that sends
// one datagram per metric, as plain StatsD clients do, at up to ~32,000 a second), the
// next read waits kReadHold: datagrams queue in the socket meanwhile and are read
// together, one wake-up per kReadHold instead of one per datagram. Only with a receive
// buffer of at least kHoldMinBuffer as the kernel reports it (socket_buffer_size of half
// that or more, which the kernel doubles, or net.core.rmem_default): the system's
// default of 208 KiB holds ~256 short datagrams, and a client that sends a few hundred
// in a burst right after a quiet spell would overflow it during a hold, where reading at
// once keeps up. A read that finds the socket empty waits for the next datagram (an
// idle receiver does not wake). Not for unixgram, whose senders block when its queue
// (net.unix.max_dgram_qlen, 10 by default) is full.
inline constexpr absl::Duration kReadHold = absl::Milliseconds(2);
inline constexpr int kHoldMinBuffer = 1 << 20;  // bytes, as getsockopt(SO_RCVBUF) reports them

class StatsdReceiver : public Receiver, public AdmissionClient {
 public:
  StatsdReceiver(const CreateSettings& settings, const Config& cfg);
  ~StatsdReceiver() override;

  absl::Status Start(Host& host) override;
  absl::Status Shutdown(absl::Time deadline) override;

  // The bound port (UDP/TCP), once started.
  uint16_t port() const;
  // Wake-ups that read the UDP or unixgram socket so far (tests).
  uint64_t datagram_reads() const;

  // Parses and aggregates one datagram or stream chunk of whole lines. Public for tests
  // and benchmarks; called on the event loop.
  void HandleData(std::string_view data);
  // Emits the aggregated metrics now (the timer does this every aggregation_interval).
  void FlushNow();

  struct State;

 private:
  // Counts a refused line (malformed, or dropped on purpose) and logs it, at most
  // every 10 s with the count since.
  void Refuse(std::string_view line, const std::string& why, bool malformed);
  // At shutdown, on the event loop: reads what the connection holds until the client
  // closes it, or sends nothing for kDrainQuiet after a whole line, or the drain's time
  // is up; then closes it. A last line without newline counts only if the client closed
  // the connection.
  void DrainConnection(const std::shared_ptr<Conn>& conn);
  void FinishDrain(const std::shared_ptr<Conn>& conn, bool closed_by_client);

  CreateSettings settings_;
  Config cfg_;
  ReceiverMeter meter_;
  Aggregator aggregator_;
  // Lines refused because they would add a series beyond a limit, by limit.
  prometheus::Counter* over_max_series_;
  prometheus::Counter* over_max_series_per_metric_;
  // Bytes dropped unparsed because the memory limit refused them.
  prometheus::Counter* memory_limit_drops_;
  std::unique_ptr<State> state_;
  // Metrics the pipeline refused (backpressure): retried at the next flush.
  std::unique_ptr<pdata::Metrics> pending_;
  // Rate-limited logging of invalid lines.
  int64_t invalid_since_log_ = 0;
  absl::Time last_invalid_log_ = absl::InfinitePast();
};

}  // namespace outrigger::receivers::statsd
