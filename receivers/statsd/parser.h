#pragma once
// StatsD and DogStatsD line parsing. Views into the datagram: nothing is copied.
//
//   <name>:<value>[:<value>...]|<type>[|@<rate>][|#<tag>[:<v>],...][|c:<container>][|T<unix secs>]
//   _e{<title len>,<text len>}:<title>|<text>[|d:<ts>][|h:<host>][|p:<prio>][|t:<alert>][|#<tags>]
//   _sc|<name>|<status>[|d:<ts>][|h:<host>][|#<tags>][|m:<message>]

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace outrigger::receivers::statsd {

enum class MetricType { kCounter, kGauge, kTiming, kHistogram, kDistribution, kSet };
std::string_view TypeName(MetricType t);  // counter, gauge, timing, histogram, distribution, set

struct Tag {
  std::string_view key, value;  // a flag tag has an empty value
};

struct MetricLine {
  std::string_view name;
  MetricType type = MetricType::kCounter;
  std::vector<double> values;  // several with DogStatsD's multi-value lines
  std::string_view set_value;  // sets: the member
  bool gauge_delta = false;    // "+3" / "-3" on a gauge
  double sample_rate = 1.0;
  // The "#" fields as sent, without the "#" (nearly always one): ParseTags reads them.
  // Kept whole so that a line's series can be found again without parsing its tags.
  std::vector<std::string_view> tag_fields;
  std::string_view container_id;
  int64_t timestamp = 0;  // seconds; 0 if absent
};

// Appends the tags of a "#" field's text ("env:prod,canary"): a tag without ":" has an
// empty value; empty tags are skipped.
void ParseTags(std::string_view field, std::vector<Tag>* tags);

struct EventLine {
  std::string_view title, text, hostname, priority, alert_type, aggregation_key, source_type, container_id;
  int64_t timestamp = 0;
  std::vector<Tag> tags;
};

struct ServiceCheckLine {
  std::string_view name, hostname, message, container_id;
  int status = 3;  // 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN
  int64_t timestamp = 0;
  std::vector<Tag> tags;
};

enum class LineKind { kMetric, kEvent, kServiceCheck, kInvalid };

// Parses one line (without its newline). On kInvalid, *error says why. Fields of the
// form `x:...` that are not known (DogStatsD's `e:` external data, `card:` cardinality,
// and later additions) are ignored, as the Datadog agent does.
LineKind ParseLine(std::string_view line, MetricLine* metric, EventLine* event, ServiceCheckLine* check,
                   std::string* error);

// Calls fn(line) for every non-empty line of a datagram or stream chunk.
template <typename Fn>
void ForEachLine(std::string_view data, Fn&& fn) {
  size_t start = 0;
  while (start < data.size()) {
    size_t end = data.find('\n', start);
    if (end == std::string_view::npos) end = data.size();
    std::string_view line = data.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!line.empty()) fn(line);
    start = end + 1;
  }
}

}  // namespace outrigger::receivers::statsd
