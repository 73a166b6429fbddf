#pragma once
// Synthetic StatsD / DogStatsD traffic, shared by statsd_blaster and statsd_bench.
//
// `series` distinct series (type + name + tags), each with a fixed type drawn from a
// weighted mix. Series i is named "bench.<type>.m<i % 100>" and tagged
// "env:bench,service:svc<i % 8>,series:<i>[,tagK:vK...]", so every series is a distinct
// aggregation key and each name holds series/100 of them (well under the receiver's
// default max_series_per_metric of 10000). Without tags (tags = 0) the name carries
// the index instead: "bench.<type>.m<i>". Every line carries exactly one value, so
// "lines" and the receiver's accepted metric points are the same count.
//
// A datagram is `lines_per_datagram` lines joined by '\n'; consecutive lines walk the
// series round-robin, so every series is touched once per `series` lines.

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace outrigger::bench {

struct StatsdLoadOptions {
  int series = 1000;
  int lines_per_datagram = 10;
  // Weights per StatsD type: c (counter), g (gauge), ms (timing), h (histogram),
  // d (distribution), s (set).
  std::string mix = "c:40,g:20,ms:25,h:15";
  // Fraction of c, ms, h and d series whose lines carry a sample rate (@0.5 or @0.1).
  double sampled_fraction = 0.25;
  int tags = 3;  // DogStatsD tags per line (at least the 3 above when > 0); 0: plain StatsD
  uint64_t seed = 1;
};

struct MixEntry {
  std::string type;
  double weight;
};

// "c:40,g:20,ms:25,h:15" -> entries; false (with *error) on a malformed mix.
inline bool ParseMix(const std::string& mix, std::vector<MixEntry>* out, std::string* error) {
  out->clear();
  size_t start = 0;
  while (start <= mix.size()) {
    size_t end = mix.find(',', start);
    if (end == std::string::npos) end = mix.size();
    std::string item = mix.substr(start, end - start);
    start = end + 1;
    if (item.empty()) continue;
    size_t colon = item.find(':');
    std::string type = item.substr(0, colon);
    double w = 1;
    if (colon != std::string::npos) {
      try {
        w = std::stod(item.substr(colon + 1));
      } catch (...) {
        w = -1;
      }
    }
    if (type != "c" && type != "g" && type != "ms" && type != "h" && type != "d" && type != "s") {
      *error = "unknown type \"" + type + "\" in mix (expected c, g, ms, h, d, s)";
      return false;
    }
    if (!(w >= 0)) {
      *error = "bad weight in mix item \"" + item + "\"";
      return false;
    }
    if (w > 0) out->push_back({type, w});
  }
  if (out->empty()) {
    *error = "empty mix";
    return false;
  }
  return true;
}

struct SeriesSpec {
  std::string type;    // c g ms h d s
  std::string prefix;  // "<name>:"
  std::string suffix;  // "|<type>[|@rate][|#tags]"
};

inline std::vector<SeriesSpec> MakeSeries(const StatsdLoadOptions& o, const std::vector<MixEntry>& mix) {
  std::vector<SeriesSpec> out;
  out.reserve(static_cast<size_t>(o.series));
  double total = 0;
  for (const auto& m : mix) total += m.weight;
  std::mt19937_64 rng(o.seed);
  std::uniform_real_distribution<double> u(0, 1);
  for (int i = 0; i < o.series; ++i) {
    // Deterministic proportional assignment: the type whose cumulative weight band holds
    // (j + 0.5) / series, so the mix holds exactly over the series.
    // Series are permuted first (7919 is prime), so neighbours, and thus the lines of one
    // datagram, have mixed types.
    const uint64_t n = static_cast<uint64_t>(o.series);
    const uint64_t j = n % 7919 == 0 ? static_cast<uint64_t>(i) : static_cast<uint64_t>(i) * 7919 % n;
    double x = (static_cast<double>(j) + 0.5) / static_cast<double>(n) * total, acc = 0;
    std::string type = mix.back().type;
    for (const auto& m : mix) {
      acc += m.weight;
      if (x < acc) {
        type = m.type;
        break;
      }
    }
    SeriesSpec s;
    s.type = type;
    std::string name = "bench." + type + ".m" + std::to_string(o.tags > 0 ? i % 100 : i);
    s.prefix = name + ":";
    s.suffix = "|" + type;
    const bool can_sample = type == "c" || type == "ms" || type == "h" || type == "d";
    if (can_sample && u(rng) < o.sampled_fraction) s.suffix += u(rng) < 0.5 ? "|@0.5" : "|@0.1";
    if (o.tags > 0) {
      s.suffix += "|#env:bench,service:svc" + std::to_string(i % 8) + ",series:" + std::to_string(i);
      for (int k = 3; k < o.tags; ++k) s.suffix += ",tag" + std::to_string(k) + ":v" + std::to_string((i + k) % 5);
    }
    out.push_back(std::move(s));
  }
  return out;
}

inline std::string RandomValue(const std::string& type, std::mt19937_64& rng) {
  char buf[32];
  if (type == "c") {
    snprintf(buf, sizeof buf, "%d", static_cast<int>(rng() % 10) + 1);
  } else if (type == "g") {
    snprintf(buf, sizeof buf, "%.1f", static_cast<double>(rng() % 100000) / 10.0);
  } else if (type == "ms") {
    snprintf(buf, sizeof buf, "%.2f", static_cast<double>(rng() % 50000) / 100.0 + 0.01);
  } else if (type == "h" || type == "d") {
    snprintf(buf, sizeof buf, "%d", static_cast<int>(rng() % 10000));
  } else {  // s
    snprintf(buf, sizeof buf, "user%d", static_cast<int>(rng() % 100));
  }
  return buf;
}

// `n` datagrams; line k overall (k = d * lines_per_datagram + j) is series k % series.
inline std::vector<std::string> MakeDatagrams(const StatsdLoadOptions& o, const std::vector<SeriesSpec>& series,
                                              size_t n) {
  std::vector<std::string> out;
  out.reserve(n);
  std::mt19937_64 rng(o.seed * 7919 + 17);
  size_t k = 0;
  for (size_t d = 0; d < n; ++d) {
    std::string dg;
    for (int j = 0; j < o.lines_per_datagram; ++j, ++k) {
      const SeriesSpec& s = series[k % series.size()];
      if (j > 0) dg.push_back('\n');
      dg += s.prefix;
      dg += RandomValue(s.type, rng);
      dg += s.suffix;
    }
    out.push_back(std::move(dg));
  }
  return out;
}

// Enough distinct datagrams to walk every series several times, within 64 Ki datagrams.
inline size_t DefaultPoolSize(const StatsdLoadOptions& o) {
  size_t per = static_cast<size_t>(std::max(1, o.lines_per_datagram));
  size_t want = (static_cast<size_t>(o.series) * 4 + per - 1) / per;
  return std::clamp<size_t>(want, 1024, 65536);
}

}  // namespace outrigger::bench
