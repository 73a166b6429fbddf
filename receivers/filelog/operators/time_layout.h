#pragma once
// Timestamp layouts of the stanza `timestamp` block and time_parser: `strptime`
// (stanza's directive set: %Y %m %d %H %M %S %L %f %s %z %Z %b ...), `gotime` (Go's
// reference-time layouts: "2006-01-02T15:04:05.999999999Z07:00") and `epoch`
// (s, ms, us, ns, s.ms, s.us, s.ns). A layout is compiled once at config time into a
// list of tokens; parsing a value allocates nothing.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "collector/pdata/builders.h"

namespace outrigger::receivers::filelog::operators {

class TimeLayout {
 public:
  // `location`: IANA zone for timestamps without an offset ("" or "Local": the local
  // zone; "UTC"). `zone_locations`: abbreviation (as %Z/MST reads it) to IANA zone.
  static absl::StatusOr<TimeLayout> Compile(std::string_view layout_type, std::string_view layout,
                                            std::string_view location = "",
                                            const std::map<std::string, std::string>& zone_locations = {});
  // RFC 3339 with optional fraction (what container runtimes write).
  static const TimeLayout& Rfc3339Nano();

  // Unix nanoseconds. `now_ns` fills in a missing year (syslog-style layouts).
  absl::StatusOr<uint64_t> Parse(const pdata::Value& v, uint64_t now_ns) const;
  absl::StatusOr<uint64_t> ParseString(std::string_view s, uint64_t now_ns) const;
  // Whether Parse reads now_ns (a layout without a year): else the clock need not be read.
  bool needs_now() const { return !has_year_; }

  struct Token {
    int kind = 0;
    std::string lit;  // literal text (kind 0)
  };

 private:
  absl::StatusOr<uint64_t> ParseEpoch(const pdata::Value& v) const;

  std::string type_;  // strptime, gotime, epoch
  bool epoch_ = false;
  std::string layout_;
  std::vector<Token> tokens_;
  int epoch_unit_digits_ = 0;  // epoch: 0 s, 3 ms, 6 us, 9 ns
  bool has_year_ = false;
  bool utc_ = true;  // location is UTC (fast path)
  absl::TimeZone location_;
  std::map<std::string, absl::TimeZone, std::less<>> zones_;
};

}  // namespace outrigger::receivers::filelog::operators
