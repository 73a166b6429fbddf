#pragma once
// An OTLP exponential histogram of positive values (span durations), as upstream's
// go-expohisto records them: it starts at scale 20 and lowers the scale (merging
// neighbouring buckets) whenever the buckets in use would span more than `max_size`.
// Bucket `i` at scale `s` holds values in (base^i, base^(i+1)], base = 2^(2^-s).
// Zero goes to the zero bucket.

#include <cstdint>
#include <vector>

namespace outrigger::connectors::span_metrics {

class ExponentialHistogram {
 public:
  static constexpr int32_t kMaxScale = 20;

  explicit ExponentialHistogram(int max_size) : max_size_(max_size) {}
  void Record(double v);
  void Reset();  // empty; the scale goes back to kMaxScale

  int32_t scale() const { return scale_; }
  int32_t offset() const { return offset_; }
  uint64_t zero_count() const { return zero_; }
  const std::vector<uint64_t>& counts() const { return counts_; }

  // The bucket index of v > 0 at `scale`.
  static int32_t Index(double v, int32_t scale);

 private:
  void Downscale(int32_t change);

  int max_size_;
  int32_t scale_ = kMaxScale;
  int32_t offset_ = 0;
  std::vector<uint64_t> counts_;
  uint64_t zero_ = 0;
};

}  // namespace outrigger::connectors::span_metrics
